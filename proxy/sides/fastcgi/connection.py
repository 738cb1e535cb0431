"""FastCGI connections to PHP-FPM, on the pools, deadline sweep and back-pressure of
`proxy.sides.pool`; the records are `records`' and the response head `response`'s.

One request per connection at a time (request id 1, FCGI_KEEP_CONN), as nginx does: PHP-FPM
neither multiplexes nor pipelines. What PHP-FPM's process model asks of a pool:

- **A kept connection pins a PHP worker.** After a request on a kept connection, the worker
  that served it waits on that connection for the next request and accepts no other. So
  (a) at most `MAX_IDLE` idle connections are kept per gateway process, fewer than PHP-FPM's
  default pool has workers (5, in Debian's www.conf and the official image), so another client
  of the pool (a second gateway process, cron, a status check) always finds one; (b) an idle
  connection is closed after `KEEPALIVE` seconds, before `pm.process_idle_timeout` (10 s by
  default) ends the worker under it; (c) a connection is not kept, but closed, while a request
  on a new connection still waits for its answer: that request may be queued in PHP-FPM's
  listen backlog behind workers pinned to kept connections, and closing frees one to accept
  it. A request sent while another new connection waits does not ask for FCGI_KEEP_CONN at
  all, so PHP-FPM closes the connection itself and its worker goes straight back to accept().
  Without (c), with more connections than workers, requests on the queued connections wait
  until a kept one closes (nginx with `fastcgi_keep_conn on` and an upstream `keepalive` does
  exactly that, and some of its requests time out).
- **A kept connection may be gone when it is used** (a worker ended by `pm.max_requests`, or
  PHP-FPM restarted). A request that fails on one before any byte of the answer is sent again
  on a new connection, once, if its method is safe and its body can be replayed; the other
  idle connections are dropped too, since they most likely died the same way.
- **STDERR** (PHP's warnings and `error_log()` when no error_log file is set) goes to the
  gateway's log, one line an entry, with the request id.
- An END_REQUEST whose protocol status is not "complete" (overloaded, cannot multiplex,
  unknown role), a malformed record or head, or an END_REQUEST before the head is
  `UpstreamInvalid`: a 502 before the response began, a cut connection after.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import cast

from proxy.logs import get_logger
from proxy.sides.client import Body
from proxy.sides.fastcgi import records
from proxy.sides.fastcgi.records import (
    EndRequest,
    ProtocolError,
    ProtocolStatus,
    ResponseDecoder,
    Stderr,
    Stdout,
)
from proxy.sides.fastcgi.response import HeadParser, MalformedHead
from proxy.sides.pool import (
    Address,
    Pool,
    Stream,
    UpstreamInvalid,
    UpstreamRefused,
    UpstreamReset,
)
from proxy.table.model import FastCGIAddress
from proxy.table.targets import FastCGITarget

log = get_logger("proxy.sides.fastcgi")

REQUEST_ID = 1  # one request per connection at a time: every request is request 1
KEEPALIVE = 5.0  # seconds an idle connection is kept: below pm.process_idle_timeout (10 s)
MAX_IDLE = 4  # idle connections kept per gateway process (see the module docstring)
STDERR_LINE = 8192  # bytes of one STDERR line logged; longer lines are cut


class FastCGIPool(Pool["FastCGIStream"]):
    """A pool that closes a finished connection, rather than keep it, while a request on a new
    connection waits for its answer (it may be queued behind the workers kept ones pin)."""

    def __init__(
        self,
        address: Address,
        limit: int,
        loop: asyncio.AbstractEventLoop,
        *,
        read_ahead: int | None = None,
    ) -> None:
        super().__init__(
            address,
            limit,
            loop,
            FastCGIStream,
            max_idle=min(limit, MAX_IDLE),
            keepalive=KEEPALIVE,
            read_ahead=read_ahead,
        )
        self.queued = 0  # new connections whose first exchange still waits for its head

    async def _connect(self) -> FastCGIStream:
        # counted from before the connection is made: a connection released meanwhile must not
        # be kept idle, pinning the one worker this request may be waiting for
        self.queued += 1
        try:
            conn = await super()._connect()
        except BaseException:
            self.queued -= 1
            raise
        conn.queued = True
        return conn

    def release(self, conn: FastCGIStream) -> None:
        if self.queued:
            conn.close()  # its worker goes back to accept(): a queued connection gets it
            return
        super().release(conn)


class FastCGIStream(Stream):
    """One connection to PHP-FPM, and the response of the request it is carrying."""

    def __init__(self, pool: Pool[FastCGIStream]) -> None:
        super().__init__(pool)
        self._decoder: ResponseDecoder | None = None
        self._head: HeadParser | None = None
        self._head_only = False
        self.queued = False  # a new connection, counted in the pool's `queued` until its head
        self._stderr = bytearray()
        self.request_id = ""  # the gateway's, for STDERR lines
        self.received = 0  # STDOUT bytes of this exchange
        self.reason = b""  # the reason phrase of a `Status:` line, if PHP gave one
        self.keep_conn = True  # FCGI_KEEP_CONN was asked for: PHP-FPM keeps the connection

    @property
    def fastcgi_pool(self) -> FastCGIPool:
        return cast(FastCGIPool, self.pool)

    def open_exchange(self, deadline: float, *, head_only: bool, request_id: str) -> None:
        """`begin`, for one FastCGI request."""
        self._decoder = ResponseDecoder(REQUEST_ID)
        self._head = HeadParser()
        self._head_only = head_only
        self.request_id, self.received, self.reason = request_id, 0, b""
        self._stderr.clear()
        super().begin(deadline)

    def finish(self) -> None:
        self._unqueue()
        self._log_stderr_rest()
        super().finish()

    def _unqueue(self) -> None:
        if self.queued:
            self.queued = False
            self.fastcgi_pool.queued -= 1

    # -- asyncio.Protocol

    def data_received(self, data: bytes) -> None:
        decoder = self._decoder
        if decoder is None or not self._active or self.complete:
            self._unasked(UpstreamInvalid("bytes outside a request"))
            return
        try:
            events = decoder.feed(data)
        except ProtocolError as exc:
            self._fail(UpstreamInvalid(str(exc)))
            return
        for event in events:
            if isinstance(event, Stdout):
                self._stdout(event.data)
            elif isinstance(event, Stderr):
                self._stderr_in(event.data)
            else:
                self._ended(event)
            if self.error is not None:
                return
        self._settle()  # a complete response frees its connection while it is read

    def connection_lost(self, exc: Exception | None) -> None:
        self._unqueue()
        super().connection_lost(exc)

    # -- the records of the answer

    def _stdout(self, data: bytes) -> None:
        self.received += len(data)
        parser = self._head
        if parser is not None:
            try:
                head = parser.feed(data)
            except MalformedHead as exc:
                self._fail(UpstreamInvalid(str(exc)))
                return
            if head is None:
                return
            if not 200 <= head.status <= 599:  # no interim or unknown classes over ASGI
                self._fail(UpstreamInvalid(f"status {head.status} in a CGI head"))
                return
            self._head = None
            self.headers, self.reason = head.headers, head.reason
            self._unqueue()
            self._headers_done(head.status, keep_alive=self.keep_conn)
            data = head.body
        if data and not self._head_only:
            self._push_body(data)

    def _ended(self, end: EndRequest) -> None:
        self._log_stderr_rest()
        if end.protocol_status is not ProtocolStatus.REQUEST_COMPLETE:
            self._fail(UpstreamInvalid(f"PHP-FPM ended the request: {end.protocol_status.name}"))
        elif self._head is not None:
            self._fail(UpstreamInvalid("PHP-FPM ended the request before a complete head"))
        else:
            if not self._sent:
                # records of this request are still to be written: they would reach the next
                # request's worker, so this connection carries no other
                self.keep_alive = False
            self._message_done()

    def _stderr_in(self, data: bytes) -> None:
        pending = self._stderr
        pending += data
        while (end := pending.find(b"\n")) >= 0:
            self._log_stderr(bytes(pending[:end]))
            del pending[: end + 1]
        if len(pending) > STDERR_LINE:
            self._log_stderr_rest()

    def _log_stderr_rest(self) -> None:
        if self._stderr:
            self._log_stderr(bytes(self._stderr))
            self._stderr.clear()

    def _log_stderr(self, line: bytes) -> None:
        line = line.rstrip(b"\r")
        if line:
            text = line[:STDERR_LINE].decode("utf-8", "replace")
            # called from the protocol, outside the request's task: the id is passed explicitly
            log.warning("php_stderr", request_id=self.request_id, message=text)


def address_of(address: FastCGIAddress) -> Address:
    return Address(address.host, address.port, path=address.path)


def request_records(params: list[tuple[bytes, bytes]], body: bool) -> bytes:
    """The params and, without a body, the end of STDIN, as one buffer (BEGIN_REQUEST goes
    before it once the connection is chosen). Raises `ParamTooLarge` for a param no record
    can carry."""
    head = records.params(REQUEST_ID, params)
    return head if body else head + records.end_stdin(REQUEST_ID)


_BEGIN_KEEP = records.begin_request(REQUEST_ID, keep_conn=True)
_BEGIN_CLOSE = records.begin_request(REQUEST_ID, keep_conn=False)


class FastCGIClient:
    """The FastCGI pools of a gateway process, one per PHP-FPM address and pool size (create
    inside a running loop). `read_ahead`: as the HTTP client's (`limits.buffer_response`)."""

    def __init__(self, read_ahead: int | None = None) -> None:
        self.read_ahead = read_ahead
        self.loop = asyncio.get_running_loop()
        self._pools: dict[tuple[FastCGIAddress, int], FastCGIPool] = {}
        self.closed = False

    def pool(self, target: FastCGITarget) -> FastCGIPool:
        key = (target.address, target.pool_size)
        pool = self._pools.get(key)
        if pool is None:
            address = address_of(target.address)
            pool = FastCGIPool(address, target.pool_size, self.loop, read_ahead=self.read_ahead)
            self._pools[key] = pool
        return pool

    async def send(
        self,
        target: FastCGITarget,
        head: bytes,
        body: Body | None = None,
        *,
        retry: bool = False,
        head_only: bool = False,
        request_id: str = "",
    ) -> FastCGIStream:
        """Send one request (`head` from `request_records`); returns once the response's head
        has arrived. `retry`: a kept connection that fails before any byte of the answer is
        replaced by a new one, once (the body, if any, must then have a `rewind()`: a spool,
        or a body held in memory)."""
        if self.closed:
            raise UpstreamRefused("the client is closed")
        pool = self.pool(target)
        deadline = self.loop.time() + target.timeout
        while True:
            conn, reused = await pool.acquire(deadline)
            conn.open_exchange(deadline, head_only=head_only, request_id=request_id)
            # while other new connections wait for a worker, this one would be closed after its
            # answer anyway: PHP-FPM is told so, and closes it itself, its worker going straight
            # back to accept() instead of waiting for the next request on it
            keep = pool.queued - conn.queued == 0
            conn.keep_conn = keep
            try:
                await conn.write((_BEGIN_KEEP if keep else _BEGIN_CLOSE) + head)
                if body is not None:
                    await _send_stdin(conn, body)
                conn.sent()
                await conn.wait_head()
            except UpstreamReset:
                conn.finish()
                if retry and reused and conn.received == 0:
                    retry = False
                    pool.drop_idle()
                    _rewind(body)
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


def _rewind(body: Body | None) -> None:
    rewind: Callable[[], None] | None = getattr(body, "rewind", None)
    if body is not None:
        assert rewind is not None, "a retried request's body can be replayed"
        rewind()


async def _send_stdin(conn: FastCGIStream, body: Body) -> None:
    try:
        while data := await body.read():
            await conn.write(records.stdin(REQUEST_ID, data))
        await conn.write(records.end_stdin(REQUEST_ID))
    except UpstreamReset:
        if not conn.status:
            raise
        # PHP answered before it read the whole body, then closed: its answer stands
