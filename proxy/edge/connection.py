"""The life of a client connection: its bound, its one deadline, and how it is refused.

`EdgeConnection` is the base of the edge protocol (proxy.edge.protocol), kept apart from the
parsing. A connection has one deadline (a float of the loop's clock) and what it is for: the
head (from accept, or from the first byte after a keep-alive wait), the body (from each read),
the keep-alive wait, the lingering after a refusal. Moving it is two attribute stores; the
loop's sweeper (proxy.edge.sweep) calls `expire` once it has passed.

A refusal is reported once to the callback with the peer's address, then answered in the
gateway's JSON shape when the connection's turn comes (after the responses already under way),
followed by a FIN; what the client still sends is read and dropped for `lingering_timeout`, up
to `max_head` bytes, and the connection is closed. A late head is closed without an answer, as
nginx does.
"""

from __future__ import annotations

import asyncio
import math
from dataclasses import dataclass
from typing import Any, ClassVar, NoReturn

from uvicorn.config import Config
from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol
from uvicorn.server import ServerState

from proxy.edge.answers import refusal_answer
from proxy.edge.limits import EdgeLimits, Refusal, RefusalCallback
from proxy.edge.sweep import Sweepers

# where the connection is in its byte stream
HEAD, LENGTH, CHUNKED, IGNORE, REFUSED, UPGRADED = range(6)
# what its deadline is for
NONE, HEADER, KEEPALIVE, BODY, LINGER = range(5)
NEVER = math.inf


class Stop(Exception):
    """Raised in a parser callback: the parser stops, `_stopped` says why."""


@dataclass(frozen=True, slots=True)
class Edge:
    """What a protocol class is bound to: the limits, the callback, and what follows from them."""

    limits: EdgeLimits
    on_refusal: RefusalCallback | None
    bound: int  # open connections allowed
    sweepers: Sweepers

    @classmethod
    def of(cls, limits: EdgeLimits, on_refusal: RefusalCallback | None) -> Edge:
        return cls(limits, on_refusal, limits.connection_bound(), Sweepers(limits.sweep_interval()))


class EdgeConnection(HttpToolsProtocol):
    """uvicorn's httptools protocol with a connection bound, deadlines and refusals."""

    edge: ClassVar[Edge] = Edge.of(EdgeLimits(), None)

    def __init__(
        self,
        config: Config,
        server_state: ServerState,
        app_state: dict[str, Any],
        _loop: asyncio.AbstractEventLoop | None = None,
    ) -> None:
        super().__init__(config, server_state, app_state, _loop)
        self._limits = self.edge.limits
        self._sweeper = self.edge.sweepers.for_loop(self.loop)
        self._state = HEAD
        self._stopped: Refusal | None = None  # why a parser callback stopped the parser
        self._pending: Refusal | None = None  # answered once the responses under way are sent
        self._dropped = 0  # bytes read and thrown away after a refusal
        self._timer = NONE
        self.deadline = NEVER

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._sweeper.add(self)
        self._wait(HEADER, self._limits.header_timeout)
        if len(self.connections) > self.edge.bound:
            self._refuse(Refusal.TOO_MANY_CONNECTIONS)

    def connection_lost(self, exc: Exception | None) -> None:
        self._sweeper.discard(self)
        super().connection_lost(exc)

    def expire(self, now: float) -> None:
        """The sweep found the deadline passed."""
        timer, self.deadline = self._timer, NEVER
        if timer == BODY and self.flow.read_paused:
            self._wait(BODY, self._limits.body_timeout)  # the app has not asked for more yet
        elif timer == HEADER:
            self._refuse(Refusal.HEADER_TIMEOUT)
        elif timer == BODY:
            self._refuse(Refusal.BODY_TIMEOUT)
        elif timer in (KEEPALIVE, LINGER):
            self.transport.close()

    # refusals

    def _stop(self, refusal: Refusal) -> NoReturn:
        self._stopped = refusal
        raise Stop(refusal.value)

    def _refuse(self, refusal: Refusal) -> None:
        """Report once; answer now, or after the responses under way; then close."""
        if self._state == REFUSED:
            return
        in_body = self._state in (LENGTH, CHUNKED)
        self._state = REFUSED
        self._report(refusal)
        cycle = self.cycle
        if in_body and cycle is not None:
            cycle.disconnected = True  # the app's receive() gets http.disconnect
            cycle.message_event.set()
            if self.pipeline and self.pipeline[0][0] is cycle:
                self.pipeline.popleft()  # never started: the refusal takes its place
            elif cycle.response_started:
                self.transport.close()
                return
            else:
                self._answer(refusal)
                return
        if cycle is not None and not cycle.response_complete:
            self._pending = refusal
            self.flow.pause_reading()
        else:
            self._answer(refusal)

    def _answer(self, refusal: Refusal) -> None:
        self._pending = None
        transport = self.transport
        if transport.is_closing():
            return
        if refusal is Refusal.HEADER_TIMEOUT:  # nginx closes a late head without a word
            transport.close()
            return
        transport.write(refusal_answer(refusal, self.server_state.default_headers))
        if transport.can_write_eof():
            transport.write_eof()
        self.flow.resume_reading()
        self._wait(LINGER, self._limits.lingering_timeout)

    def _drop(self, size: int) -> None:
        self._dropped += size
        if self._dropped > self._limits.max_head:
            self.flow.pause_reading()  # enough: the rest stays unread until the close

    def _report(self, refusal: Refusal) -> None:
        callback = self.edge.on_refusal
        if callback is None:
            return
        client = self.client
        peer = "" if client is None else f"{client[0]}:{client[1]}"
        if client is not None and ":" in client[0]:
            peer = f"[{client[0]}]:{client[1]}"
        try:
            callback(refusal.value, peer)
        except Exception:
            self.logger.exception("the refusal callback failed")

    def _wait(self, timer: int, seconds: float | None = None) -> None:
        self._timer = timer
        self.deadline = NEVER if seconds is None else self.loop.time() + seconds
