"""The same requests through nginx and through the gateway to the same PHP-FPM: PHP must see the
same `$_SERVER`. Twice: through the FastCGI layer called directly (paths.normalise → resolve →
build_params → the codec), and through a real gateway process (`strangler serve`, uvicorn).

Keys that differ on purpose, and why:

- SERVER_SOFTWARE: the gateway names itself.
- HTTP_HOST: Debian's fastcgi_params sends nginx's `$host` (lower case, port dropped); the
  gateway sends the Host header as the client sent it, as upstream nginx and Debian's own
  fastcgi.conf do, so applications on a non-default port build their URLs with it.
- HTTP_CONTENT_TYPE, HTTP_CONTENT_LENGTH: nginx sends the body's headers twice, as CONTENT_*
  and as HTTP_*; the gateway sends them once, as CONTENT_* (what PHP, getallheaders(), Symfony
  and Laravel read), so the only length PHP sees is the one the gateway framed the body with.
- Repeated headers: nginx 1.22 sends one param per header line and PHP keeps the last; the
  gateway joins them as nginx 1.23 and later do (`; ` for cookies, `, ` for others).
- Proxy: nginx passes it as HTTP_PROXY, which PHP hides from `$_SERVER` but not from
  getallheaders(); the gateway never sends it (httpoxy).
- REMOTE_PORT, REQUEST_TIME, REQUEST_TIME_FLOAT: a different connection, a different moment.

Through a gateway process, also:

- SERVER_PORT: the gateway listens on a port of its own.
- HTTP_X_REQUEST_ID: the gateway gives PHP the request id of its log lines (the client's when it
  sent one: these requests send one, so the values agree).
- X-Forwarded-For/-Proto/-Host, X-Real-IP, Forwarded from an untrusted client are not passed
  (REMOTE_ADDR and HTTPS say who the client is); none of these requests sends them.
- A target ending in a bare `?`: ASGI tells "?" from no query apart nowhere, so REQUEST_URI
  arrives without it (the one case whose REQUEST_URI differs, checked as such).
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from proxy.paths import normalise
from proxy.sides.fastcgi.disk import stat_or_none
from proxy.sides.fastcgi.params import CgiRequest, build_params
from proxy.sides.fastcgi.resolve import Redirect, Script, Site, StaticFile, resolve
from tests.gateway.live import LiveGateway, live_gateway
from tests.support.fastcgi_client import fastcgi_request
from tests.support.fpm import Fpm, php_fpm
from tests.support.nginx import http_exchange, nginx_php

pytestmark = pytest.mark.integration

SERVER_PHP = Path(__file__).resolve().parent / "php" / "server.php"
VOLATILE = {"REMOTE_PORT", "REQUEST_TIME", "REQUEST_TIME_FLOAT"}
DELIBERATE = {"SERVER_SOFTWARE", "HTTP_HOST", "HTTP_CONTENT_TYPE", "HTTP_CONTENT_LENGTH"}
Headers = list[tuple[bytes, bytes]]


@dataclass(frozen=True)
class Parity:
    """One document root, served by nginx and reached directly, in front of one PHP-FPM."""

    docroot: Path
    fpm: Fpm
    port: int

    @property
    def host(self) -> bytes:
        return b"127.0.0.1:%d" % self.port


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Parity]:
    docroot = tmp_path_factory.mktemp("parity") / "public"
    (docroot / "sub").mkdir(parents=True)
    for name in ("index.php", "server.php", "a b.php", "sub/index.php"):
        shutil.copy(SERVER_PHP, docroot / name)
    (docroot / "static.txt").write_text("plain text\n")
    with php_fpm(children=2) as fpm, nginx_php(docroot, fpm.socket) as port:
        yield Parity(docroot, fpm, port)


def through_nginx(site: Parity, method: str, target: bytes, headers: Headers, body: bytes) -> Any:
    status, _, payload = http_exchange(site.port, method, target, headers, body)
    assert status == 200, payload[:300]
    return json.loads(payload)


def through_gateway(site: Parity, method: str, target: bytes, headers: Headers, body: bytes) -> Any:
    raw_path, _, query = target.partition(b"?")
    path = normalise(raw_path)
    script = resolve(path, Site(str(site.docroot)), stat_or_none)
    assert isinstance(script, Script), script
    request = CgiRequest(
        method=method,
        target=target,
        query=query,
        headers=[(name.lower(), value) for name, value in headers],
        client=("127.0.0.1", 40000),
        server=("127.0.0.1", site.port),
        scheme="http",
        server_name="localhost",
    )
    answer = fastcgi_request(
        site.fpm.socket, build_params(request, script, str(site.docroot)), body
    )
    head = answer.head
    assert head.status == 200, answer.stdout[:300]
    return json.loads(head.body)


def form(body: bytes, kind: bytes = b"application/x-www-form-urlencoded") -> Headers:
    return [(b"Content-Type", kind), (b"Content-Length", b"%d" % len(body))]


CASES = [
    pytest.param("GET", b"/server.php", [], b"", id="script"),
    pytest.param("GET", b"/server.php?a=%20b+c&d=%zz&e[]=1&e[]=2&&f==g&%C3%A9=%E2%82%AC", [], b"",
                 id="odd-query-encodings"),
    pytest.param("GET", b"/server.php?", [], b"", id="empty-query-after-question-mark"),
    pytest.param("GET", b"/server.php/some/path%20info?x=1", [], b"", id="path-info-decoded"),
    pytest.param("GET", b"/ser%76er.php", [], b"", id="encoded-script-name"),
    pytest.param("GET", b"/a%20b.php/x%2Ey", [], b"", id="script-name-with-space"),
    pytest.param("GET", b"/sub/../server.php", [], b"", id="dot-dot-in-target"),
    pytest.param("GET", b"//server.php", [], b"", id="repeated-slash"),
    pytest.param("GET", b"/no/such/page?q=1&r=%2F", [], b"", id="front-controller"),
    pytest.param("GET", b"/caf%C3%A9/men%C3%BC", [], b"", id="front-controller-utf8"),
    pytest.param("GET", b"/index.php/a/b", [], b"", id="front-controller-path-info"),
    pytest.param("GET", b"/", [], b"", id="root-index"),
    pytest.param("GET", b"/sub/?x=1", [], b"", id="directory-index"),
    pytest.param("POST", b"/server.php", form(b"a=1&b=%C3%A9"), b"a=1&b=%C3%A9", id="post-form"),
    pytest.param("PUT", b"/server.php?id=3", form(bytes(range(256)) * 400,
                 b"application/octet-stream"), bytes(range(256)) * 400, id="put-binary"),
    pytest.param("PATCH", b"/server.php", form(b'{"a":1}', b"application/json"), b'{"a":1}',
                 id="patch-json"),
    pytest.param("DELETE", b"/server.php?id=3", [], b"", id="delete"),
    pytest.param("OPTIONS", b"/server.php", [], b"", id="options"),
    pytest.param("GET", b"/server.php", [
        (b"User-Agent", b"parity/1.0"),
        (b"Accept-Language", b"fr-CH, fr;q=0.9"),
        (b"Cookie", b"session=abc; theme=dark"),
        (b"Authorization", b"Basic YW5uOnNlY3JldA=="),
        (b"X-Empty", b""),
        (b"X-Request-Id", b"r-1"),
        (b"Referer", b"http://127.0.0.1/from?x=1"),
    ], b"", id="headers-cookie-basic-auth-empty-value"),
    pytest.param("GET", b"/server.php", [(b"Proxy", b"http://evil:3128")], b"",
                 id="proxy-header-httpoxy"),
    pytest.param("GET", b"/server.php", [(b"X_Forwarded_For", b"10.0.0.1")], b"",
                 id="underscore-header-dropped"),
]  # fmt: skip


@pytest.mark.parametrize(("method", "target", "headers", "body"), CASES)
def test_php_sees_the_same_request_through_nginx_and_the_gateway(
    site: Parity, method: str, target: bytes, headers: Headers, body: bytes
) -> None:
    headers = [(b"Host", site.host), *headers]
    nginx = through_nginx(site, method, target, headers, body)
    gateway = through_gateway(site, method, target, headers, body)
    ours, theirs = gateway["server"], nginx["server"]
    compared = (set(ours) | set(theirs)) - VOLATILE - DELIBERATE
    differing = {key: (ours.get(key), theirs.get(key)) for key in compared}
    assert {k: v for k, v in differing.items() if v[0] != v[1]} == {}
    assert ours["SERVER_SOFTWARE"] == "strangler"
    assert theirs["SERVER_SOFTWARE"].startswith("nginx/")
    assert ours["HTTP_HOST"] == site.host.decode()
    assert theirs["HTTP_HOST"] == "127.0.0.1", "Debian's fastcgi_params sends $host"
    compared_headers = [
        {k: v for k, v in side["headers"].items() if k not in {"Host", "Proxy"}}
        for side in (gateway, nginx)
    ]
    assert compared_headers[0] == compared_headers[1]
    assert "Proxy" not in gateway["headers"]
    assert (gateway["body_length"], gateway["body_sha256"]) == (
        nginx["body_length"],
        nginx["body_sha256"],
    )
    assert "HTTP_PROXY" not in ours
    for name in ("CONTENT_TYPE", "CONTENT_LENGTH"):
        assert "HTTP_" + name not in ours
        assert theirs.get("HTTP_" + name, "") == ours[name]


def test_repeated_headers_are_joined_where_nginx_1_22_keeps_the_last(site: Parity) -> None:
    headers = [
        (b"Host", site.host),
        (b"Cookie", b"a=1"),
        (b"X-Rep", b"one"),
        (b"Cookie", b"b=2"),
        (b"X-Rep", b"two"),
    ]
    nginx = through_nginx(site, "GET", b"/server.php", headers, b"")["server"]
    gateway = through_gateway(site, "GET", b"/server.php", headers, b"")["server"]
    assert gateway["HTTP_COOKIE"] == "a=1; b=2"
    assert gateway["HTTP_X_REP"] == "one, two"
    assert (nginx["HTTP_COOKIE"], nginx["HTTP_X_REP"]) == ("b=2", "two")


@pytest.mark.parametrize(
    ("target", "location"),
    [
        pytest.param(b"/sub", b"/sub/", id="directory"),
        pytest.param(b"/sub?a=1&b=%20", b"/sub/?a=1&b=%20", id="directory-with-query"),
    ],
)
def test_a_directory_without_its_slash_redirects_as_nginx_does(
    site: Parity, target: bytes, location: bytes
) -> None:
    status, headers, _ = http_exchange(site.port, "GET", target, [(b"Host", site.host)])
    assert status == 301
    assert dict(headers)["Location"] == f"http://{site.host.decode()}{location.decode()}"
    raw_path, _, query = target.partition(b"?")
    outcome = resolve(normalise(raw_path), Site(str(site.docroot)), stat_or_none)
    assert isinstance(outcome, Redirect)
    assert outcome.location(query) == location


def test_a_static_file_is_the_file_nginx_serves(site: Parity) -> None:
    status, _, body = http_exchange(site.port, "GET", b"/static.txt", [(b"Host", site.host)])
    outcome = resolve("/static.txt", Site(str(site.docroot)), stat_or_none)
    assert status == 200
    assert isinstance(outcome, StaticFile)
    assert Path(outcome.path).read_bytes() == body
    assert outcome.stat.st_size == len(body)


# ---------------------------------------------------------------- through a gateway process

LISTENER = {"SERVER_PORT"}
BARE_QUESTION_MARK = "empty-query-after-question-mark"


@pytest.fixture(scope="module")
def gateway(site: Parity, tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveGateway]:
    table = f"version: 1\nlegacy:\n  fastcgi: unix:{site.fpm.socket}\n  root: {site.docroot}\n"
    with live_gateway(table, tmp_path_factory.mktemp("parity-gw")) as live:
        yield live


@pytest.mark.parametrize(("method", "target", "headers", "body"), CASES)
def test_php_sees_the_same_request_through_nginx_and_a_gateway_process(
    request: pytest.FixtureRequest,
    site: Parity,
    gateway: LiveGateway,
    method: str,
    target: bytes,
    headers: Headers,
    body: bytes,
) -> None:
    case = request.node.callspec.id
    # the same Host to both: SERVER_NAME is nginx's server_name, and the Host's name here
    headers = [(b"Host", b"localhost:%d" % site.port), (b"X-Request-ID", b"parity-1"), *headers]
    nginx = through_nginx(site, method, target, headers, body)
    status, _, payload = http_exchange(gateway.port, method, target, headers, body)
    assert status == 200, payload[:300]
    ours_whole = json.loads(payload)
    ours, theirs = ours_whole["server"], nginx["server"]
    compared = (set(ours) | set(theirs)) - VOLATILE - DELIBERATE - LISTENER
    differing = {k: (ours.get(k), theirs.get(k)) for k in compared if ours.get(k) != theirs.get(k)}
    if case == BARE_QUESTION_MARK:
        assert differing == {"REQUEST_URI": ("/server.php", "/server.php?")}
    else:
        assert differing == {}
    assert ours["SERVER_PORT"] == str(gateway.port)
    assert ours["HTTP_X_REQUEST_ID"] == theirs["HTTP_X_REQUEST_ID"]
    compared_headers = [
        {k: v for k, v in side["headers"].items() if k not in {"Host", "Proxy"}}
        for side in (ours_whole, nginx)
    ]
    assert compared_headers[0] == compared_headers[1]
    assert (ours_whole["body_length"], ours_whole["body_sha256"]) == (
        nginx["body_length"],
        nginx["body_sha256"],
    )
