"""Reference proxies for part 5: the least a Python pass-through can cost.

    aiohttp  a bare ASGI callable and one aiohttp ClientSession, nothing else (no logging, no
             header rules, no matching): the floor of a pass-through on aiohttp's client
    raw      a bare ASGI callable and a keep-alive pool of asyncio protocols that write the
             request head in one buffer and parse the response with httptools: the floor of a
             lean HTTP/1.1 client (buffers the response; a real one would stream)

Neither is a product: they are yardsticks, served by the same uvicorn (uvloop, httptools) as the
gateway. Run: UP=http://127.0.0.1:PORT python -m bench.floors aiohttp|raw PORT
"""

from __future__ import annotations

import asyncio
import os
import sys
from typing import Any
from urllib.parse import urlsplit

HOP = frozenset({b"connection", b"keep-alive", b"transfer-encoding", b"te", b"trailer", b"upgrade"})
Scope = dict[str, Any]


async def _lifespan(receive: Any, send: Any, start: Any = None) -> None:
    while True:
        message = await receive()
        if message["type"] == "lifespan.startup":
            if start is not None:
                start()
            await send({"type": "lifespan.startup.complete"})
        else:
            await send({"type": "lifespan.shutdown.complete"})
            return


def aiohttp_app(upstream: str) -> Any:
    import aiohttp

    state: dict[str, aiohttp.ClientSession] = {}

    def start() -> None:
        state["s"] = aiohttp.ClientSession(
            connector=aiohttp.TCPConnector(limit=100),
            auto_decompress=False,
            cookie_jar=aiohttp.DummyCookieJar(),
            skip_auto_headers=("User-Agent", "Accept", "Accept-Encoding", "Content-Type"),
        )

    async def app(scope: Scope, receive: Any, send: Any) -> None:
        if scope["type"] == "lifespan":
            await _lifespan(receive, send, start)
            return
        headers = [(k.decode("latin-1"), v.decode("latin-1")) for k, v in scope["headers"]]
        url = upstream + scope["path"]
        async with state["s"].request(
            scope["method"], url, headers=headers, allow_redirects=False
        ) as r:
            out = [(k.lower(), v) for k, v in r.raw_headers if k.lower() not in HOP]
            await send({"type": "http.response.start", "status": r.status, "headers": out})
            while True:
                chunk = await r.content.readany()
                last = not chunk or r.content.at_eof()
                await send({"type": "http.response.body", "body": chunk, "more_body": not last})
                if last:
                    break

    return app


class _Conn(asyncio.Protocol):
    def __init__(self) -> None:
        import httptools

        self.transport: Any = None
        self.parser = httptools.HttpResponseParser(self)
        self.waiter: asyncio.Future[Any] | None = None
        self.headers: list[tuple[bytes, bytes]] = []
        self.body: list[bytes] = []
        self.closed = False

    def connection_made(self, transport: Any) -> None:
        self.transport = transport

    def data_received(self, data: bytes) -> None:
        self.parser.feed_data(data)

    def on_header(self, name: bytes, value: bytes) -> None:
        self.headers.append((name.lower(), value))

    def on_body(self, body: bytes) -> None:
        self.body.append(body)

    def on_message_complete(self) -> None:
        waiter, self.waiter = self.waiter, None
        if waiter is not None and not waiter.done():
            status = self.parser.get_status_code()
            keep = self.parser.should_keep_alive()
            waiter.set_result((status, self.headers, b"".join(self.body), keep))

    def connection_lost(self, exc: Exception | None) -> None:
        self.closed = True
        waiter, self.waiter = self.waiter, None
        if waiter is not None and not waiter.done():
            waiter.set_exception(ConnectionError("upstream closed"))

    async def request(self, head: bytes) -> Any:
        self.headers, self.body = [], []
        self.waiter = asyncio.get_running_loop().create_future()
        self.transport.write(head)
        return await self.waiter


def raw_app(upstream: str) -> Any:
    parts = urlsplit(upstream)
    host, port = parts.hostname, parts.port
    idle: list[_Conn] = []

    async def connection() -> _Conn:
        while idle:
            conn = idle.pop()
            if not conn.closed:
                return conn
        _, conn = await asyncio.get_running_loop().create_connection(_Conn, host, port)
        return conn

    async def app(scope: Scope, receive: Any, send: Any) -> None:
        if scope["type"] == "lifespan":
            await _lifespan(receive, send)
            return
        head = [scope["method"].encode(), b" ", scope["raw_path"]]
        if scope["query_string"]:
            head += [b"?", scope["query_string"]]
        head.append(b" HTTP/1.1\r\n")
        for name, value in scope["headers"]:
            if name not in HOP:
                head += [name, b": ", value, b"\r\n"]
        head.append(b"\r\n")
        conn = await connection()
        status, headers, body, keep = await conn.request(b"".join(head))
        if keep:
            idle.append(conn)
        else:
            conn.transport.close()
        out = [(k, v) for k, v in headers if k not in HOP]
        await send({"type": "http.response.start", "status": status, "headers": out})
        await send({"type": "http.response.body", "body": body})

    return app


def main() -> None:
    import uvicorn

    kind, port = sys.argv[1], int(sys.argv[2])
    upstream = os.environ["UP"]
    app = aiohttp_app(upstream) if kind == "aiohttp" else raw_app(upstream)
    uvicorn.run(
        app,
        host="127.0.0.1",
        port=port,
        loop="uvloop",
        http="httptools",
        access_log=False,
        proxy_headers=False,
        log_level="warning",
        lifespan="on",
    )


if __name__ == "__main__":
    main()
