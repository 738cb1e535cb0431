"""`strangler serve --tls-cert --tls-key`: the gateway as the TLS front door, with a certificate
made at test time (trustme); the scheme reaches the sides as https."""

from __future__ import annotations

import socket
import ssl
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
import trustme

from tests.gateway.conftest import table_text
from tests.gateway.live import LiveGateway, live_gateway, php_echo
from tests.support.services import ROOT

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def ca() -> trustme.CA:
    return trustme.CA()


@pytest.fixture(scope="module")
def pem(ca: trustme.CA, tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    directory = tmp_path_factory.mktemp("tls")
    cert = ca.issue_cert("localhost", "127.0.0.1")
    chain, key = directory / "cert.pem", directory / "key.pem"
    chain.write_bytes(b"".join(blob.bytes() for blob in cert.cert_chain_pems))
    key.write_bytes(cert.private_key_pem.bytes())
    return chain, key


@pytest.fixture(scope="module")
def trusting(ca: trustme.CA) -> ssl.SSLContext:
    context = ssl.create_default_context()
    ca.configure_trust(context)
    return context


@pytest.fixture(scope="module")
def gateway(
    pem: tuple[Path, Path], trusting: ssl.SSLContext, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[LiveGateway]:
    directory = tmp_path_factory.mktemp("gw")
    with php_echo(directory) as php:
        args = ["--tls-cert", str(pem[0]), "--tls-key", str(pem[1])]
        with live_gateway(table_text(php), directory, args=args, verify=trusting) as live:
            yield live


def test_requests_reach_php_over_tls_as_https(
    gateway: LiveGateway, trusting: ssl.SSLContext
) -> None:
    assert gateway.url.startswith("https://")
    with httpx.Client(base_url=gateway.url, verify=trusting) as client:
        seen = client.get("/tls", headers={"X-Forwarded-Proto": "http"}).json()
    headers = {name.lower(): value for name, value in seen["headers"]}
    # the client's own claim is replaced by what the gateway saw: an https connection
    assert headers["x-forwarded-proto"] == "https"


def test_a_redirect_to_the_upstream_is_rewritten_to_https(
    gateway: LiveGateway, trusting: ssl.SSLContext
) -> None:
    with httpx.Client(base_url=gateway.url, verify=trusting) as client:
        # PHP answers a 302 to http://127.0.0.1:<its own port>/next
        answer = client.get("/r", params={"redirect": "/next"})
    assert answer.status_code == 302
    assert answer.headers["location"] == f"https://127.0.0.1:{gateway.port}/next"


def test_plain_http_on_the_tls_port_gets_no_answer(gateway: LiveGateway) -> None:
    with socket.create_connection(("127.0.0.1", gateway.port), timeout=5) as sock:
        sock.sendall(b"GET / HTTP/1.1\r\nHost: localhost\r\n\r\n")
        data = b""
        try:
            while chunk := sock.recv(4096):
                data += chunk
        except ConnectionResetError:
            pass
    assert not data.startswith(b"HTTP/1.1 200")


def strangler(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "proxy.cli", *args],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=30,
        check=False,
    )


def test_a_certificate_without_its_key_is_a_usage_error(pem: tuple[Path, Path]) -> None:
    result = strangler("serve", "--tls-cert", str(pem[0]))
    assert result.returncode == 2
    assert "--tls-cert and --tls-key go together" in result.stderr


@pytest.mark.parametrize("broken", ["missing", "not a key"])
def test_a_bad_certificate_or_key_stops_the_start_with_a_clear_error(
    pem: tuple[Path, Path], tmp_path: Path, broken: str
) -> None:
    (tmp_path / "routing.yaml").write_text(table_text("http://127.0.0.1:9"))
    key = tmp_path / "absent.pem"
    if broken == "not a key":
        key.write_text("not a key\n")
    result = strangler(
        "serve", "--config", str(tmp_path / "routing.yaml"),
        "--tls-cert", str(pem[0]), "--tls-key", str(key),
    )  # fmt: skip
    assert result.returncode == 1
    assert "--tls-cert/--tls-key:" in result.stderr
    assert str(key) in result.stderr or "not a certificate" in result.stderr
