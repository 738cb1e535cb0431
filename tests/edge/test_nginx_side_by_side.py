"""The same raw requests to real nginx and to the edge protocol, side by side.

nginx (1.22, its defaults, `proxy_pass` to a recording app) and the edge server (the same
limits) get the same bytes; each case records what nginx answers and whether it closes, and
asserts what the edge answers. They agree on which requests are refused and on closing the
connection after a refusal. Where the statuses differ, the case says why:

- head sizes: nginx answers 400 for a header line or head over its buffers; the edge answers 431
  (RFC 6585, as the issue asks); the request line is 414 on both. nginx's bound on the whole
  head depends on how its lines pack into four 8 KiB buffers; the edge's is 32 KiB of bytes.
- header count: nginx bounds header lines only by bytes; the edge also refuses a 101st.
- Host: nginx lets through `@`, `<`, `"`, `\\`, `?`, `#`, bytes over 0x7f and a port that is
  not digits; the edge refuses them (none is in a real host; all have helped poison URLs).
- bare LF line ends and header names like `X@Y`: nginx is lenient (takes the line, drops the
  name); llhttp refuses the request, as the edge does.
- a body that stops coming: nginx closes without an answer; the edge answers 408 first.
- a body after an Upgrade the server does not make: nginx reads it as a body; llhttp would
  skip it and parse it as the next request, so the edge refuses such a request.
"""

from __future__ import annotations

import socket
import time
from collections.abc import Iterator
from dataclasses import dataclass

import pytest

from proxy.edge import EdgeLimits
from tests.edge.servers import (
    Recorder,
    Reply,
    exchange,
    free_port,
    header_line,
    read_reply,
    request_line,
    serving,
)
from tests.support.nginx import run_nginx

pytestmark = pytest.mark.integration

TIMEOUT = 0.5  # client_header_timeout, client_body_timeout, keepalive_timeout on both sides
LIMITS = EdgeLimits(
    header_timeout=TIMEOUT,
    body_timeout=TIMEOUT,
    keepalive_timeout=TIMEOUT,
    lingering_timeout=TIMEOUT,
)
SETTLE = TIMEOUT * 4

# the `http {}` body nginx runs (tests.support.nginx adds pid, logs and temp paths)
NGINX_HTTP = """
    client_header_timeout {ms}ms;
    client_body_timeout {ms}ms;
    keepalive_timeout {ms}ms;
    lingering_timeout {ms}ms;
    server {{
        listen 127.0.0.1:{port};
        location / {{
            proxy_pass http://127.0.0.1:{upstream};
            proxy_set_header Host $host;
        }}
    }}
"""


@dataclass
class Sides:
    nginx: int
    edge: int
    behind_nginx: Recorder
    behind_edge: Recorder


@pytest.fixture(scope="module")
def sides() -> Iterator[Sides]:
    behind_nginx, behind_edge = Recorder(), Recorder()
    with serving(behind_nginx, stock=True) as upstream, serving(behind_edge, LIMITS) as edge:
        port = free_port()
        body = NGINX_HTTP.format(ms=int(TIMEOUT * 1000), port=port, upstream=upstream.port)
        with run_nginx(body, [("127.0.0.1", port)]):
            yield Sides(port, edge.port, behind_nginx, behind_edge)


def get(*lines: bytes, target: bytes = b"/", host: bytes | None = b"a.test") -> bytes:
    head = [b"GET " + target + b" HTTP/1.1\r\n"]
    if host is not None:
        head.append(b"Host: " + host + b"\r\n")
    return b"".join([*head, *lines, b"\r\n"])


def _head_of(size: int) -> bytes:
    start = get()[:-2]
    lines, left = [], size - len(start) - 2
    while left > 8010:
        lines.append(header_line(8000))
        left -= 8000
    return start + b"".join([*lines, header_line(left)]) + b"\r\n"


# id → (request bytes, nginx's status, the edge's status); None: closed without an answer
CASES: dict[str, tuple[bytes, int | None, int | None]] = {
    "request-line-at-8192": (request_line(8192) + b"Host: a\r\n\r\n", 200, 200),
    "request-line-at-8193": (request_line(8193) + b"Host: a\r\n\r\n", 414, 414),
    "header-line-at-8192": (get(header_line(8192)), 200, 200),
    "header-line-at-8193": (get(header_line(8193)), 400, 431),
    "head-in-four-8000-byte-lines": (get(*[header_line(8000)] * 4), 200, 200),
    # nginx's bound depends on how lines pack into its four 8 KiB buffers: five lines of 32768
    # bytes in all do not fit; the edge counts bytes, whatever the lines
    "head-of-32768-in-five-lines": (_head_of(32768), 400, 200),
    "head-of-40000": (_head_of(40000), 400, 431),
    "10000-headers": (get(*[b"X-A: b\r\n"] * 10_000), 400, 431),
    "101-headers": (get(*[b"X-A: b\r\n"] * 100), 200, 431),
    "1MB-cookie": (get(b"Cookie: " + b"c" * 1_000_000 + b"\r\n"), 400, 431),
    "200KB-header": (get(header_line(200_000)), 400, 431),
    "http-1.1-without-host": (get(host=None), 400, 400),
    "http-1.0-without-host": (b"GET / HTTP/1.0\r\n\r\n", 200, 200),
    "two-hosts": (get(b"Host: b.test\r\n"), 400, 400),
    "host-with-space": (get(host=b"a b"), 400, 400),
    "host-with-slash": (get(host=b"a/b"), 400, 400),
    "host-with-dot-dot": (get(host=b"a..b"), 400, 400),
    "empty-host": (get(host=b""), 400, 400),
    "host-with-userinfo": (get(host=b"evil.test@a.test"), 200, 400),
    "host-with-angle-bracket": (get(host=b"a<b"), 200, 400),
    "host-not-ascii": (get(host=b"caf\xc3\xa9.test"), 200, 400),
    "port-not-digits": (get(host=b"a.test:8x"), 200, 400),
    "absolute-form": (get(target=b"http://b.test/x", host=b"other.test"), 200, 200),
    "absolute-form-without-host": (get(target=b"http://b.test/x", host=None), 400, 400),
    "absolute-form-userinfo": (get(target=b"http://u@b.test/x"), 400, 400),
    "absolute-form-bad-host": (get(target=b"http://b..test/x"), 400, 400),
    "underscore-header": (get(b"X_Dry_Run: 1\r\n"), 200, 200),
    "dotted-header": (get(b"X.Y: 1\r\n"), 200, 200),
    "at-sign-header": (get(b"X@Y: 1\r\n"), 200, 400),
    "bare-lf-lines": (b"GET / HTTP/1.1\nHost: a.test\n\n", 200, 400),
    "blank-lines-first": (b"\r\n\r\n" + get(), 200, 200),
    # nginx ignores an Upgrade it does not proxy and reads the body; llhttp would skip the body
    # and parse it as a request, so the edge refuses the request
    "body-after-upgrade": (
        b"POST / HTTP/1.1\r\nHost: a\r\nUpgrade: h2c\r\nConnection: Upgrade\r\n"
        b"Content-Length: 2\r\n\r\nab",
        200,
        400,
    ),
    "length-and-chunked": (
        b"POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n"
        b"0\r\n\r\n",
        400,
        400,
    ),
    "two-lengths": (
        b"POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\nab",
        400,
        400,
    ),
}


def both(sides: Sides, data: bytes) -> tuple[Reply, Reply]:
    return exchange(sides.nginx, data, SETTLE), exchange(sides.edge, data, SETTLE)


@pytest.mark.parametrize(("data", "nginx_status", "edge_status"), CASES.values(), ids=CASES)
def test_nginx_and_the_edge_refuse_the_same_requests_and_close_after(
    sides: Sides, data: bytes, nginx_status: int | None, edge_status: int | None
) -> None:
    nginx, edge = both(sides, data)
    assert (nginx.status, edge.status) == (nginx_status, edge_status)
    if nginx_status != 200:
        assert nginx.closed and edge.closed


@pytest.mark.parametrize(
    ("header", "name"),
    [
        pytest.param(b"X_Dry_Run: 1\r\n", b"x_dry_run", id="underscore"),
        pytest.param(b"X.Y: 1\r\n", b"x.y", id="dot"),
    ],
)
def test_neither_passes_a_header_name_nginx_drops(sides: Sides, header: bytes, name: bytes) -> None:
    marker = b"X-Case: %d\r\n" % time.monotonic_ns()
    both(sides, get(marker, header))
    for recorder in (sides.behind_nginx, sides.behind_edge):
        seen = [s for s in recorder.seen if s.header(b"x-case") == [marker[8:-2]]]
        assert len(seen) == 1
        assert seen[0].header(name) == []


def test_both_take_the_host_and_path_from_an_absolute_form_target(sides: Sides) -> None:
    marker = b"X-Case: %d\r\n" % time.monotonic_ns()
    both(sides, get(marker, target=b"http://b.test/x?q=1", host=b"other.test"))
    for recorder in (sides.behind_nginx, sides.behind_edge):
        seen = next(s for s in recorder.seen if s.header(b"x-case") == [marker[8:-2]])
        assert (seen.header(b"host"), seen.path, seen.query) == ([b"b.test"], "/x", b"q=1")


@pytest.mark.parametrize(
    "sent",
    [
        pytest.param(b"", id="idle"),
        pytest.param(b"GET / HTTP/1.1\r\nHost: a.test\r\n", id="half-sent-head"),
    ],
)
def test_both_close_a_late_head_without_an_answer(sides: Sides, sent: bytes) -> None:
    nginx, edge = both(sides, sent)
    assert (nginx.status, nginx.closed) == (None, True)
    assert (edge.status, edge.closed) == (None, True)


def test_both_close_a_stalled_body_and_only_the_edge_answers_408(sides: Sides) -> None:
    nginx, edge = both(sides, b"POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 10\r\n\r\nabc")
    assert (nginx.status, nginx.closed) == (None, True)
    assert (edge.status, edge.closed) == (408, True)


def test_both_close_an_idle_kept_alive_connection(sides: Sides) -> None:
    for port in (sides.nginx, sides.edge):
        with socket.create_connection(("127.0.0.1", port)) as sock:
            sock.sendall(get())
            first = read_reply(sock, SETTLE)
        assert (first.status, first.closed) == (200, True)


def test_a_pipelined_refusal_follows_the_answer_before_it_on_both(sides: Sides) -> None:
    data = get() + get(header_line(9000))
    for port, refused in ((sides.nginx, b" 400 "), (sides.edge, b" 431 ")):
        with socket.create_connection(("127.0.0.1", port)) as sock:
            sock.sendall(data)
            raw = _read_all(sock)
        assert raw.startswith(b"HTTP/1.1 200 ")
        assert refused in raw.split(b"\r\n\r\n", 1)[1]


def _read_all(sock: socket.socket) -> bytes:
    sock.settimeout(SETTLE)
    raw = b""
    try:
        while chunk := sock.recv(65536):
            raw += chunk
    except (TimeoutError, ConnectionResetError):
        pass
    return raw
