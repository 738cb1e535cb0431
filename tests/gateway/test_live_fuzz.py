"""Generated request heads through a real gateway process to a recording upstream: whatever a
client writes (framing headers, Connection tokens, bodies, pipelined requests), the upstream
parses exactly one request per request the gateway answered, with the body the gateway framed,
and nothing the client hid inside a body."""

from __future__ import annotations

import socket
import time
from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from tests.gateway.live import LiveGateway, live_gateway
from tests.support.recorder import Recorder, recording_upstream

pytestmark = pytest.mark.integration

HIDDEN = b"GET /hidden HTTP/1.1\r\nHost: evil.test\r\n\r\n"
# framing names twice: they are the ones an attack lists
TOKENS = ["keep-alive", "close", "content-length", "content-length", "transfer-encoding",
          "transfer-encoding", "te", "upgrade", "host", "x-forwarded-for", "x-a",
          "expect"]  # fmt: skip


@dataclass(frozen=True)
class Sent:
    method: str
    path: str
    head: bytes
    body: bytes  # as the server should read it (unchunked)


@st.composite
def requests(draw: st.DrawFn, index: int) -> Sent:
    method = draw(st.sampled_from(["GET", "POST", "PUT", "DELETE", "PATCH"]))
    path = f"/f{index}"
    body = draw(st.sampled_from([b"", HIDDEN, HIDDEN, b"x" * draw(st.integers(0, 300))]))
    lines = [f"{method} {path} HTTP/1.1", "Host: fuzz.test"]
    listed = draw(st.lists(st.sampled_from(TOKENS), max_size=3))
    if listed:
        lines.append("Connection: " + ", ".join(listed))
    framing = draw(st.sampled_from(["length", "chunked", "none"]))
    if draw(st.booleans()):
        lines.append("X-Extra: " + draw(st.text("abc 123", max_size=20)))
    raw = body
    if framing == "length" or (framing == "none" and body):
        lines.append(f"Content-Length: {len(body)}")
    elif framing == "chunked":
        lines.append("Transfer-Encoding: chunked")
        raw = (b"%x\r\n%b\r\n" % (len(body), body) if body else b"") + b"0\r\n\r\n"
    head = ("\r\n".join(lines) + "\r\n\r\n").encode()
    return Sent(method, path, head + raw, body)


@st.composite
def conversations(draw: st.DrawFn) -> list[Sent]:
    count = draw(st.integers(1, 3))
    return [draw(requests(i)) for i in range(count)]


@pytest.fixture(scope="module")
def upstream() -> Iterator[Recorder]:
    with recording_upstream() as recorder:
        yield recorder


@pytest.fixture(scope="module")
def gateway(upstream: Recorder, tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveGateway]:
    table = f'version: 1\nlegacy: {{url: "{upstream.url}", timeout: 5s}}\nroutes: []\n'
    with live_gateway(table, tmp_path_factory.mktemp("fuzz")) as live:
        yield live


def statuses(sock: socket.socket, expected: int) -> list[int]:
    """The statuses of up to `expected` responses (the gateway may close after one)."""
    data, found = b"", []
    while len(found) < expected:
        while b"\r\n\r\n" not in data:
            chunk = sock.recv(65536)
            if not chunk:
                return found
            data += chunk
        head, _, data = data.partition(b"\r\n\r\n")
        found.append(int(head.split(b" ", 2)[1]))
        length = next(
            (int(x.split(b":")[1]) for x in head.split(b"\r\n") if x.lower().startswith(
                b"content-length:")), 0,
        )  # fmt: skip
        while len(data) < length:
            chunk = sock.recv(65536)
            if not chunk:
                return found
            data += chunk
        data = data[length:]
    return found


SMUGGLING = [
    Sent(
        "POST",
        "/f0",
        b"POST /f0 HTTP/1.1\r\nHost: fuzz.test\r\nConnection: keep-alive, content-length\r\n"
        b"Content-Length: %d\r\n\r\n%b" % (len(HIDDEN), HIDDEN),
        HIDDEN,
    )
]


@settings(
    max_examples=100,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(conversation=conversations())
@example(conversation=SMUGGLING)  # the attack an audit found, always among the examples
def test_the_upstream_sees_one_request_per_answered_request(
    gateway: LiveGateway, upstream: Recorder, conversation: list[Sent]
) -> None:
    upstream.clear()
    with socket.create_connection(("127.0.0.1", gateway.port), timeout=10) as sock:
        sock.sendall(b"".join(sent.head for sent in conversation))
        answered = statuses(sock, len(conversation))
    time.sleep(0.05)  # anything smuggled would have arrived with the rest
    seen = list(upstream.requests)
    assert "/hidden" not in [s.target for s in seen]
    forwarded = [c for c, status in zip(conversation, answered, strict=False) if status == 200]
    assert [s.target for s in seen] == [c.path for c in forwarded]
    for s, c in zip(seen, forwarded, strict=True):
        assert s.method == c.method and s.body == c.body
        framing = s.header("content-length") + s.header("transfer-encoding")
        assert len(framing) <= 1
    # a refusal is the gateway's own answer, never a request the upstream saw
    assert all(status in (200, 400, 411, 413) for status in answered), answered
