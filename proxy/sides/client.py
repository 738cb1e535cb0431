"""The gateway's HTTP/1.1 client to its upstreams, on the shared pools of `proxy.sides.pool`.

An `aiohttp.ClientSession` measured as about half of a forwarded request's CPU on a tiny
upstream (URL objects, multidicts, default headers, a timer handle and a request object per
call), so the gateway speaks HTTP/1.1 itself here, doing only what a pass-through needs:

- the request head written as one bytes buffer, the body streamed as it arrives (with the
  framing the forwarder decided: a Content-Length, or chunked), paused while the upstream's
  socket is full;
- the response parsed by httptools (the parser uvicorn uses for the client side), header pairs
  kept as the upstream's bytes, body chunks handed on as they arrive (see `proxy.sides.pool`
  for read-ahead, pooling and the time budget);
- exactly one response per request: bytes after it on a connection that was not asked for
  more are an upstream error (that connection is closed), never part of the response.

A kept-alive connection that turns out to be closed when it is reused fails with `UpstreamReset`
before any byte of the response, which callers may retry once for idempotent requests, as nginx
does.
"""

from __future__ import annotations

import asyncio
from typing import Protocol
from urllib.parse import urlsplit

import httptools

from proxy.sides.headers import Headers
from proxy.sides.pool import (
    Address,
    Pool,
    Stream,
    UpstreamInvalid,
    UpstreamRefused,
    UpstreamReset,
)
from proxy.table.targets import Upstream


class Body(Protocol):
    """A request body read chunk by chunk; b"" once it has ended."""

    async def read(self) -> bytes: ...


class BytesBody:
    """A request body held in memory (a shadow side's replayed body)."""

    __slots__ = ("data", "done")

    def __init__(self, data: bytes) -> None:
        self.data = data
        self.done = False

    async def read(self) -> bytes:
        if self.done:
            return b""
        self.done = True
        return self.data

    def rewind(self) -> None:
        """Send it again from its start (a request retried on a fresh connection)."""
        self.done = False


def request_head(method: str, target: str, headers: Headers) -> bytes:
    """The request line and headers as one buffer (`target` is already percent-encoded)."""
    parts = [f"{method} {target} HTTP/1.1\r\n".encode("latin-1")]
    for name, value in headers:
        parts += (name, b": ", value, b"\r\n")
    parts.append(b"\r\n")
    return b"".join(parts)


class _Second(Exception):
    """A second response began on a connection that carried one already."""


class Response(Stream):
    """One HTTP/1.1 connection to an upstream, and the response of the exchange it carries."""

    def __init__(self, pool: Pool[Response]) -> None:
        super().__init__(pool)
        self.parser: httptools.HttpResponseParser | None = None
        self._head_only = False
        self._informational = False
        self._until_eof = False
        self._final = False  # the final (non-1xx) response of this exchange has begun

    def begin(self, deadline: float, head_only: bool = False) -> None:
        if self.parser is None:
            # one parser carries a connection's successive responses; a new one only after a
            # HEAD, whose response leaves the parser waiting for a body that never comes
            self.parser = httptools.HttpResponseParser(self)
        self._head_only, self._until_eof, self._informational = head_only, False, False
        self._final = False
        super().begin(deadline)

    def _retired(self) -> None:
        self.parser = None  # its callbacks are this object's methods: a cycle per exchange

    def _recycled(self) -> None:
        super()._recycled()
        if self._head_only:
            self.parser = None  # left waiting for a body a HEAD answer never has

    def _reset(self) -> None:
        if self._head_only:
            self.parser = None

    # -- asyncio.Protocol

    def data_received(self, data: bytes) -> None:
        parser = self.parser
        if parser is None or not self._active or self.complete:
            # bytes nobody asked for (an idle connection, or after the response): unusable
            self._unasked()
            return
        try:
            parser.feed_data(data)
        except httptools.HttpParserCallbackError as exc:
            if isinstance(exc.__context__, _Second) or isinstance(exc.__cause__, _Second):
                self._unasked()
            else:
                self._fail(UpstreamInvalid())
        except httptools.HttpParserUpgrade:
            self._fail(UpstreamInvalid())  # upgrades (101) are not forwarded
        except httptools.HttpParserError:
            self._fail(UpstreamInvalid())
        else:
            self._settle_if_busy()

    def connection_lost(self, exc: Exception | None) -> None:
        if self.status and self._until_eof and exc is None and not self.complete:
            self.complete = True  # a body delimited by the end of the connection has ended
            self.keep_alive = False
            self._wake()
        super().connection_lost(exc)

    # -- httptools callbacks

    def on_message_begin(self) -> None:
        if self._final or self.complete:
            raise _Second  # stops the parser: what follows is not this exchange's

    def on_header(self, name: bytes, value: bytes) -> None:
        self.headers.append((name, value))

    def on_headers_complete(self) -> None:
        assert self.parser is not None
        status = self.parser.get_status_code()
        if status < 200:
            self._informational = True  # 100 Continue, 103 Early Hints: wait for the real one
            self.headers = []
            return
        self._final = True
        if self._head_only:
            self.complete = True  # a HEAD response has no body, whatever its headers say
        elif status not in (204, 304):
            self._until_eof = not any(
                name.lower() in (b"content-length", b"transfer-encoding")
                for name, _ in self.headers
            )
        self._headers_done(status, self.parser.should_keep_alive())

    def on_body(self, body: bytes) -> None:
        if not self._head_only:
            self._push_body(body)

    def on_message_complete(self) -> None:
        if self._informational:
            self._informational = False
            return
        self._message_done()


class UpstreamClient:
    """The one client of a gateway process (create inside a running loop).

    `read_ahead`: response bytes read from an upstream ahead of the client (`limits.
    buffer_response`); a response that fits frees its upstream connection at once."""

    def __init__(self, pool_size: int = 100, read_ahead: int | None = None) -> None:
        self.pool_size = pool_size
        self.read_ahead = read_ahead
        self.loop = asyncio.get_running_loop()
        self._pools: dict[str, Pool[Response]] = {}
        self.closed = False

    def _pool(self, upstream: Upstream) -> Pool[Response]:
        pool = self._pools.get(upstream.url)
        if pool is None:
            pool = self._pools[upstream.url] = Pool(
                address_of(upstream),
                self.pool_size,
                self.loop,
                Response,
                read_ahead=self.read_ahead,
            )
        return pool

    async def send(
        self,
        upstream: Upstream,
        budget: float,
        head: bytes,
        body: Body | None = None,
        *,
        chunked: bool = False,
        retry: bool = False,
        head_only: bool = False,
    ) -> Response:
        """Send one request; returns when the response's status and headers have arrived.

        `budget`: seconds for the whole exchange, from now until the body's last byte.
        `retry`: a kept-alive connection found closed before any response byte is replaced by
        a new one once (only for requests without a body, which cannot be replayed).
        """
        if self.closed:
            raise UpstreamRefused("the client is closed")
        pool = self._pool(upstream)
        deadline = self.loop.time() + budget
        while True:
            conn, reused = await pool.acquire(deadline)
            conn.begin(deadline, head_only)
            try:
                await conn.write(head)
                if body is not None:
                    await _send_body(conn, body, chunked)
                conn.sent()
                await conn.wait_head()
            except UpstreamReset:
                conn.finish()
                if retry and reused:
                    retry = False
                    continue
                raise
            except BaseException:
                conn.finish()
                raise
            return conn

    def forget(self, upstream: Upstream) -> None:
        """An upstream that is gone for good (a native worker that died): its idle
        connections are closed, and exchanges under way on it end as they fail."""
        pool = self._pools.pop(upstream.url, None)
        if pool is not None:
            pool.close()

    async def close(self) -> None:
        self.closed = True
        for pool in self._pools.values():
            pool.close()
        self._pools.clear()


async def _send_body(conn: Response, body: Body, chunked: bool) -> None:
    try:
        while data := await body.read():
            if chunked:
                await conn.write(b"%x\r\n%b\r\n" % (len(data), data))
            else:
                await conn.write(data)
        if chunked:
            await conn.write(b"0\r\n\r\n")
    except UpstreamReset:
        if not conn.status:
            raise
        # the upstream answered before it read the whole body, then closed: its answer stands


def address_of(upstream: Upstream) -> Address:
    if upstream.socket:
        return Address(path=upstream.socket)
    parts = urlsplit(upstream.url)
    https = parts.scheme.lower() == "https"
    return Address(parts.hostname or "", parts.port or (443 if https else 80), https)
