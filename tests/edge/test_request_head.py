"""Request-head validity as nginx: Host rules, absolute-form targets, the names it drops.

Where the server is stricter than nginx (Host characters no host has), the case says so; the
side-by-side test (test_nginx_side_by_side.py) runs the same bytes through nginx.
"""

from __future__ import annotations

import socket
import time
from collections.abc import Iterator

import pytest

from proxy.edge import EdgeLimits
from tests.edge.servers import Recorder, Running, exchange, read_reply, serving


@pytest.fixture(scope="module")
def app() -> Recorder:
    return Recorder()


@pytest.fixture(scope="module")
def server(app: Recorder) -> Iterator[Running]:
    with serving(app, EdgeLimits(lingering_timeout=0.3)) as running:
        yield running


def get(*lines: bytes, target: bytes = b"/", version: bytes = b"1.1") -> bytes:
    return b"GET " + target + b" HTTP/" + version + b"\r\n" + b"".join(lines) + b"\r\n"


@pytest.mark.parametrize(
    "request_bytes",
    [
        pytest.param(get(), id="http-1.1-without-host"),
        pytest.param(get(b"Host: a\r\n", b"Host: a\r\n"), id="two-hosts"),
        pytest.param(get(b"Host: a\r\n", b"host: b\r\n"), id="two-hosts-differing"),
        pytest.param(get(b"Host: a b\r\n"), id="host-with-space"),
        pytest.param(get(b"Host: a\tb\r\n"), id="host-with-tab"),
        pytest.param(get(b"Host: \r\n"), id="empty-host"),
        pytest.param(get(b"Host: a/b\r\n"), id="host-with-slash"),
        pytest.param(get(b"Host: a..b\r\n"), id="host-with-dot-dot"),
        pytest.param(get(b"Host: :80\r\n"), id="port-without-host"),
        # stricter than nginx, which lets these through
        pytest.param(get(b"Host: evil.test@a.test\r\n"), id="host-with-userinfo"),
        pytest.param(get(b"Host: a<b\r\n"), id="host-with-angle-bracket"),
        pytest.param(get(b'Host: a"b\r\n'), id="host-with-quote"),
        pytest.param(get(b"Host: a\\b\r\n"), id="host-with-backslash"),
        pytest.param(get(b"Host: a?b\r\n"), id="host-with-question-mark"),
        pytest.param(get(b"Host: a#b\r\n"), id="host-with-hash"),
        pytest.param(get(b"Host: caf\xc3\xa9.test\r\n"), id="host-not-ascii"),
        pytest.param(get(b"Host: a.test:8x\r\n"), id="port-not-digits"),
        pytest.param(get(b"Host: a\r\n", target=b"http://a..b/x"), id="absolute-bad-host"),
        pytest.param(get(b"Host: a\r\n", target=b"http://u@a.test/"), id="absolute-userinfo"),
        pytest.param(get(target=b"http://a.test/x"), id="absolute-without-host-header"),
    ],
)
def test_a_bad_host_is_refused_with_400(
    server: Running, app: Recorder, request_bytes: bytes
) -> None:
    before = len(app.seen)
    reply = exchange(server.port, request_bytes)
    assert (reply.status, reply.closed) == (400, True)
    assert reply.json()["error"] == "missing, duplicate or invalid Host"
    assert len(app.seen) == before
    assert server.refusals[-1][0] == "bad_host"


@pytest.mark.parametrize(
    ("request_bytes", "host"),
    [
        pytest.param(get(version=b"1.0"), [], id="http-1.0-needs-none"),
        pytest.param(get(b"Host: a.test:8080\r\n"), [b"a.test:8080"], id="name-and-port"),
        pytest.param(get(b"Host: [::1]:80\r\n"), [b"[::1]:80"], id="ip-literal"),
        pytest.param(get(b"Host: a_b.test\r\n"), [b"a_b.test"], id="underscore-in-name"),
        pytest.param(get(b"Host: a.test.\r\n"), [b"a.test."], id="trailing-dot"),
    ],
)
def test_a_good_host_reaches_the_app_as_sent(
    server: Running, app: Recorder, request_bytes: bytes, host: list[bytes]
) -> None:
    assert exchange(server.port, request_bytes).status == 200
    assert app.seen[-1].header(b"host") == host


@pytest.mark.parametrize(
    ("target", "host", "path", "query"),
    [
        pytest.param(b"http://a.test/x?q=1", b"a.test", "/x", b"q=1", id="path-and-query"),
        pytest.param(b"http://a.test:8080/x", b"a.test:8080", "/x", b"", id="with-port"),
        pytest.param(b"http://a.test", b"a.test", "/", b"", id="no-path"),
        pytest.param(b"https://A.test/%7Ex", b"A.test", "/~x", b"", id="https-scheme"),
        pytest.param(b"http://a.test?q", b"a.test", "/", b"q", id="query-without-path"),
    ],
)
def test_an_absolute_form_target_gives_the_host_and_the_path(
    server: Running, app: Recorder, target: bytes, host: bytes, path: str, query: bytes
) -> None:
    reply = exchange(server.port, get(b"Host: other.test\r\n", target=target))
    assert reply.status == 200
    seen = app.seen[-1]
    assert (seen.header(b"host"), seen.path, seen.query) == ([host], path, query)


def test_an_absolute_form_target_on_http_1_0_needs_no_host_header(
    server: Running, app: Recorder
) -> None:
    assert exchange(server.port, get(target=b"http://a.test/x", version=b"1.0")).status == 200
    assert app.seen[-1].header(b"host") == [b"a.test"]


@pytest.mark.parametrize(
    "name",
    [
        pytest.param(b"X_Strangler_Dry_Run", id="underscores"),
        pytest.param(b"X_Forwarded_Proto", id="php-reads-it-as-a-dash"),
        pytest.param(b"Host_", id="host-with-underscore-is-not-host"),
        pytest.param(b"X.Y", id="dot"),
        pytest.param(b"X~Y", id="tilde"),
        pytest.param(b"X!Y", id="bang"),
        pytest.param(b"X'Y", id="quote"),
    ],
)
def test_a_header_name_nginx_drops_never_reaches_the_app(
    server: Running, app: Recorder, name: bytes
) -> None:
    reply = exchange(server.port, get(b"Host: a.test\r\n", name + b": 1\r\n", b"X-Kept: 2\r\n"))
    assert reply.status == 200
    names = [n for n, _ in app.seen[-1].headers]
    assert names == [b"host", b"x-kept"]


def test_a_header_name_the_parser_refuses_is_a_bad_request(server: Running) -> None:
    """nginx drops `X@Y` silently; the parser refuses it outright (a difference kept: llhttp
    is strict, and its leniency flags would also loosen what it takes in values)."""
    reply = exchange(server.port, get(b"Host: a.test\r\n", b"X@Y: 1\r\n"))
    assert (reply.status, reply.closed) == (400, True)
    assert server.refusals[-1][0] == "bad_request"


SPLIT = b"POST /x?y=1 HTTP/1.1\r\nHost: a.test\r\nContent-Length: 3\r\n\r\nabc"


@pytest.mark.parametrize("cut", range(1, len(SPLIT)))
def test_a_request_split_at_any_byte_is_served_alike(
    server: Running, app: Recorder, cut: int
) -> None:
    with socket.create_connection(("127.0.0.1", server.port)) as sock:
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        sock.sendall(SPLIT[:cut])
        time.sleep(0.005)  # two reads on the server's side
        sock.sendall(SPLIT[cut:])
        reply = read_reply(sock, settle=0.2)
    assert (reply.status, reply.closed) == (200, False)
    assert (app.seen[-1].path, app.seen[-1].query, app.seen[-1].body) == ("/x", b"y=1", b"abc")


HIDDEN = b"GET /hidden HTTP/1.1\r\nHost: a.test\r\n\r\n"


@pytest.mark.parametrize(
    "framing",
    [
        pytest.param(b"Content-Length: %d\r\n\r\n" % len(HIDDEN) + HIDDEN, id="content-length"),
        pytest.param(
            b"Transfer-Encoding: chunked\r\n\r\n%x\r\n%s\r\n0\r\n\r\n" % (len(HIDDEN), HIDDEN),
            id="chunked",
        ),
    ],
)
def test_a_body_after_an_upgrade_the_server_does_not_make_is_refused_not_parsed_as_a_request(
    server: Running, app: Recorder, framing: bytes
) -> None:
    """The parser skips the body of a request asking for an upgrade; parsed as the next
    request, it would be one a proxy in front never saw (nginx reads it as a body)."""
    before = len(app.seen)
    head = b"POST /outer HTTP/1.1\r\nHost: a.test\r\nUpgrade: h2c\r\nConnection: Upgrade\r\n"
    reply = exchange(server.port, head + framing)
    assert (reply.status, reply.closed) == (400, True)
    assert app.seen[before:] == []


def test_an_upgrade_the_server_does_not_make_without_a_body_is_served(
    server: Running, app: Recorder
) -> None:
    head = b"GET /plain HTTP/1.1\r\nHost: a.test\r\nUpgrade: h2c\r\nConnection: Upgrade\r\n\r\n"
    assert exchange(server.port, head).status == 200
    assert app.seen[-1].path == "/plain"
