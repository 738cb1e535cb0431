"""Connections to an upstream, pooled, and the stream of one exchange on each.

Every upstream protocol of the gateway (HTTP/1.1 in `proxy.sides.client`, FastCGI) shares this:

- `Pool`: at most `limit` connections to one address (TCP, TLS or a unix socket); idle ones
  reused last-in first-out, at most `max_idle` of them, each closed after `keepalive` seconds
  of idleness by the pool's own sweep (an idle connection can pin a worker upstream);
- one time budget per exchange (connect, request and the whole response), checked for all of
  a pool's exchanges every `TICK` rather than with a timer each;
- `Stream`: one connection's asyncio protocol, carrying one exchange at a time. A subclass
  parses its protocol's bytes and calls `_headers_done`, `_push_body` and `_message_done`;
  the caller reads the body with `read()` as it arrives. Reading from the upstream pauses above
  `read_ahead` buffered bytes, so memory stays flat whatever the body's size; a response that
  fits is read whole and its connection goes back to the pool at once, so a slow client never
  holds an upstream connection (nor a PHP worker) for a response already received.

Failures raise one of the `UpstreamError` kinds; the forwarder maps them to 502/504.
"""

from __future__ import annotations

import asyncio
import collections
import ssl
from collections.abc import Callable
from dataclasses import dataclass
from typing import Generic, TypeVar, cast

KEEPALIVE = 15.0  # seconds an idle connection is kept (below nginx's and PHP-FPM's defaults)
READ_AHEAD = 1024 * 1024  # buffered response bytes above which reading from the upstream pauses
TICK = 0.05  # seconds between checks for exchanges past their deadline
IDLE_TICK = 1.0  # seconds between checks for idle connections past `keepalive`


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


@dataclass(frozen=True, slots=True)
class Address:
    """Where an upstream listens: a host and port (with TLS or not), or a unix socket."""

    host: str = ""
    port: int = 0
    tls: bool = False
    path: str = ""  # a unix socket; host and port are then unused

    def __str__(self) -> str:
        return f"unix:{self.path}" if self.path else f"{self.host}:{self.port}"


S = TypeVar("S", bound="Stream")


class Stream(asyncio.Protocol):
    """One connection to an upstream, and the response of the exchange it is carrying.

    After the exchange's head has arrived, `status` and `headers` are set; `read()` yields the
    body; `finish()` must be called once the caller is done, and gives the connection back to
    its pool when the exchange ended cleanly (or has already given it back).
    """

    def __init__(self, pool: Pool[S]) -> None:
        self.pool: Pool[Stream] = cast("Pool[Stream]", pool)
        self.transport: asyncio.Transport | None = None
        self.counted = True  # holds one of the pool's slots
        self.idle_since = 0.0
        self.deadline = 0.0
        self.status = 0
        self.headers: list[tuple[bytes, bytes]] = []
        self.complete = False
        self.keep_alive = False
        self.error: UpstreamError | None = None
        self._chunks: collections.deque[bytes] = collections.deque()
        self._buffered = 0
        self._waiter: asyncio.Future[None] | None = None
        self._drain: asyncio.Future[None] | None = None
        self._reading_paused = False
        self._writing_paused = False
        self._active = False
        self._sent = False  # the whole request has been written
        self._handed_over = False  # its connection went on in another object (see _settle)

    # -- the exchange, as the caller drives it

    def begin(self, deadline: float) -> None:
        self.status, self.headers, self.complete, self.keep_alive = 0, [], False, False
        self._active, self._sent = True, False
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

    def sent(self) -> None:
        """The whole request is written: a complete response may now release the connection."""
        self._sent = True
        if self.complete:
            self._settle()

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
        if self._reading_paused and self._buffered <= self.pool.read_ahead // 4:
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
        self._chunks.clear()
        self._buffered = 0
        if self.transport is None and not self.counted:
            if self._handed_over:  # its connection carries on in another object: this one,
                self.pool.spare(self)  # its parser between two messages, may carry the next
            return  # released when the response completed, or closed
        if self._reusable() and not self._reading_paused:
            self._reset()
            self.pool.release(self)
        else:
            self.close()

    def close(self) -> None:
        if self.transport is not None:
            self.transport.abort()  # no lingering half-read exchange on a socket we drop
        self.pool.forget(self)

    # -- for subclasses: what the parser found

    def _headers_done(self, status: int, keep_alive: bool) -> None:
        self.keep_alive = keep_alive
        self.status = status
        self._wake()

    def _push_body(self, data: bytes) -> None:
        self._chunks.append(data)
        self._buffered += len(data)
        if self._buffered > self.pool.read_ahead and not self._reading_paused:
            self._reading_paused = True
            if self.transport is not None:
                self.transport.pause_reading()
        self._wake()

    def _message_done(self) -> None:
        self.complete = True
        self._wake()

    def _reusable(self) -> bool:
        return self.complete and self.keep_alive and self.error is None

    def _reset(self) -> None:
        """Make ready for the connection's next exchange (a parser that must start afresh)."""

    def _retired(self) -> None:
        """This object carries no more exchanges: drop what refers back to it (a parser holding
        its callbacks), so it is freed when its reader is done, not by a garbage collection."""

    def _unasked(self, error: UpstreamError | None = None) -> None:
        """Bytes outside an exchange (an idle connection, or after the response): a complete
        response stands and the connection is dropped; otherwise the exchange fails."""
        if self.complete and self.error is None:
            self.keep_alive = False
            if self.transport is not None:
                self.transport.abort()
        else:
            self._fail(error if error is not None else UpstreamInvalid())

    def _settle_if_busy(self) -> None:
        """After bytes arrived: a response complete while its reader is busy elsewhere (sending
        to a slow client) gives its connection back now, not when that reader is done."""
        if self.complete and self._waiter is None:
            self._settle()

    def _settle(self) -> None:
        """A complete response while the caller is busy elsewhere: hand the connection to
        another protocol object in the pool, keeping only the buffered body here. (A caller
        waiting to read gets the response at once and ends the exchange itself: no hand-over.)"""
        transport = self.transport
        if transport is None or not self._reusable() or not (self._sent and self._active):
            return
        successor = self.pool.successor()
        successor.transport = transport
        transport.set_protocol(successor)
        if self._reading_paused:
            transport.resume_reading()
        self.transport, self.counted, self._handed_over = None, False, True
        self.pool.unwatch(self)
        self.pool.release(successor)

    def _recycled(self) -> None:
        """Ready to carry another connection's exchanges (an object handed back by `finish`)."""
        self.counted, self.error, self._handed_over = True, None, False
        self._reading_paused = self._writing_paused = False
        self._waiter = self._drain = None

    # -- asyncio.Protocol

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = cast(asyncio.Transport, transport)  # uvloop's is not a subclass

    def eof_received(self) -> bool | None:
        return False  # close the transport; connection_lost follows

    def connection_lost(self, exc: Exception | None) -> None:
        self._fail(UpstreamReset())
        self.transport = None
        self.pool.forget(self)

    def pause_writing(self) -> None:
        self._writing_paused = True

    def resume_writing(self) -> None:
        self._writing_paused = False
        if self._drain is not None and not self._drain.done():
            self._drain.set_result(None)

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


class Pool(Generic[S]):
    """The connections to one upstream address."""

    def __init__(
        self,
        address: Address,
        limit: int,
        loop: asyncio.AbstractEventLoop,
        factory: Callable[[Pool[S]], S],
        *,
        max_idle: int | None = None,
        keepalive: float | None = None,
        read_ahead: int | None = None,
    ) -> None:
        self.address = address
        self.ssl: ssl.SSLContext | None = ssl.create_default_context() if address.tls else None
        self.limit = limit
        self.max_idle = limit if max_idle is None else max_idle
        self.keepalive = KEEPALIVE if keepalive is None else keepalive
        self.read_ahead = READ_AHEAD if read_ahead is None else read_ahead
        self.loop = loop
        self.open = 0
        self.idle: list[S] = []
        self.waiters: collections.deque[asyncio.Future[None]] = collections.deque()
        self.factory: Callable[[], S] = lambda: factory(self)
        # exchanges under way; one sweep every TICK expires those past their deadline (cheaper
        # than a timer per request, and a budget is seconds, not milliseconds)
        self.active: dict[S, None] = {}
        self.sweeping: asyncio.TimerHandle | None = None
        # protocol objects whose connection moved on when their response completed: reused for
        # the next hand-over, so a request allocates none (and leaves no garbage to collect)
        self.spares: list[S] = []
        self._sweep_at = 0.0
        self._idle_sweep = False  # the pending sweep is the slow one for idle connections
        self._idle_checked = 0.0

    def watch(self, conn: S) -> None:
        self.active[conn] = None
        if self.sweeping is None or self._idle_sweep:
            self._schedule()

    def unwatch(self, conn: S) -> None:
        self.active.pop(conn, None)

    def _schedule(self) -> None:
        """One timer per pool: every TICK while exchanges run, every IDLE_TICK while only idle
        connections wait (a sweep due later than an exchange needs is brought forward)."""
        due = self.loop.time() + (TICK if self.active else IDLE_TICK)
        if self.sweeping is not None:
            if self._sweep_at <= due:
                return
            self.sweeping.cancel()
        self._sweep_at, self._idle_sweep = due, not self.active
        self.sweeping = self.loop.call_at(due, self._sweep)

    def _sweep(self) -> None:
        self.sweeping = None
        now = self.loop.time()
        for conn in [c for c in self.active if c.deadline <= now]:
            conn.expire()
        if self.idle and now - self._idle_checked >= IDLE_TICK:
            self._idle_checked = now
            stale = [c for c in self.idle if now - c.idle_since >= self.keepalive]
            for conn in stale:
                self.idle.remove(conn)
                conn.close()
        if self.active or self.idle:
            self._schedule()

    async def acquire(self, deadline: float) -> tuple[S, bool]:
        """A connection, and whether it was kept alive from an earlier exchange."""
        while True:
            now = self.loop.time()
            while self.idle:
                conn = self.idle.pop()
                if conn.transport is not None and now - conn.idle_since < self.keepalive:
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
                conn = await self._connect()
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

    async def _connect(self) -> S:
        address = self.address
        if address.path:
            _, conn = await self.loop.create_unix_connection(self.factory, address.path)
        else:
            _, conn = await self.loop.create_connection(
                self.factory, address.host, address.port, ssl=self.ssl
            )
        return conn

    def successor(self) -> S:
        """A protocol object to take over a connection whose response has completed."""
        if self.spares:
            conn = self.spares.pop()
            conn._recycled()
            return conn
        return self.factory()

    def spare(self, conn: S) -> None:
        if len(self.spares) < self.limit:
            self.spares.append(conn)
        else:
            conn._retired()

    def release(self, conn: S) -> None:
        if len(self.idle) >= self.max_idle:
            conn.close()  # more idle connections than asked for: each may pin an upstream worker
            return
        conn.idle_since = self.loop.time()
        self.idle.append(conn)
        if self.sweeping is None:
            self._schedule()
        if self.waiters:
            self._wake_one()

    def drop_idle(self) -> None:
        """Close every idle connection: one just failed on reuse, so the others most likely
        died the same way (the upstream restarted)."""
        idle, self.idle = self.idle, []
        for conn in idle:
            conn.close()

    def forget(self, conn: S) -> None:
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
