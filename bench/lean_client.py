"""Experiment: the legacy forwarder's GET path on a lean HTTP/1.1 client instead of aiohttp.

Used only by bench/experiments.py, which patches a temporary copy of the gateway so that
`Forwarder.forward` hands body-less GETs without a tap to `lean_get`; everything else (bodies,
HEAD, shadow taps) keeps the aiohttp path. What it shows is what the proposal in
bench/results/latest.md would buy: the gateway's own logic unchanged (normalise, match, header
rules, access line), only the client replaced by

- a keep-alive pool per upstream of `asyncio.Protocol` connections;
- the request head written as one buffer (no URL object, no multidict, no auto headers);
- the response parsed by httptools (the parser uvicorn already uses), headers kept as bytes
  pairs for `response_headers`, the body streamed with read pausing above 256 KiB;
- one timeout for the response head, one retry on a reused connection that was closed.
"""

from __future__ import annotations

import asyncio
import collections
from typing import Any
from urllib.parse import urlsplit

import httptools

_HIGH = 256 * 1024
_pools: dict[str, list[_Conn]] = {}


class _Conn(asyncio.Protocol):
    def __init__(self) -> None:
        self.transport: Any = None
        self.parser = httptools.HttpResponseParser(self)
        self.head: asyncio.Future[int] | None = None
        self.headers: list[tuple[bytes, bytes]] = []
        self.chunks: collections.deque[bytes] = collections.deque()
        self.buffered = 0
        self.wake: asyncio.Future[None] | None = None
        self.complete = False
        self.closed = False
        self.paused = False
        self.keep = False

    def connection_made(self, transport: Any) -> None:
        self.transport = transport

    def data_received(self, data: bytes) -> None:
        try:
            self.parser.feed_data(data)
        except httptools.HttpParserError as exc:
            self._fail(exc)

    def on_header(self, name: bytes, value: bytes) -> None:
        self.headers.append((name, value))

    def on_headers_complete(self) -> None:
        self.keep = self.parser.should_keep_alive()
        if self.head is not None and not self.head.done():
            self.head.set_result(self.parser.get_status_code())

    def on_body(self, body: bytes) -> None:
        self.chunks.append(body)
        self.buffered += len(body)
        if self.buffered > _HIGH and not self.paused:
            self.paused = True
            self.transport.pause_reading()
        self._wake()

    def on_message_complete(self) -> None:
        self.complete = True
        self._wake()

    def _wake(self) -> None:
        if self.wake is not None and not self.wake.done():
            self.wake.set_result(None)

    def _fail(self, exc: BaseException | None) -> None:
        self.closed = True
        for future in (self.head, self.wake):
            if future is not None and not future.done():
                future.set_exception(ConnectionResetError(str(exc or "upstream closed")))

    def connection_lost(self, exc: Exception | None) -> None:
        if not self.complete:
            self._fail(exc)
        self.closed = True

    async def next_chunk(self) -> bytes | None:
        while not self.chunks:
            if self.complete:
                return None
            self.wake = asyncio.get_running_loop().create_future()
            await self.wake
        chunk = self.chunks.popleft()
        self.buffered -= len(chunk)
        if self.paused and self.buffered < _HIGH // 2:
            self.paused = False
            self.transport.resume_reading()
        return chunk

    def reset(self) -> None:
        self.headers, self.complete, self.keep = [], False, False
        self.head = asyncio.get_running_loop().create_future()


async def lean_get(scope: Any, send: Any, path: str, view: Any, target: Any, exchange: Any) -> None:
    from proxy import paths
    from proxy.forwarder import _fail
    from proxy.headers import request_headers, response_headers

    upstream = target.upstream
    idle = _pools.setdefault(upstream.url, [])
    query = scope["query_string"]
    line = f"GET {upstream.base_path}{paths.encode(path)}"
    if query:
        line += "?" + query.decode("latin-1")
    parts = [line, " HTTP/1.1\r\n"]
    for name, value in request_headers(scope["headers"], view, upstream):
        parts += [name, ": ", value, "\r\n"]
    parts.append("\r\n")
    head = "".join(parts).encode("latin-1")
    loop = asyncio.get_running_loop()
    conn: _Conn | None = None
    for attempt in range(2):
        conn = None
        while idle and conn is None:
            candidate = idle.pop()
            conn = None if candidate.closed else candidate
        reused = conn is not None
        try:
            if conn is None:
                u = urlsplit(upstream.url)
                _, conn = await loop.create_connection(_Conn, u.hostname, u.port)
            conn.reset()
            conn.transport.write(head)
            assert conn.head is not None
            status = await asyncio.wait_for(conn.head, target.timeout.total)
        except (OSError, TimeoutError) as exc:
            if attempt == 0 and reused and not isinstance(exc, TimeoutError):
                continue
            await _fail(send, exchange, exc, None)
            return
        break
    assert conn is not None
    exchange.status = status
    headers = response_headers(conn.headers, view, upstream)
    await send({"type": "http.response.start", "status": status, "headers": headers})
    sent = 0
    while True:
        chunk = await conn.next_chunk()
        if chunk is None:
            await send({"type": "http.response.body", "body": b"", "more_body": False})
            break
        sent += len(chunk)
        last = conn.complete and not conn.chunks
        await send({"type": "http.response.body", "body": chunk, "more_body": not last})
        if last:
            break
    exchange.bytes_out = sent
    if conn.keep and not conn.closed:
        idle.append(conn)
    else:
        conn.transport.close()
