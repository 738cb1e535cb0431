"""Why the edge protocol exists: each attack gets through uvicorn's stock httptools protocol
and is refused by the edge, on the same bytes, side by side.

(The other modules run against stock httptools with STRANGLER_EDGE_STOCK=1, and fail there.)
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
    Running,
    exchange,
    header_line,
    read_reply,
    request_line,
    serving,
)

SHORT = 0.3
LIMITS = EdgeLimits(header_timeout=SHORT, body_timeout=SHORT, lingering_timeout=SHORT)


@dataclass
class Pair:
    stock: Running
    edge: Running
    behind_stock: Recorder
    behind_edge: Recorder


@pytest.fixture(scope="module")
def pair() -> Iterator[Pair]:
    behind_stock, behind_edge = Recorder(), Recorder()
    with (
        serving(behind_stock, stock=True) as stock,
        serving(behind_edge, LIMITS, stock=False) as edge,
    ):
        yield Pair(stock, edge, behind_stock, behind_edge)


def get(*lines: bytes, host: bytes | None = b"a.test") -> bytes:
    head = b"GET / HTTP/1.1\r\n" + (b"Host: " + host + b"\r\n" if host is not None else b"")
    return head + b"".join(lines) + b"\r\n"


ATTACKS = {
    "request-line-of-9000": (request_line(9000) + b"Host: a\r\n\r\n", 414),
    "header-line-of-200KB": (get(header_line(200_000)), 431),
    "10000-headers": (get(*[b"X-A: b\r\n"] * 10_000), 431),
    "1MB-cookie": (get(b"Cookie: " + b"c" * 1_000_000 + b"\r\n"), 431),
    "http-1.1-without-host": (get(host=None), 400),
    "two-hosts": (get(b"Host: evil.test\r\n"), 400),
    "host-with-space": (get(host=b"a b"), 400),
    "host-with-userinfo": (get(host=b"evil.test@a.test"), 400),
}


@pytest.mark.parametrize(("data", "refused"), ATTACKS.values(), ids=ATTACKS)
def test_stock_answers_200_where_the_edge_refuses(pair: Pair, data: bytes, refused: int) -> None:
    assert exchange(pair.stock.port, data).status == 200
    assert exchange(pair.edge.port, data).status == refused


def test_stock_passes_underscore_headers_the_edge_drops(pair: Pair) -> None:
    data = get(b"X_Strangler_Dry_Run: 1\r\n")
    exchange(pair.stock.port, data)
    exchange(pair.edge.port, data)
    assert pair.behind_stock.seen[-1].header(b"x_strangler_dry_run") == [b"1"]
    assert pair.behind_edge.seen[-1].header(b"x_strangler_dry_run") == []


def test_stock_takes_the_host_header_over_an_absolute_form_target(pair: Pair) -> None:
    data = b"GET http://a.test/x HTTP/1.1\r\nHost: evil.test\r\n\r\n"
    exchange(pair.stock.port, data)
    exchange(pair.edge.port, data)
    assert pair.behind_stock.seen[-1].header(b"host") == [b"evil.test"]
    assert pair.behind_edge.seen[-1].header(b"host") == [b"a.test"]


def test_stock_parses_the_body_of_an_upgrade_request_as_a_request_the_edge_refuses(
    pair: Pair,
) -> None:
    hidden = b"GET /hidden HTTP/1.1\r\nHost: a\r\n\r\n"
    head = b"POST / HTTP/1.1\r\nHost: a\r\nUpgrade: h2c\r\nConnection: Upgrade\r\n"
    head += b"Content-Length: %d\r\n\r\n" % len(hidden)
    for side in (pair.stock, pair.edge):
        with side.connect() as sock:
            sock.sendall(head)
            time.sleep(0.1)  # the body in a read of its own
            sock.sendall(hidden)
            read_reply(sock, settle=SHORT * 3)
    assert [s.path for s in pair.behind_stock.seen[-2:]] == ["/", "/hidden"]
    assert "/hidden" not in [s.path for s in pair.behind_edge.seen]


@pytest.mark.parametrize(
    "sent",
    [pytest.param(b"", id="idle"), pytest.param(b"GET / HTTP/1.1\r\n", id="half-sent-head")],
)
def test_stock_keeps_a_late_head_open_the_edge_closes(pair: Pair, sent: bytes) -> None:
    stock, edge = (exchange(p.port, sent, settle=SHORT * 10) for p in (pair.stock, pair.edge))
    assert not stock.closed
    assert edge.closed


def test_stock_waits_forever_for_a_stalled_body_the_edge_answers_408(pair: Pair) -> None:
    data = b"POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 10\r\n\r\nabc"
    stock, edge = (exchange(p.port, data, settle=SHORT * 10) for p in (pair.stock, pair.edge))
    assert (stock.status, stock.closed) == (None, False)
    assert (edge.status, edge.closed) == (408, True)


def pushed(port: int, cap: int) -> tuple[int, int | None]:
    """How much of an endless header line a client pushes (up to `cap`), and the answer."""
    with socket.create_connection(("127.0.0.1", port)) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 65536)
        sock.settimeout(2)
        sock.sendall(b"GET / HTTP/1.1\r\nHost: a\r\nX-Endless: ")
        sent = 0
        try:
            while sent < cap:
                sock.sendall(b"a" * 65536)
                sent += 65536
        except OSError:
            pass
        return sent, read_reply(sock, settle=SHORT).status


def test_stock_reads_an_endless_header_line_the_edge_cuts_off(pair: Pair) -> None:
    cap = 16 << 20  # enough to show it; stock's cost grows with the square of the line
    assert pushed(pair.stock.port, cap) == (cap, None)
    sent, status = pushed(pair.edge.port, cap)
    assert sent < cap // 2
    assert status == 431
