"""Shadow mode's view of one exchange: the request body read once, the response teed.

A request body is read under a cap (`read_body`) and replayed to each side (`replay`); a body
over the cap is not kept: the primary gets what was read followed by the rest of the client's
stream, and the request is not compared. A response is observed by a `Capture`, which is a
`ResponseTap` for the primary (it sees the chunks the client gets, and never holds them up), and
for a side called only to be compared an ASGI `send` (an in-process app) or the reader of an
upstream's response (`read_from`). Either way it keeps at most `limit` body bytes: past that it
drops them and marks the observation truncated, so memory stays bounded.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

from starlette.types import Message, Receive

from proxy.sides.headers import Headers
from proxy.sides.pool import Stream
from shadow.observation import Observation, Side


@dataclass(frozen=True, slots=True)
class RequestBody:
    chunks: tuple[bytes, ...]  # what was read, in order
    complete: bool  # False: over the cap (or the client left); the rest is still unread
    gone: bool = False  # the client disconnected while sending it

    @property
    def data(self) -> bytes:
        return b"".join(self.chunks)


async def read_body(receive: Receive, limit: int) -> RequestBody:
    """Read the client's body until its end, or until it exceeds `limit` bytes."""
    chunks: list[bytes] = []
    size = 0
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            return RequestBody(tuple(chunks), complete=False, gone=True)
        body = message.get("body", b"")
        if body:
            chunks.append(body)
            size += len(body)
        if not message.get("more_body", False):
            return RequestBody(tuple(chunks), complete=size <= limit)
        if size > limit:
            return RequestBody(tuple(chunks), complete=False)


def replay(chunks: tuple[bytes, ...], rest: Receive | None, *, more: bool = False) -> Receive:
    """A `receive` that yields `chunks`, then defers to `rest`.

    `more` says the body continues in `rest` (it was over the cap). Without `rest` (a side
    called in the background) nothing follows the body: that side's client never leaves, so a
    later receive waits until the call is cancelled or ends.
    """
    pending = list(chunks) or [b""]
    last = len(pending) - 1

    async def receive() -> Message:
        if pending:
            index = last - len(pending) + 1
            body = pending.pop(0)
            return {"type": "http.request", "body": body, "more_body": more or index < last}
        if rest is not None:
            return await rest()
        await asyncio.Event().wait()
        raise AssertionError("unreachable")

    return receive


class Capture:
    """Keeps a response's status, headers and up to `limit` body bytes."""

    __slots__ = ("chunks", "complete", "ended", "headers", "limit", "size", "status", "truncated")

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.status: int | None = None
        self.headers: Headers = []
        self.chunks: list[bytes] = []
        self.size = 0
        self.truncated = False
        self.ended = False
        self.complete = False

    # ResponseTap: called by the forwarder as the primary's response streams to the client

    def start(self, status: int, headers: Headers) -> None:
        self.status = status
        self.headers = list(headers)

    def chunk(self, data: bytes) -> None:
        self.size += len(data)
        if self.truncated:
            return
        if self.size > self.limit:
            self.truncated = True
            self.chunks.clear()  # over the cap: served, never compared, so never held
            return
        self.chunks.append(data)

    def end(self, complete: bool) -> None:
        self.ended = True
        self.complete = complete

    # ASGI send: for a side whose answer goes nowhere but into the comparison

    async def __call__(self, message: Message) -> None:
        if message["type"] == "http.response.start":
            self.start(message["status"], list(message.get("headers", [])))
        elif message["type"] == "http.response.body":
            if body := message.get("body", b""):
                self.chunk(body)
            if not message.get("more_body", False):
                self.end(True)

    # an upstream's answer, read here for a side whose answer goes only into the comparison

    async def read_from(self, response: Stream, headers: Headers) -> None:
        """Keep an upstream's answer whose head has arrived: `headers` as the client would get
        them, then its body until it ends, or until it passes the cap."""
        self.start(response.status, headers)
        while chunk := await response.read():
            self.chunk(chunk)
            if self.truncated:
                break  # over the cap: the answer will not be compared, stop reading it
        self.end(True)

    def observation(self, side: Side, duration: float) -> Observation:
        """What was seen; an answer that never started or ended is an error, not a response."""
        if self.status is None:
            return Observation.failed(side, "no response", duration)
        if not self.ended or not self.complete:
            return Observation.failed(side, "the response broke off", duration)
        headers = [(n.decode("latin-1"), v.decode("latin-1")) for n, v in self.headers]
        body = b"".join(self.chunks)
        return Observation.of(side, self.status, headers, body, duration, truncated=self.truncated)
