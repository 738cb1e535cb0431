"""Head limits, from raw sockets: refused while reading, each at its edge, then closed.

The defaults are nginx's (large_client_header_buffers 4 8k): a request line or a header line
of 8192 bytes (CRLF included) passes and one of 8193 is refused, as nginx does on the same
bytes (see test_nginx_side_by_side.py); the head is bounded at 32 KiB and 100 header lines.
"""

from __future__ import annotations

import socket
from collections.abc import Iterator

import pytest

from proxy.edge import EdgeLimits
from tests.edge.servers import (
    Recorder,
    Running,
    exchange,
    header_line,
    read_replies,
    read_reply,
    request_line,
    serving,
)

HOST = b"Host: a.test\r\n"


@pytest.fixture(scope="module")
def server() -> Iterator[Running]:
    with serving(Recorder(), EdgeLimits(lingering_timeout=0.5)) as running:
        yield running


def head(*lines: bytes, first: bytes = b"GET / HTTP/1.1\r\n") -> bytes:
    return first + HOST + b"".join(lines) + b"\r\n"


@pytest.mark.parametrize(
    ("request_bytes", "status"),
    [
        pytest.param(request_line(8192) + HOST + b"\r\n", 200, id="request-line-at-8192"),
        pytest.param(request_line(8193) + HOST + b"\r\n", 414, id="request-line-at-8193"),
        pytest.param(head(header_line(8192)), 200, id="header-line-at-8192"),
        pytest.param(head(header_line(8193)), 431, id="header-line-at-8193"),
        pytest.param(head(*[b"X-A: b\r\n"] * 99), 200, id="100-header-lines"),
        pytest.param(head(*[b"X-A: b\r\n"] * 100), 431, id="101-header-lines"),
        pytest.param(head(*[b"X-A: b\r\n"] * 10_000), 431, id="10000-header-lines"),
        pytest.param(head(b"Cookie: " + b"c" * 1_000_000 + b"\r\n"), 431, id="1MB-cookie"),
        pytest.param(head(header_line(200_000)), 431, id="200KB-header"),
    ],
)
def test_a_head_at_its_limit_passes_and_one_byte_more_is_refused(
    server: Running, request_bytes: bytes, status: int
) -> None:
    reply = exchange(server.port, request_bytes)
    assert reply.status == status
    # a refusal closes the connection; an answered request keeps it
    assert reply.closed is (status != 200)


def _head_of(size: int) -> bytes:
    """A head of exactly `size` bytes: the request line, Host, 8000-byte lines, a last one."""
    start = b"GET / HTTP/1.1\r\n" + HOST
    lines = []
    left = size - len(start) - 2
    while left > 8000 + 10:
        lines.append(header_line(8000))
        left -= 8000
    lines.append(header_line(left))
    return start + b"".join(lines) + b"\r\n"


@pytest.mark.parametrize(
    ("size", "status"),
    [pytest.param(32768, 200, id="head-at-32768"), pytest.param(32769, 431, id="head-at-32769")],
)
def test_the_whole_head_is_bounded(server: Running, size: int, status: int) -> None:
    request_bytes = _head_of(size)
    assert len(request_bytes) == size
    assert exchange(server.port, request_bytes).status == status


@pytest.mark.parametrize(
    ("request_bytes", "reason"),
    [
        pytest.param(request_line(9000) + b"\r\n", "request_line_too_long", id="request-line"),
        pytest.param(head(header_line(9000)), "header_too_large", id="header-line"),
        pytest.param(head(*[header_line(8000)] * 5), "head_too_large", id="head"),
        pytest.param(head(*[b"X-A: b\r\n"] * 200), "too_many_headers", id="header-count"),
    ],
)
def test_a_refusal_answers_json_and_is_reported_once_with_the_peer(
    request_bytes: bytes, reason: str
) -> None:
    with serving(Recorder(), EdgeLimits(lingering_timeout=0.5)) as running:
        with running.connect() as sock:
            sock.sendall(request_bytes)
            reply = read_reply(sock)
            peer = "{}:{}".format(*sock.getsockname())
        assert reply.headers[b"content-type"] == b"application/json"
        assert reply.headers[b"connection"] == b"close"
        assert set(reply.json()) == {"error", "request_id"}
        assert reply.json()["request_id"] == reply.headers[b"x-request-id"].decode()
        assert running.refusals == [(reason, peer)]


def test_the_app_never_sees_a_refused_head() -> None:
    app = Recorder()
    with serving(app, EdgeLimits(lingering_timeout=0.5)) as running:
        exchange(running.port, head(header_line(9000)))
        exchange(running.port, head(b"X-Ok: 1\r\n"))
    assert [s.header(b"x-ok") for s in app.seen] == [[b"1"]]


def test_an_endless_header_line_is_cut_off_near_the_limit() -> None:
    """The server stops reading at the limit: the client can push no more than what the
    kernel buffers hold, gets its 431, and the connection is closed."""
    with serving(Recorder(), EdgeLimits(lingering_timeout=0.5)) as running:
        sock = running.connect()
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 65536)
        sock.settimeout(2)
        sock.sendall(b"GET / HTTP/1.1\r\n" + HOST + b"X-Endless: ")
        sent, piece = 0, b"a" * 65536
        with pytest.raises(OSError):  # stalled (timeout), then reset or broken pipe
            while sent < 64 << 20:
                sock.sendall(piece)
                sent += len(piece)
        reply = read_reply(sock)
        sock.close()
    assert sent < 8 << 20, f"the server kept reading: {sent} bytes went through"
    assert reply.status == 431
    assert reply.closed
    assert running.refusals[0][0] == "header_too_large"


def test_a_pipelined_oversized_head_is_refused_after_the_answer_before_it() -> None:
    app = Recorder()
    with serving(app, EdgeLimits(lingering_timeout=0.5)) as running, running.connect() as sock:
        sock.sendall(head(b"X-N: 1\r\n") + head(header_line(9000)))
        replies, closed = read_replies(sock)
    assert [reply.status for reply in replies] == [200, 431]
    assert closed
    assert [s.header(b"x-n") for s in app.seen] == [[b"1"]]


def test_blank_lines_before_a_request_count_toward_the_head() -> None:
    with serving(Recorder(), EdgeLimits(lingering_timeout=0.5)) as running:
        passes = exchange(running.port, b"\r\n" * 10 + head())
        refused = exchange(running.port, b"\r\n" * 20_000 + head())
    assert passes.status == 200
    assert refused.status == 431
    assert [reason for reason, _ in running.refusals] == ["head_too_large"]


@pytest.mark.parametrize(
    ("trailer", "status"),
    [
        pytest.param(header_line(8192, b"T"), 200, id="trailer-at-8192"),
        pytest.param(header_line(8193, b"T"), 431, id="trailer-at-8193"),
    ],
)
def test_chunked_trailers_are_bounded_like_header_lines(trailer: bytes, status: int) -> None:
    app = Recorder()
    body = b"3\r\nabc\r\n0\r\n" + trailer + b"\r\n"
    request_bytes = b"POST / HTTP/1.1\r\n" + HOST + b"Transfer-Encoding: chunked\r\n\r\n" + body
    with serving(app, EdgeLimits(lingering_timeout=0.5)) as running:
        reply = exchange(running.port, request_bytes)
    assert reply.status == status
    if status == 200:  # trailers never reach the app: it has had its head already
        assert app.seen[0].body == b"abc"
        assert app.seen[0].header(b"t") == []


def test_a_chunk_size_line_is_bounded() -> None:
    request_bytes = (
        b"POST / HTTP/1.1\r\n"
        + HOST
        + b"Transfer-Encoding: chunked\r\n\r\n3;"
        + b"x" * 9000
        + b"\r\nabc\r\n0\r\n\r\n"
    )
    with serving(Recorder(), EdgeLimits(lingering_timeout=0.5)) as running:
        reply = exchange(running.port, request_bytes)
    assert reply.status == 400
    assert running.refusals[0][0] == "chunk_line_too_long"
