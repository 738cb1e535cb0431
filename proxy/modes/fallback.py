"""`fallback: legacy`: the native side fails a safe request before its first byte, legacy answers.

A GET, HEAD or OPTIONS request on a native or canary route with a fallback goes to the native
side with a `send` that holds the response head until the first body message arrives:

- a head of 5xx (the app's own, or the gateway's 502/504 for a handler that raised or timed
  out, or an upstream that refused, reset or timed out at native.url) is never sent: the
  native side's answer is discarded and the request goes to legacy, whose answer the client
  gets, as if the route were legacy;
- a head below 500 is sent with the first body message, and from then on everything streams;
  a failure after that is the native mode's (the connection is aborted), never a second answer.

Holding the head and the first body message costs nothing extra: both are already in memory
when the app hands them over, and no byte is held past the first body message, so streaming
responses stream as in native mode. A request body (rare on these methods) is read first, up to
`BODY_LIMIT`, and replayed to each side; a larger one is not held, and such a request is not
retried. Writes (every other method) are never retried: the native side may have acted.
"""

from __future__ import annotations

import dataclasses
import enum
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from starlette.types import Message, Send

from proxy import errors
from proxy.modes.call import Call
from proxy.sides.capture import read_body, replay
from proxy.sides.forwarder import Exchange, ResponseTap, tapped
from proxy.sides.headers import has_body

FALLBACK_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
BODY_LIMIT = 64 * 1024


class Reason(enum.Enum):
    STATUS = "5xx"  # the native side answered 5xx
    TIMEOUT = "timeout"  # it did not answer within native.timeout
    ERROR = "error"  # it raised, refused, reset, or answered nothing


@dataclass(frozen=True, slots=True)
class Attempt:
    """What the native side did: answered (its bytes reached the client), or failed."""

    status: int
    seconds: float
    reason: Reason | None  # None: it answered the client
    error: str = ""  # the gateway's words for a failure (exchange.error)

    @property
    def failed(self) -> bool:
        return self.reason is not None or self.status >= 500


class HeldSend:
    """The native side's `send`: the head waits for the first body message (see above)."""

    __slots__ = ("released", "send", "start")

    def __init__(self, send: Send) -> None:
        self.send = send
        self.start: Message | None = None
        self.released = False

    async def __call__(self, message: Message) -> None:
        if self.released:
            await self.send(message)
        elif message["type"] == "http.response.start":
            self.start = message
        elif message["type"] == "http.response.body" and self.start is not None:
            if self.start["status"] >= 500:
                return  # a failed answer: nothing of it reaches the client
            self.released = True
            await self.send(self.start)
            await self.send(message)

    async def release_head(self) -> None:
        """An app that sent its head and returned without a body: send what it sent."""
        if self.start is not None and not self.released and self.start["status"] < 500:
            self.released = True
            await self.send(self.start)
            await self.send({"type": "http.response.body", "body": b"", "more_body": False})


Side = Callable[[Call, ResponseTap | None], Awaitable[None]]


async def with_fallback(native: Side, legacy: Side, call: Call, tap: ResponseTap | None) -> Attempt:
    """Native, and legacy in its place when native fails before its first byte."""
    receive = call.receive
    if has_body(call.scope["headers"]):
        body = await read_body(call.receive, BODY_LIMIT)
        if not body.complete:  # too large to hold, or the client left: native alone
            call = dataclasses.replace(call, receive=replay(body.chunks, receive, more=True))
            return await _native_only(native, call, tap)
        receive = replay(body.chunks, call.receive)
        call = dataclasses.replace(call, receive=replay(body.chunks, call.receive))
    held = HeldSend(call.send if tap is None else tapped(call.send, tap))
    attempt = Exchange(call.exchange.request_id)
    started = time.perf_counter()
    try:
        await native(dataclasses.replace(call, send=held, exchange=attempt), None)
        await held.release_head()
    finally:
        seconds = time.perf_counter() - started
        if held.released:
            _copy(attempt, call.exchange)
    if held.released:
        return Attempt(attempt.status, seconds, None, attempt.error)
    status = held.start["status"] if held.start is not None else 0
    call.exchange.side = "legacy"
    await legacy(dataclasses.replace(call, receive=receive), None)
    return Attempt(status, seconds, _reason(status, attempt), attempt.error)


async def _native_only(native: Side, call: Call, tap: ResponseTap | None) -> Attempt:
    started = time.perf_counter()
    await native(call, tap)
    ex = call.exchange
    return Attempt(ex.status, time.perf_counter() - started, None, ex.error)


def _reason(status: int, attempt: Exchange) -> Reason:
    if status == errors.GATEWAY_TIMEOUT and attempt.error:
        return Reason.TIMEOUT
    if attempt.error or status == 0:
        return Reason.ERROR
    return Reason.STATUS


def _copy(source: Exchange, target: Exchange) -> None:
    target.status, target.bytes_out, target.error = source.status, source.bytes_out, source.error
