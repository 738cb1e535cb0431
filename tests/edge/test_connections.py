"""The bound on open client connections: over it, a clear 503 and a close, counted."""

from __future__ import annotations

import contextlib

import pytest

from proxy.edge import EdgeLimits, derived_connection_bound
from tests.edge.servers import Recorder, exchange, read_reply, serving

HEAD = b"GET / HTTP/1.1\r\nHost: a.test\r\n\r\n"
LIMITS = EdgeLimits(max_connections=3, lingering_timeout=0.3, keepalive_timeout=30)


def test_a_connection_over_the_bound_is_answered_503_and_closed() -> None:
    with serving(Recorder(), LIMITS) as running, contextlib.ExitStack() as held:
        open_ones = [held.enter_context(running.connect()) for _ in range(3)]
        for sock in open_ones:  # each is accepted and served
            sock.sendall(HEAD)
            assert read_reply(sock, settle=0.1).status == 200
        refused = exchange(running.port, HEAD)
    assert refused.status == 503
    assert refused.closed
    assert set(refused.json()) == {"error", "request_id"}
    assert [reason for reason, _ in running.refusals] == ["too_many_connections"]


def test_a_closed_connection_frees_its_place() -> None:
    with serving(Recorder(), LIMITS) as running, contextlib.ExitStack() as held:
        first = held.enter_context(running.connect())
        for _ in range(2):
            held.enter_context(running.connect())
        first.sendall(HEAD)
        read_reply(first, settle=0.1)
        assert exchange(running.port, HEAD).status == 503
        first.close()
        statuses = [exchange(running.port, HEAD, settle=0.1).status for _ in range(20)]
    assert 200 in statuses  # once the close is seen, the next connection is served


def test_the_refused_connection_is_answered_even_before_it_sends_anything() -> None:
    with serving(Recorder(), LIMITS) as running, contextlib.ExitStack() as held:
        for _ in range(3):
            held.enter_context(running.connect())
        with running.connect() as sock:
            reply = read_reply(sock)
    assert reply.status == 503


@pytest.mark.parametrize(
    ("descriptors", "bound"),
    [
        pytest.param(1024, 768, id="debian-default-1024"),
        pytest.param(20_000, 10_000, id="20000-capped"),
        pytest.param(4096, 3072, id="4096"),
        pytest.param(300, 44, id="300-keeps-256"),
        pytest.param(100, 16, id="tiny-still-serves"),
    ],
)
def test_the_default_bound_leaves_descriptors_for_everything_else(
    descriptors: int, bound: int
) -> None:
    assert derived_connection_bound(descriptors) == bound
