"""The gateway's HTTP/1.1 client to its upstreams: keep-alive pools of asyncio protocols.

DESIGN.md puts one `aiohttp.ClientSession` on the proxied path. bench/ measured that session as
the largest share of a forwarded request's CPU (about half of ~175 µs on a tiny upstream: URL
objects, multidicts, default headers, a timer handle and a request object per call), so the
gateway speaks HTTP/1.1 itself here, doing only what a pass-through needs:

- one pool per upstream of at most `pool_size` connections, idle ones reused last-in first-out
  and closed after `KEEPALIVE` seconds of idleness;
- the request head written as one bytes buffer, the body streamed as it arrives (with
  `Content-Length` as the client sent it, or chunked), paused while the upstream's socket is full;
- the response parsed by httptools (the parser uvicorn uses for the client side), header pairs
  kept as the upstream's bytes, body chunks handed on as they arrive, reading paused above
  `HIGH_WATER` buffered bytes so memory stays flat whatever the body's size;
- one time budget for the whole exchange (connect, head and body), as `legacy.timeout`
  promises, checked for all exchanges every `TICK` rather than with a timer each.

An upstream failure raises one of the `UpstreamError` kinds below; `proxy.forwarder` maps them to
502/504 (or aborts a response already begun). A kept-alive connection that turns out to be closed
when it is reused fails with `UpstreamReset` before any byte of the response, which callers may
retry once for idempotent requests, as nginx does.
"""

from __future__ import annotations

import asyncio
import collections
import ssl
from collections.abc import Callable
from typing import Protocol, cast
from urllib.parse import urlsplit

import httptools

from proxy.sides.headers import Headers
from proxy.table.targets import Upstream

KEEPALIVE = 15.0  # seconds an idle connection is kept (below nginx's and PHP-FPM's defaults)
HIGH_WATER = 256 * 1024  # buffered response bytes above which reading from the upstream pauses
LOW_WATER = HIGH_WATER // 4
TICK = 0.05  # seconds between checks for exchanges past their deadline


class UpstreamError(Exception):
    """The upstream failed; `reason` is the gateway's words for it."""

    reason = "upstream failed"


class UpstreamRefused(UpstreamError):
    reason = "upstream refused the connection"


class UpstreamReset(UpstreamError):
    reason = "upstream reset the connection"


class UpstreamTimeout(UpstreamError, TimeoutError):
    reason = "upstream timed out"


class UpstreamInvalid(UpstreamError):
    reason = "upstream sent an invalid response"


class Aborted(UpstreamError):
    """The exchange was abandoned by the gateway (the client left)."""

    reason = "exchange abandoned"


class Body(Protocol):
    """A request body read chunk by chunk; b"" once it has ended."""

    async def read(self) -> bytes: ...


class BytesBody:
    """A request body held in memory (a shadow side's replayed body)."""

    __slots__ = ("data",)

    def __init__(self, data: bytes) -> None:
        self.data = data

    async def read(self) -> bytes:
        data, self.data = self.data, b""
        return data


def request_head(method: str, target: str, headers: Headers) -> bytes:
    """The request line and headers as one buffer (`target` is already percent-encoded)."""
    parts = [f"{method} {target} HTTP/1.1\r\n".encode("latin-1")]
    for name, value in headers:
        parts += (name, b": ", value, b"\r\n")
    parts.append(b"\r\n")
    return b"".join(parts)


class Response(asyncio.Protocol):
    """One connection to an upstream, and the response of the exchange it is carrying.

    After `UpstreamClient.send` returns, `status` and `headers` are set; `read()` yields the
    body; `finish()` must be called once the caller is done, and gives the connection back to
    its pool when the exchange ended cleanly.
    """

    def __init__(self, pool: _Pool) -> None:
        self.pool = pool
        self.transport: asyncio.Transport | None = None
        self.parser: httptools.HttpResponseParser | None = None
        self.status = 0
        self.headers: Headers = []
        self.complete = False
        self.keep_alive = False
        self.error: UpstreamError | None = None
        self.counted = True  # holds one of the pool's slots
        self.idle_since = 0.0
        self._chunks: collections.deque[bytes] = collections.deque()
        self._buffered = 0
        self._waiter: asyncio.Future[None] | None = None
        self._drain: asyncio.Future[None] | None = None
        self.deadline = 0.0
        self._head_only = False
        self._informational = False
        self._until_eof = False
        self._reading_paused = False
        self._writing_paused = False
        self._active = False

    # -- the exchange, as the caller drives it

    def begin(self, deadline: float, head_only: bool) -> None:
        if self.parser is None:
            # one parser carries a connection's successive responses; a new one only after a
            # HEAD, whose response leaves the parser waiting for a body that never comes
            self.parser = httptools.HttpResponseParser(self)
        self.status, self.headers, self.complete, self.keep_alive = 0, [], False, False
        self._head_only, self._until_eof, self._informational = head_only, False, False
        self._active = True
        self.deadline = deadline
        self.pool.watch(self)

    async def write(self, data: bytes) -> None:
        if self.error is not None:
            raise self.error
        if self.transport is None:  # closed after a complete response (it answered early)
            raise UpstreamReset()
        self.transport.write(data)
        while self._writing_paused and self.error is None:
            self._drain = self.pool.loop.create_future()
            try:
                await self._drain
            finally:
                self._drain = None

    async def wait_head(self) -> None:
        while not self.status:
            if self.error is not None:
                raise self.error
            await self._wait()

    async def read(self) -> bytes:
        """The next body chunk; b"" when the body has ended."""
        while not self._chunks:
            if self.complete:
                return b""
            if self.error is not None:
                raise self.error
            await self._wait()
        chunk = self._chunks.popleft()
        self._buffered -= len(chunk)
        if self._reading_paused and self._buffered <= LOW_WATER:
            self._reading_paused = False
            if self.transport is not None and self.error is None:
                self.transport.resume_reading()
        return chunk

    @property
    def drained(self) -> bool:
        """Whether the body has ended and every chunk has been read."""
        return self.complete and not self._chunks

    def abort(self) -> None:
        """Abandon the exchange: wakes a waiting `read` with `Aborted`, drops the connection."""
        self._fail(Aborted())

    def finish(self) -> None:
        """End the exchange: the connection goes back to the pool if it can carry another."""
        if not self._active:
            return
        self._active = False
        self.pool.unwatch(self)
        if self._head_only:
            self.parser = None
        self._chunks.clear()
        self._buffered = 0
        if self.complete and self.keep_alive and self.error is None and not self._reading_paused:
            self.pool.release(self)
        else:
            self.close()

    def close(self) -> None:
        if self.transport is not None:
            self.transport.abort()  # no lingering half-read exchange on a socket we drop
        self.pool.forget(self)

    # -- asyncio.Protocol

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = cast(asyncio.Transport, transport)  # uvloop's is not a subclass

    def data_received(self, data: bytes) -> None:
        parser = self.parser
        if parser is None or not self._active or self.complete:
            # bytes nobody asked for (an idle connection, or after the response): unusable
            self._fail(UpstreamInvalid())
            return
        try:
            parser.feed_data(data)
        except httptools.HttpParserUpgrade:
            self._fail(UpstreamInvalid())  # upgrades (101) are not forwarded
        except httptools.HttpParserError:
            self._fail(UpstreamInvalid())

    def eof_received(self) -> bool | None:
        return False  # close the transport; connection_lost follows

    def connection_lost(self, exc: Exception | None) -> None:
        if self.status and self._until_eof and exc is None and not self.complete:
            self.complete = True  # a body delimited by the end of the connection has ended
            self.keep_alive = False
            self._wake()
        self._fail(UpstreamReset())
        self.transport = None
        self.pool.forget(self)

    def pause_writing(self) -> None:
        self._writing_paused = True

    def resume_writing(self) -> None:
        self._writing_paused = False
        if self._drain is not None and not self._drain.done():
            self._drain.set_result(None)

    # -- httptools callbacks

    def on_header(self, name: bytes, value: bytes) -> None:
        self.headers.append((name, value))

    def on_headers_complete(self) -> None:
        assert self.parser is not None
        status = self.parser.get_status_code()
        if status < 200:
            self._informational = True  # 100 Continue, 103 Early Hints: wait for the real one
            self.headers = []
            return
        self.keep_alive = self.parser.should_keep_alive()
        if self._head_only:
            self.complete = True  # a HEAD response has no body, whatever its headers say
        elif status not in (204, 304):
            self._until_eof = not any(
                name.lower() in (b"content-length", b"transfer-encoding")
                for name, _ in self.headers
            )
        self.status = status
        self._wake()

    def on_body(self, body: bytes) -> None:
        if self._head_only:
            return
        self._chunks.append(body)
        self._buffered += len(body)
        if self._buffered > HIGH_WATER and not self._reading_paused:
            self._reading_paused = True
            assert self.transport is not None
            self.transport.pause_reading()
        self._wake()

    def on_message_complete(self) -> None:
        if self._informational:
            self._informational = False
            return
        self.complete = True
        self._wake()

    # -- internals

    async def _wait(self) -> None:
        self._waiter = self.pool.loop.create_future()
        try:
            await self._waiter
        finally:
            self._waiter = None

    def _wake(self) -> None:
        waiter = self._waiter
        if waiter is not None and not waiter.done():
            waiter.set_result(None)

    def expire(self) -> None:
        self._fail(UpstreamTimeout())

    def _fail(self, error: UpstreamError) -> None:
        if self.error is None and not (self.complete and isinstance(error, UpstreamReset)):
            self.error = error
        for future in (self._waiter, self._drain):
            if future is not None and not future.done():
                future.set_exception(error)
        if self.transport is not None and not isinstance(error, UpstreamReset):
            self.transport.abort()


class _Pool:
    """The connections to one upstream."""

    def __init__(self, upstream: Upstream, limit: int, loop: asyncio.AbstractEventLoop) -> None:
        parts = urlsplit(upstream.url)
        self.host = parts.hostname or ""
        https = parts.scheme.lower() == "https"
        self.port = parts.port or (443 if https else 80)
        self.ssl: ssl.SSLContext | None = ssl.create_default_context() if https else None
        self.limit = limit
        self.loop = loop
        self.open = 0
        self.idle: list[Response] = []
        self.waiters: collections.deque[asyncio.Future[None]] = collections.deque()
        self.factory: Callable[[], Response] = lambda: Response(self)
        # exchanges under way; one sweep every TICK expires those past their deadline (cheaper
        # than a timer per request, and a budget is seconds, not milliseconds)
        self.active: dict[Response, None] = {}
        self.sweeping: asyncio.TimerHandle | None = None

    def watch(self, conn: Response) -> None:
        self.active[conn] = None
        if self.sweeping is None:
            self.sweeping = self.loop.call_later(TICK, self._sweep)

    def unwatch(self, conn: Response) -> None:
        self.active.pop(conn, None)

    def _sweep(self) -> None:
        now = self.loop.time()
        for conn in [c for c in self.active if c.deadline <= now]:
            conn.expire()
        self.sweeping = self.loop.call_later(TICK, self._sweep) if self.active else None

    async def acquire(self, deadline: float) -> tuple[Response, bool]:
        """A connection, and whether it was kept alive from an earlier exchange."""
        while True:
            now = self.loop.time()
            while self.idle:
                conn = self.idle.pop()
                if conn.transport is not None and now - conn.idle_since < KEEPALIVE:
                    return conn, True
                conn.close()
            if self.open < self.limit:
                break
            waiter = self.loop.create_future()
            self.waiters.append(waiter)
            try:
                async with asyncio.timeout_at(deadline):
                    await waiter
            except TimeoutError:
                raise UpstreamTimeout() from None
            finally:
                if waiter in self.waiters:
                    self.waiters.remove(waiter)
        self.open += 1
        try:
            async with asyncio.timeout_at(deadline):
                _, conn = await self.loop.create_connection(
                    self.factory, self.host, self.port, ssl=self.ssl
                )
        except TimeoutError:
            self._freed()
            raise UpstreamTimeout() from None
        except OSError as exc:
            self._freed()
            raise UpstreamRefused(str(exc)) from exc
        except BaseException:
            self._freed()
            raise
        return conn, False

    def release(self, conn: Response) -> None:
        conn.idle_since = self.loop.time()
        self.idle.append(conn)
        self._wake_one()

    def forget(self, conn: Response) -> None:
        if conn.counted:
            conn.counted = False
            self._freed()

    def _freed(self) -> None:
        self.open -= 1
        self._wake_one()

    def _wake_one(self) -> None:
        while self.waiters:
            waiter = self.waiters.popleft()
            if not waiter.done():
                waiter.set_result(None)
                return

    def close(self) -> None:
        for conn in self.idle:
            conn.close()
        self.idle.clear()
        if self.sweeping is not None:
            self.sweeping.cancel()
            self.sweeping = None


class UpstreamClient:
    """The one client of a gateway process (create inside a running loop)."""

    def __init__(self, pool_size: int = 100) -> None:
        self.pool_size = pool_size
        self.loop = asyncio.get_running_loop()
        self._pools: dict[str, _Pool] = {}
        self.closed = False

    def _pool(self, upstream: Upstream) -> _Pool:
        pool = self._pools.get(upstream.url)
        if pool is None:
            pool = self._pools[upstream.url] = _Pool(upstream, self.pool_size, self.loop)
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
