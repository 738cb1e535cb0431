"""The pure server choice equals real nginx's, for every Host on every address and port.

corpus/servers.conf has exact, wildcard, `.domain`, regex (one with a capital letter, which
nginx matches without case), empty and conflicting names, a default_server on one listen and
none on others, on two loopback addresses and two ports. Real nginx runs it with each server
answering its own number; every (address, port, Host) must get the server `choose` names.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from proxy.table.nginx import Config, Server, load
from proxy.table.nginx.servers import choose, valid_host
from tests.support.nginx import Nginx, free_port, quote, run_nginx

pytestmark = pytest.mark.integration

CORPUS = Path(__file__).parent / "corpus"

HOSTS = [
    "example.com",
    "EXAMPLE.com",
    "example.com:8080",
    "example.com.",
    "www.example.com",
    "a.example.com",
    "a.b.example.com",
    "api.example.com",
    "x.api.example.com",
    "example.org",
    "sub.example.org",
    "a.b.example.org",
    "www.example.net",
    "www.example.co.uk",
    "www.other",
    "www",
    "acme.tenants.test",
    "ACME.tenants.test",
    "acme1.tenants.test",
    "api12.foo",
    "api.foo",
    "www.abc.test",
    "www.ABC.test",
    "cdn.xyz.test",
    "cdn.x1.test",
    "other.test",
    "unknown.test",
    "127.0.0.1",
    "_",
    "a..b",
    "exa/mple.com",
    None,
]


@pytest.fixture(scope="module")
def oracle() -> Iterator[tuple[Config, dict[int, int], Nginx]]:
    config = load(CORPUS / "servers.conf")
    ports = {8080: 0, 8081: 0}
    for original in ports:
        ports[original] = free_port("127.0.0.1", "127.0.0.2")
    blocks = [_marked(i, server, ports) for i, server in enumerate(config.servers, 1)]
    endpoints = sorted({(x.address, ports[x.port]) for s in config.servers for x in s.listens})
    with run_nginx("\n".join(blocks), endpoints) as nginx:
        yield config, ports, nginx


def _marked(number: int, server: Server, ports: dict[int, int]) -> str:
    listens = "".join(
        f"    listen {x.address}:{ports[x.port]}{''.join(' ' + p for p in x.params)};\n"
        for x in server.listens
    )
    names = " ".join(quote(n) for n in server.names)
    return f'server {{\n{listens}    server_name {names};\n    return 200 "S{number}";\n}}'


@pytest.mark.parametrize("port", [8080, 8081], ids=["port-8080", "port-8081"])
@pytest.mark.parametrize("address", ["127.0.0.1", "127.0.0.2"], ids=["addr-1", "addr-2"])
def test_server_choice_equals_real_nginx_for_every_host(
    oracle: tuple[Config, dict[int, int], Nginx], address: str, port: int
) -> None:
    config, ports, nginx = oracle
    disagreements = []
    for host in HOSTS:
        got = nginx.ask(ports[port], "/", host=host, address=address)
        seen = got.body if got.status == 200 else str(got.status)
        want = _expected(config, address, port, host)
        if seen != want:
            disagreements.append(f"Host {host!r}: nginx {seen!r}, importer {want!r}")
    assert disagreements == [], "\n".join(disagreements)


def _expected(config: Config, address: str, port: int, host: str | None) -> str:
    name = "" if host is None else valid_host(host)
    if name is None:
        return "400"
    server = choose(config, address, port, name)
    assert server is not None
    return f"S{config.servers.index(server) + 1}"


def test_the_corpus_reaches_every_server(oracle: tuple[Config, dict[int, int], Nginx]) -> None:
    config, _, _ = oracle
    reached = {
        _expected(config, address, port, host)
        for address in ("127.0.0.1", "127.0.0.2")
        for port in (8080, 8081)
        for host in HOSTS
    }
    every = {f"S{i}" for i in range(1, len(config.servers) + 1)}
    # the second claim of example.com on 127.0.0.1:8080 is nginx's "conflicting server name"
    assert every - reached == {"S12"}
