"""Generated request heads (valid and not), pipelined on one connection in random pieces, to the
edge fronting an app that records what it saw.

Every request the app sees is exactly one of the client's requests, in order, with the body
the client framed; every answer but the last is a 200 for the request in its place; a refusal
is the last answer, for a request that had something wrong, and the app never saw it. A request
built with nothing wrong is never refused.
"""

from __future__ import annotations

import itertools
import socket
import time
from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from proxy.edge import EdgeLimits
from tests.edge.servers import (
    Recorder,
    Running,
    Seen,
    eventually,
    read_raw,
    replies_in,
    serving,
)

LIMITS = EdgeLimits(
    max_request_line=200,
    max_header_line=120,
    max_head=600,
    max_headers=12,
    header_timeout=2,
    body_timeout=0.5,
    keepalive_timeout=2,
    lingering_timeout=0.2,
)
_connections = itertools.count()


@dataclass(frozen=True)
class Request:
    data: bytes
    seq: bytes
    body: bytes
    sound: bool  # False: built with something the server must refuse
    closes: bool  # the connection ends after its answer (HTTP/1.0)


@pytest.fixture(scope="module")
def app() -> Recorder:
    return Recorder()


@pytest.fixture(scope="module")
def server(app: Recorder) -> Iterator[Running]:
    with serving(app, LIMITS) as running:
        yield running


GOOD_HEADERS = [b"Accept: */*", b"X-A: 1", b"User-Agent: fuzz/1.0", b"X-Long: " + b"v" * 100]
DROPPED_HEADERS = [b"X_Dry_Run: 1", b"X.Y: 2", b"Host_: evil"]
BAD_HEADERS = [
    b"X@Y: 1",  # the parser refuses the name
    b"X-Fold: a\r\n folded",  # obsolete line folding
    b"X-Nul: a\x00b",
    b"X-Over: " + b"v" * 120,  # over the header line limit
]
FRAMINGS = ["none", "length", "chunked", "chunked-trailers", "length-and-chunked", "two-lengths"]


def must_refuse(head: bytes, version: bytes) -> bool:
    """What the server must refuse in a head, by the limits and Host rules (bad bytes aside)."""
    lines = head[:-2].split(b"\r\n")[:-1]
    hosts = [line for line in lines[1:] if line.lower().startswith(b"host:")]
    return (
        len(lines[0]) + 2 > LIMITS.max_request_line
        or any(len(line) + 2 > LIMITS.max_header_line for line in lines[1:])
        or len(head) > LIMITS.max_head
        or len(lines) - 1 > LIMITS.max_headers
        or len(hosts) > 1
        or (not hosts and version == b"1.1")
        or any(line[5:].strip() in (b"a b", b"a..b") for line in hosts)
    )


@st.composite
def requests(draw: st.DrawFn, seq: bytes, conn: bytes) -> Request:
    method = draw(st.sampled_from([b"GET", b"POST", b"PUT", b"DELETE", b"OPTIONS"]))
    target = draw(
        st.sampled_from([b"/", b"/a/b?c=d", b"/%7Eu", b"http://b.test/x", b"/" + b"p" * 190])
    )
    version = draw(st.sampled_from([b"1.1", b"1.1", b"1.1", b"1.0"]))
    lines = [method + b" " + target + b" HTTP/" + version]
    host = draw(st.sampled_from([b"a.test", b"a.test", None, b"a b", b"a..b", b"a.test"]))
    if host is not None:
        lines.append(b"Host: " + host)
    lines += [b"X-Seq: " + seq, b"X-Conn: " + conn]
    extras = draw(
        st.lists(
            st.sampled_from(GOOD_HEADERS * 2 + DROPPED_HEADERS + BAD_HEADERS + [b"Host: b.test"]),
            max_size=9,
        )
    )
    bad = any(extra in BAD_HEADERS for extra in extras)
    lines += extras
    framing = draw(st.sampled_from(FRAMINGS))
    body = draw(st.binary(max_size=40)) if framing != "none" else b""
    encoded = body
    if framing in ("length", "length-and-chunked", "two-lengths"):
        lines.append(b"Content-Length: %d" % len(body))
    if framing == "two-lengths":
        lines.append(b"Content-Length: %d" % (len(body) + 1))
    if "chunked" in framing:
        lines.append(b"Transfer-Encoding: chunked")
        sizes = draw(st.lists(st.integers(1, 9), max_size=4))
        encoded, rest = b"", body
        for size in [*sizes, len(body)]:
            piece, rest = rest[:size], rest[size:]
            if piece:
                encoded += b"%x\r\n%s\r\n" % (len(piece), piece)
        trailers = b"T: 1\r\n" if framing == "chunked-trailers" else b""
        encoded += b"0\r\n" + trailers + b"\r\n"
    head = b"\r\n".join(lines) + b"\r\n\r\n"
    refuse = bad or framing in ("length-and-chunked", "two-lengths") or must_refuse(head, version)
    return Request(head + encoded, seq, body, not refuse, version == b"1.0")


@st.composite
def connections(draw: st.DrawFn) -> list[Request]:
    conn = b"%d" % next(_connections)
    count = draw(st.integers(1, 4))
    sent = [draw(requests(b"%d" % n, conn)) for n in range(count)]
    closing = b"GET /end HTTP/1.1\r\nHost: a.test\r\nX-Seq: end\r\nX-Conn: " + conn
    sent.append(Request(closing + b"\r\nConnection: close\r\n\r\n", b"end", b"", True, True))
    return sent


@settings(
    max_examples=150,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(sent=connections(), cuts=st.lists(st.integers(min_value=0), max_size=5))
def test_the_app_sees_each_client_request_once_with_the_body_it_was_framed_with(
    server: Running, app: Recorder, sent: list[Request], cuts: list[int]
) -> None:
    conn = sent[0].data.split(b"X-Conn: ")[1].split(b"\r\n")[0]
    data = b"".join(r.data for r in sent)
    points = sorted({0, len(data), *(c % (len(data) + 1) for c in cuts)})
    with socket.create_connection(("127.0.0.1", server.port)) as sock:
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        try:
            for start, stop in itertools.pairwise(points):
                sock.sendall(data[start:stop])
                time.sleep(0.002)
        except OSError:
            pass  # refused and closed before all was sent
        raw, _ = read_raw(sock, settle=3)
    answers = replies_in(raw)
    had_head = sum(a.status in (200, 408) for a in answers)  # a 408 follows a head the app had

    def seen_here() -> list[Seen]:
        return [s for s in app.seen if s.header(b"x-conn") == [conn]]

    eventually(lambda: len(seen_here()) >= had_head, within=2)
    seen = seen_here()

    assert answers, "no answer at all"
    consumed = 0
    for place, answer in enumerate(answers):
        request = sent[place]
        if answer.status == 200:
            saw = seen[consumed]
            consumed += 1
            assert (saw.header(b"x-seq"), saw.body) == ([request.seq], request.body)
            continue
        assert answer.status in (400, 408, 414, 431)
        assert not request.sound, f"a sound request was refused {answer.status}: {request.data!r}"
        assert place == len(answers) - 1, "an answer after a refusal"
        if answer.status == 408:  # the app had the head, and was told of the disconnect
            assert seen[consumed].header(b"x-seq") == [request.seq]
            consumed += 1
    assert consumed == len(seen), f"the app saw requests no answer was for: {seen[consumed:]}"
    # up to the first request that closes the connection or must be refused, each is answered
    # 200; that one is refused (or, closing, answered)
    for place, request in enumerate(sent):
        if not request.sound:
            assert [a.status for a in answers[:place]] == [200] * place
            assert answers[place].status != 200, f"not refused: {request.data!r}"
            break
        if request.closes:
            assert [a.status for a in answers] == [200] * (place + 1)
            break
