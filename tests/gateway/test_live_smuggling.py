"""Request smuggling through `Connection`: a header a client lists there must never unframe a
request. Raw client bytes go to a real gateway process; recording upstreams (legacy by `url`,
native by `native.url`) say what they parsed. Whatever the client lists, every upstream parses
exactly the request the client sent, with its whole body, and nothing after it.
"""

from __future__ import annotations

import json
import socket
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.gateway.live import LiveGateway, live_gateway
from tests.support.rawhttp import read_response
from tests.support.recorder import Recorder, Seen, recording_upstream

pytestmark = pytest.mark.integration

# a request an attacker hides in a body: if the body loses its framing, the upstream parses it
# as the next request on the pooled connection, and answers it to the next client
SMUGGLED = b"GET /smuggled HTTP/1.1\r\nHost: evil.test\r\n\r\n"

# every kind of header a client can name in Connection: framing, what the gateway writes itself,
# hop-by-hop names, and ordinary end-to-end headers
LISTED = [
    "content-length",
    "transfer-encoding",
    "host",
    "x-forwarded-for",
    "x-forwarded-proto",
    "x-forwarded-host",
    "x-request-id",
    "expect",
    "te",
    "trailer",
    "upgrade",
    "keep-alive",
    "close",
    "proxy-connection",
    "content-type",
    "cookie",
    "authorization",
    "x-anything",
]


@pytest.fixture(scope="module")
def upstreams() -> Iterator[tuple[Recorder, Recorder]]:
    with recording_upstream() as legacy, recording_upstream() as native:
        yield legacy, native


@pytest.fixture(scope="module")
def gateway(
    upstreams: tuple[Recorder, Recorder], tmp_path_factory: pytest.TempPathFactory
) -> Iterator[LiveGateway]:
    legacy, native = upstreams
    directory = tmp_path_factory.mktemp("smuggling")
    table = f"""version: 1
legacy: {{url: "{legacy.url}", timeout: 5s}}
native: {{url: "{native.url}", timeout: 5s}}
shadow: {{store: "sqlite:///{directory}/parity.db", timeout: 5s, noise_sample: 0}}
routes:
  - {{id: to.native, match: "* /native/{{rest:path}}", mode: native}}
  - id: to.shadow
    match: "* /shadow/{{rest:path}}"
    mode: shadow
    shadow: {{writes: dry_run}}
"""
    with live_gateway(table, directory) as live:
        yield live


def _request(name: str, path: str) -> bytes:
    """A POST whose Connection lists `name`, with a body that holds a whole request."""
    head = f"POST {path} HTTP/1.1\r\nHost: public.test\r\nConnection: keep-alive, {name}\r\n"
    head += "Content-Type: text/plain\r\nCookie: attacker=1\r\nAuthorization: Bearer a\r\n"
    if name == "transfer-encoding":
        body = b"%x\r\n%b\r\n0\r\n\r\n" % (len(SMUGGLED), SMUGGLED)
        return head.encode() + b"Transfer-Encoding: chunked\r\n\r\n" + body
    return head.encode() + b"Content-Length: %d\r\n\r\n" % len(SMUGGLED) + SMUGGLED


def _exchange(port: int, request: bytes) -> bytes:
    """Send one request; the whole first response (read by its Content-Length)."""
    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
        sock.sendall(request)
        _, head, body = read_response(sock)
        return head + b"\r\n\r\n" + body


def _victim(port: int) -> dict[str, object]:
    """Another client's request right after the attack: its answer must be its own."""
    answer = _exchange(
        port, b"GET /victim HTTP/1.1\r\nHost: public.test\r\nCookie: session=victim\r\n\r\n"
    )
    document: dict[str, object] = json.loads(answer.partition(b"\r\n\r\n")[2])
    return document


def _wait_for(recorder: Recorder, count: int) -> list[Seen]:
    deadline = time.monotonic() + 5
    while len(recorder.requests) < count and time.monotonic() < deadline:
        time.sleep(0.02)
    time.sleep(0.1)  # anything smuggled would arrive with the request, not later
    return list(recorder.requests)


def _assert_one_whole_request(seen: list[Seen], path: str) -> None:
    targets = [s.target for s in seen]
    assert "/smuggled" not in targets, f"the upstream parsed a smuggled request: {targets}"
    posts = [s for s in seen if s.method == "POST"]
    assert [s.target for s in posts] == [path]
    assert posts[0].body == SMUGGLED, "the body reached the upstream unframed or cut"
    framing = posts[0].header("content-length") + posts[0].header("transfer-encoding")
    assert len(framing) == 1, f"exactly one framing header, got {posts[0].headers}"


@pytest.mark.parametrize("name", LISTED)
def test_legacy_route_keeps_framing_whatever_connection_lists(
    gateway: LiveGateway, upstreams: tuple[Recorder, Recorder], name: str
) -> None:
    legacy, _ = upstreams
    legacy.clear()
    answer = _exchange(gateway.port, _request(name, "/attack"))
    assert answer.startswith(b"HTTP/1.1 200 ")
    assert json.loads(answer.partition(b"\r\n\r\n")[2])["target"] == "/attack"
    assert _victim(gateway.port)["target"] == "/victim"
    _assert_one_whole_request(_wait_for(legacy, 2), "/attack")


@pytest.mark.parametrize("name", LISTED)
def test_native_url_route_keeps_framing_whatever_connection_lists(
    gateway: LiveGateway, upstreams: tuple[Recorder, Recorder], name: str
) -> None:
    _, native = upstreams
    native.clear()
    answer = _exchange(gateway.port, _request(name, "/native/attack"))
    assert json.loads(answer.partition(b"\r\n\r\n")[2])["target"] == "/native/attack"
    _assert_one_whole_request(_wait_for(native, 1), "/native/attack")


@pytest.mark.parametrize("name", ["content-length", "transfer-encoding", "host", "x-anything"])
def test_both_sides_of_a_shadow_route_keep_framing(
    gateway: LiveGateway, upstreams: tuple[Recorder, Recorder], name: str
) -> None:
    legacy, native = upstreams
    legacy.clear()
    native.clear()
    answer = _exchange(gateway.port, _request(name, "/shadow/attack"))
    assert json.loads(answer.partition(b"\r\n\r\n")[2])["target"] == "/shadow/attack"
    assert _victim(gateway.port)["target"] == "/victim"
    _assert_one_whole_request(_wait_for(legacy, 2), "/shadow/attack")
    # the candidate (a dry run on the native side) gets the same body, framed
    _assert_one_whole_request(_wait_for(native, 1), "/shadow/attack")


def test_headers_the_gateway_writes_survive_being_listed(
    gateway: LiveGateway, upstreams: tuple[Recorder, Recorder]
) -> None:
    legacy, _ = upstreams
    legacy.clear()
    listed = "host, x-forwarded-for, x-request-id, cookie"
    request = (
        f"GET /listed HTTP/1.1\r\nHost: public.test\r\nConnection: {listed}\r\n"
        "Cookie: dropped=1\r\nX-Request-ID: abc-123\r\n\r\n"
    ).encode()
    _exchange(gateway.port, request)
    (seen,) = _wait_for(legacy, 1)
    assert seen.header("host") == ["public.test"]
    assert seen.header("x-forwarded-for") == ["127.0.0.1"]
    assert seen.header("x-request-id") == ["abc-123"]
    # an end-to-end header the client named as hop-by-hop is dropped, as RFC 9110 says
    assert seen.header("cookie") == []
    assert seen.header("connection") == []


def test_recorder_sees_smuggling_when_framing_is_lost(
    upstreams: tuple[Recorder, Recorder], tmp_path: Path
) -> None:
    """The check can fail: the same bytes, unframed as the flawed forwarding sent them, are
    parsed by the recording upstream as two requests."""
    legacy, _ = upstreams
    legacy.clear()
    unframed = b"POST /attack HTTP/1.1\r\nHost: public.test\r\n\r\n" + SMUGGLED
    with socket.create_connection(("127.0.0.1", legacy.port), timeout=5) as sock:
        sock.sendall(unframed)
        time.sleep(0.2)
    assert [s.target for s in _wait_for(legacy, 2)] == ["/attack", "/smuggled"]
