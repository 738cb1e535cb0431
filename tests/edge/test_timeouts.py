"""Slow clients, from raw sockets, with timeouts of a few tenths of a second.

What is asserted is behaviour (closed without an answer, 408 answered, the app told of the
disconnect), never how long anything took: each test waits well past the configured timeout.
As nginx does (see test_nginx_side_by_side.py), a head that is late (idle, half-sent, or
trickled a byte at a time) is closed without an answer: the whole head must arrive within
`header_timeout` of the connection (or of its first byte after a keep-alive wait).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator

import pytest
from starlette.types import Receive, Scope, Send

from proxy.edge import EdgeLimits
from tests.edge.servers import (
    Recorder,
    Running,
    eventually,
    read_raw,
    read_replies,
    read_reply,
    serving,
)

HEAD = b"GET / HTTP/1.1\r\nHost: a.test\r\n\r\n"
SHORT = 0.3  # every timeout under test
LIMITS = EdgeLimits(
    header_timeout=SHORT, body_timeout=SHORT, keepalive_timeout=SHORT, lingering_timeout=SHORT
)
# for the timeouts not under test
LONG = 30.0


@pytest.fixture
def app() -> Recorder:
    return Recorder()


@pytest.fixture
def server(app: Recorder) -> Iterator[Running]:
    with serving(app, LIMITS) as running:
        yield running


@pytest.mark.parametrize(
    "sent",
    [
        pytest.param(b"", id="idle-connection"),
        pytest.param(b"GET / HTTP/1.1\r\nHost: a.test\r\n", id="half-sent-head"),
        pytest.param(b"G", id="one-byte"),
    ],
)
def test_a_head_that_does_not_arrive_in_time_is_closed_without_an_answer(
    server: Running, app: Recorder, sent: bytes
) -> None:
    with server.connect() as sock:
        sock.sendall(sent)
        reply = read_reply(sock, settle=SHORT * 10)
    assert reply.status is None
    assert reply.closed
    assert app.seen == []
    assert [reason for reason, _ in server.refusals] == ["header_timeout"]


def test_a_head_trickled_a_byte_at_a_time_is_closed_though_each_byte_is_in_time(
    server: Running, app: Recorder
) -> None:
    """The timeout is for the whole head, not between two reads (client_header_timeout)."""
    with server.connect() as sock:
        sent = 0
        try:
            for byte in HEAD[:-2]:
                sock.sendall(bytes([byte]))
                sent += 1
                time.sleep(SHORT / 5)
        except OSError:
            pass
        reply = read_reply(sock, settle=SHORT * 10)
    assert sent < len(HEAD) - 2, "the server waited for the whole trickled head"
    assert reply.status is None
    assert app.seen == []


def test_an_idle_kept_alive_connection_is_closed_after_its_answer(server: Running) -> None:
    with server.connect() as sock:
        sock.sendall(HEAD)
        replies, closed = read_replies(sock, settle=SHORT * 10)
    assert [reply.status for reply in replies] == [200]
    assert closed
    assert server.refusals == []  # an idle keep-alive ending is no refusal


def test_a_kept_alive_connection_serves_requests_that_come_in_time() -> None:
    limits = EdgeLimits(header_timeout=LONG, keepalive_timeout=SHORT * 10)
    with serving(Recorder(), limits) as running, running.connect() as sock:
        statuses = []
        for _ in range(5):
            sock.sendall(HEAD)
            statuses.append(read_reply(sock, settle=SHORT / 3).status)
            time.sleep(SHORT)
    assert statuses == [200] * 5


def test_the_head_timeout_restarts_with_the_first_byte_after_a_keep_alive_wait() -> None:
    limits = EdgeLimits(header_timeout=SHORT, keepalive_timeout=LONG)
    with serving(Recorder(), limits) as running, running.connect() as sock:
        sock.sendall(HEAD)
        first = read_reply(sock, settle=SHORT / 3)
        time.sleep(SHORT * 3)  # waiting between requests is the keep-alive's time, not the head's
        sock.sendall(HEAD)
        second = read_reply(sock, settle=SHORT / 3)
    assert (first.status, second.status) == (200, 200)


def test_a_body_that_stops_coming_is_answered_408_and_the_app_sees_the_disconnect(
    server: Running, app: Recorder
) -> None:
    with server.connect() as sock:
        sock.sendall(b"POST / HTTP/1.1\r\nHost: a.test\r\nContent-Length: 10\r\n\r\nabc")
        reply = read_reply(sock, settle=SHORT * 10)
    assert reply.status == 408
    assert reply.closed
    assert set(reply.json()) == {"error", "request_id"}
    assert eventually(lambda: [(s.body, s.disconnected) for s in app.seen] == [(b"abc", True)])
    assert [reason for reason, _ in server.refusals] == ["body_timeout"]


def test_a_chunked_body_that_stops_coming_is_answered_408(server: Running) -> None:
    with server.connect() as sock:
        sock.sendall(
            b"POST / HTTP/1.1\r\nHost: a.test\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n"
        )
        reply = read_reply(sock, settle=SHORT * 10)
    assert reply.status == 408


def test_a_slow_body_after_the_answer_started_closes_the_connection() -> None:
    app = Recorder(respond_first=True)
    with serving(app, LIMITS) as running, running.connect() as sock:
        sock.sendall(b"POST / HTTP/1.1\r\nHost: a.test\r\nContent-Length: 10\r\n\r\nabc")
        raw, closed = read_raw(sock, settle=SHORT * 10)
    assert closed
    assert raw.startswith(b"HTTP/1.1 200 ")
    assert raw.count(b"HTTP/1.1 ") == 1  # no 408 after an answer under way: only the close
    assert eventually(lambda: [s.disconnected for s in app.seen] == [True])
    assert [reason for reason, _ in running.refusals] == ["body_timeout"]


def test_a_body_each_of_whose_reads_comes_in_time_is_read_whole() -> None:
    """The body's timeout runs between two reads: a body slower than it in all is read."""
    app = Recorder()
    body_timeout = SHORT * 4
    with serving(app, EdgeLimits(body_timeout=body_timeout)) as running, running.connect() as sock:
        sock.sendall(b"POST / HTTP/1.1\r\nHost: a.test\r\nContent-Length: 6\r\n\r\n")
        for piece in (b"ab", b"cd", b"ef"):  # gaps of half the timeout, more than it in all
            time.sleep(body_timeout / 2)
            sock.sendall(piece)
        reply = read_reply(sock, settle=SHORT)
    assert reply.status == 200
    assert [s.body for s in app.seen] == [b"abcdef"]


class SlowReader:
    """An app that waits before it reads the body: the body's timeout is the client's, and a
    read the server holds back (flow control) is not the client's fault."""

    def __init__(self) -> None:
        self.body = b""

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            return
        await asyncio.sleep(SHORT * 4)
        while True:
            message = await receive()
            self.body += message.get("body", b"")
            if not message.get("more_body", False):
                break
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b""})


def test_a_body_held_back_by_an_app_that_is_not_reading_yet_does_not_time_out() -> None:
    app = SlowReader()
    size = 1 << 20  # past uvicorn's 64 KiB buffer: the server stops reading until the app reads
    limits = EdgeLimits(body_timeout=SHORT, header_timeout=LONG, keepalive_timeout=LONG)
    with serving(app, limits) as running, running.connect() as sock:
        sock.sendall(b"POST / HTTP/1.1\r\nHost: a.test\r\nContent-Length: %d\r\n\r\n" % size)
        sock.sendall(b"x" * size)
        reply = read_reply(sock, settle=SHORT * 10)
    assert reply.status == 200
    assert len(app.body) == size
