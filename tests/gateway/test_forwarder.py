"""Legacy forwarding in-process: a fake upstream, the gateway through httpx.ASGITransport."""

from __future__ import annotations

import asyncio
import dataclasses
import hashlib
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from proxy.errors import UpstreamBroken
from proxy.sides.client import UpstreamClient
from proxy.sides.forwarder import Exchange, Forwarder, outgoing
from proxy.sides.headers import ClientView
from proxy.table.targets import Target, upstream_of
from tests.gateway.conftest import FakeUpstream, gateway_for, make_table, running


async def test_request_and_response_pass_through(upstream: FakeUpstream) -> None:
    async with running(gateway_for(make_table(upstream.url))) as client:
        response = await client.post(
            "/a//b/./c?x=1&x=2&y=%zz", content=b"hello", headers={"X-Custom": "v"}
        )
    report = response.json()
    assert response.status_code == 200
    assert report["method"] == "POST"
    assert report["uri"] == "/a/b/c?x=1&x=2&y=%zz"  # normalised path, query byte for byte
    assert report["body_sha256"] == hashlib.sha256(b"hello").hexdigest()
    sent = {k.lower(): v for k, v in report["headers"]}
    assert sent["x-custom"] == "v"
    assert sent["host"] == "public.test"
    assert sent["x-forwarded-for"] == "127.0.0.1"
    assert sent["x-request-id"] == response.headers["x-request-id"]
    assert sent["user-agent"].startswith("python-httpx/")  # the client's own, nothing added
    assert response.headers["x-upstream"] == "fake"


async def chunks() -> AsyncIterator[bytes]:
    for _ in range(8):
        yield b"z" * 10000


@pytest.mark.parametrize(
    ("buffer", "memory"), [("1MiB", "in memory"), ("1KiB", "in a file")], ids=["memory", "file"]
)
async def test_a_chunked_body_read_whole_is_sent_with_its_length(
    upstream: FakeUpstream, buffer: str, memory: str
) -> None:
    table = make_table(upstream.url, extra=f"limits: {{buffer_request: {buffer}}}\n")
    async with running(gateway_for(table)) as client:
        response = await client.put("/upload", content=chunks())
    report = response.json()
    assert report["body_length"] == 80000, memory
    assert report["body_sha256"] == hashlib.sha256(b"z" * 80000).hexdigest()
    sent = {k.lower(): v for k, v in report["headers"]}
    assert sent.get("content-length") == "80000"
    assert "transfer-encoding" not in sent


async def test_without_request_buffering_a_chunked_body_streams_chunked(
    upstream: FakeUpstream,
) -> None:
    table = make_table(upstream.url, extra="limits: {buffer_request: 0}\n")
    async with running(gateway_for(table)) as client:
        response = await client.put("/upload", content=chunks())
    report = response.json()
    assert report["body_length"] == 80000
    sent = {k.lower(): v for k, v in report["headers"]}
    assert sent.get("transfer-encoding") == "chunked"


async def test_redirects_are_passed_not_followed(upstream: FakeUpstream) -> None:
    location = f"{upstream.url}/next?a=1"
    async with running(gateway_for(make_table(upstream.url))) as client:
        response = await client.get("/r", params={"status": "302", "location": location})
    assert response.status_code == 302
    assert response.headers["location"] == "http://public.test/next?a=1"
    assert len(upstream.seen) == 1


@pytest.mark.parametrize("status", [204, 304])
async def test_bodyless_statuses(upstream: FakeUpstream, status: int) -> None:
    async with running(gateway_for(make_table(upstream.url))) as client:
        response = await client.get("/s", params={"status": str(status)})
    assert (response.status_code, response.content) == (status, b"")


async def test_head_has_no_body(upstream: FakeUpstream) -> None:
    async with running(gateway_for(make_table(upstream.url))) as client:
        response = await client.head("/h")
    assert response.status_code == 200
    assert response.content == b""
    assert upstream.seen[0]["method"] == "HEAD"


async def test_refused_connection_is_502_json(closed_port_url: str) -> None:
    async with running(gateway_for(make_table(closed_port_url))) as client:
        response = await client.get("/x", headers={"X-Request-ID": "given-1"})
    assert response.status_code == 502
    assert response.json() == {"error": "upstream refused the connection", "request_id": "given-1"}


async def test_reset_connection_is_502_json(rude_upstream: str) -> None:
    async with running(gateway_for(make_table(rude_upstream))) as client:
        response = await client.get("/reset")
    assert response.status_code == 502
    assert response.json()["error"] == "upstream reset the connection"


async def test_timeout_is_504_json(upstream: FakeUpstream) -> None:
    table = make_table(upstream.url)
    slow = dataclasses.replace(table, legacy=dataclasses.replace(table.legacy, timeout=0.2))
    async with running(gateway_for(slow)) as client:
        response = await client.get("/slow", params={"sleep": "2"})
    assert response.status_code == 504
    assert response.json()["error"] == "upstream timed out"


async def test_upstream_failing_mid_body_aborts_the_response(rude_upstream: str) -> None:
    async with running(gateway_for(make_table(rude_upstream))) as client:
        with pytest.raises(UpstreamBroken):
            await client.get("/truncate")


class Recorder:
    def __init__(self) -> None:
        self.started: tuple[int, list[tuple[bytes, bytes]]] | None = None
        self.chunks: list[bytes] = []
        self.complete: bool | None = None

    def start(self, status: int, headers: list[tuple[bytes, bytes]]) -> None:
        self.started = (status, headers)

    def chunk(self, data: bytes) -> None:
        self.chunks.append(data)

    def end(self, complete: bool) -> None:
        self.complete = complete


async def test_a_tap_sees_the_response_as_it_streams(upstream: FakeUpstream) -> None:
    sent: list[dict[str, Any]] = []
    messages = [{"type": "http.request", "body": b"", "more_body": False}]

    async def receive() -> dict[str, Any]:
        if messages:
            return messages.pop()
        await asyncio.sleep(10)
        return {"type": "http.disconnect"}

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    scope = {
        "type": "http",
        "method": "GET",
        "query_string": b"stream=5",
        "headers": [(b"host", b"public.test")],
    }
    target = Target(upstream_of(upstream.url, preserve_host=True), 5.0)
    view = ClientView("public.test", "http", "127.0.0.1", "rid", False)
    tap = Recorder()
    client = UpstreamClient(4)
    try:
        exchange = Exchange("rid")
        await Forwarder(client).forward(scope, receive, send, "/big", view, target, exchange, tap)
    finally:
        await client.close()
    body = b"".join(m.get("body", b"") for m in sent if m["type"] == "http.response.body")
    assert tap.started is not None and tap.started[0] == 200
    assert b"".join(tap.chunks) == body == b"x" * 5 * 65536
    assert tap.complete is True
    assert exchange.bytes_out == len(body)
    assert sent[-1]["more_body"] is False


async def test_a_client_that_leaves_stops_the_stream(upstream: FakeUpstream) -> None:
    gone = asyncio.Event()
    chunks = 0

    async def receive() -> dict[str, Any]:
        if not gone.is_set() and chunks == 0:
            return {"type": "http.request", "body": b"", "more_body": False}
        await gone.wait()
        return {"type": "http.disconnect"}

    async def send(message: dict[str, Any]) -> None:
        nonlocal chunks
        if message["type"] == "http.response.body":
            chunks += 1
            if chunks == 3:
                gone.set()

    scope = {"type": "http", "method": "GET", "query_string": b"stream=200", "headers": []}
    target = Target(upstream_of(upstream.url, preserve_host=False), 30.0)
    view = ClientView("public.test", "http", "127.0.0.1", "rid", False)
    client = UpstreamClient(4)
    exchange = Exchange("rid")
    try:
        await asyncio.wait_for(
            Forwarder(client).forward(scope, receive, send, "/big", view, target, exchange), 5
        )
    finally:
        await client.close()
    assert exchange.error == "client disconnected"
    assert chunks < 50  # 200 chunks were on offer


async def test_query_strings_reach_the_upstream_byte_for_byte(upstream: FakeUpstream) -> None:
    query = "a=1&a=2&b=%2B+%20&c=%zz&d=&e&f=%E9&g=x%26y"
    async with running(gateway_for(make_table(upstream.url))) as client:
        await client.send(httpx.Request("GET", f"http://public.test/q?{query}"))
    assert upstream.seen[0]["uri"] == f"/q?{query}"


def head_lines(scope_headers: list[tuple[bytes, bytes]], method: str) -> tuple[list[bytes], Any]:
    scope = {"method": method, "headers": scope_headers, "query_string": b"q=1"}
    view = ClientView("public.test", "http", "127.0.0.1", "rid", False)
    request = outgoing(
        scope, "/a b", view, upstream_of("http://127.0.0.1:9/base", preserve_host=True)
    )
    lines = request.head.split(b"\r\n")
    assert lines[-2:] == [b"", b""]
    return lines[:-2], request


def test_the_request_line_carries_the_base_path_the_encoded_path_and_the_query() -> None:
    lines, request = head_lines([(b"host", b"public.test")], "GET")
    assert lines[0] == b"GET /base/a%20b?q=1 HTTP/1.1"
    assert (request.has_body, request.chunked, request.retry, request.head_only) == (
        False, False, True, False,
    )  # fmt: skip


def test_a_chunked_body_beside_a_length_is_sent_chunked_without_the_length() -> None:
    given = [(b"content-length", b"5"), (b"transfer-encoding", b"chunked")]
    lines, request = head_lines(given, "POST")
    assert b"Transfer-Encoding: chunked" in lines
    assert not any(line.lower().startswith(b"content-length") for line in lines)
    assert (request.has_body, request.chunked, request.retry) == (True, True, False)


@pytest.mark.parametrize(
    ("method", "zero"), [("POST", True), ("PUT", True), ("GET", False), ("DELETE", False)]
)
def test_a_bodyless_request_states_its_empty_length_where_the_method_expects_content(
    method: str, zero: bool
) -> None:
    lines, request = head_lines([], method)
    assert (b"Content-Length: 0" in lines) is zero
    assert not request.has_body


CONNECTION_TOKENS = [
    "content-length",
    "transfer-encoding",
    "host",
    "x-forwarded-for",
    "x-request-id",
    "expect",
    "keep-alive",
    "cookie",
]


@pytest.mark.parametrize("token", CONNECTION_TOKENS)
@pytest.mark.parametrize("chunked", [False, True], ids=["length", "chunked"])
def test_connection_can_never_remove_the_framing_the_gateway_sends(
    token: str, chunked: bool
) -> None:
    framing = (b"transfer-encoding", b"chunked") if chunked else (b"content-length", b"37")
    given = [(b"connection", f"keep-alive, {token}".encode()), framing, (b"cookie", b"c=1")]
    lines, request = head_lines(given, "POST")
    lowered = [line.lower() for line in lines]
    sent = [line for line in lowered if line.startswith((b"content-length", b"transfer-enc"))]
    assert sent == ([b"transfer-encoding: chunked"] if chunked else [b"content-length: 37"])
    assert (request.has_body, request.chunked) == (True, chunked)
    assert any(line.startswith(b"host: ") for line in lowered)
