"""`limits.request_body`: a request body over the limit is answered 413 before any side sees it.

A declared `Content-Length` over the limit is refused at once, without reading the body or
calling a side. A body without a length (`Transfer-Encoding: chunked`) is counted as it is read:
`receive` raises `BodyTooLarge` past the limit, wherever the body is being read (the forwarder
streaming it upstream, the native app, shadow mode buffering it), and dispatch answers 413 if
nothing has been sent to the client yet, else aborts the connection. A request with a length
within the limit is left alone: the server already holds it to its declared length.
"""

from __future__ import annotations

from starlette.types import Message, Receive, Send

TOO_LARGE_MESSAGE = "request body over the limit"


class BodyTooLarge(Exception):
    """The request body went past `limits.request_body`."""


def declared_length(value: bytes | None) -> int | None:
    """A Content-Length as a number (None when absent or unreadable)."""
    try:
        return None if value is None else int(value)
    except ValueError:
        return None


class Counted:
    """`receive` and `send` of a request whose body is counted against a limit."""

    __slots__ = ("limit", "read", "receive_from", "send_to", "sent")

    def __init__(self, receive: Receive, send: Send, limit: int) -> None:
        self.receive_from = receive
        self.send_to = send
        self.limit = limit
        self.read = 0
        self.sent = False  # whether anything has gone to the client

    async def receive(self) -> Message:
        message = await self.receive_from()
        if message["type"] == "http.request":
            self.read += len(message.get("body", b""))
            if self.read > self.limit:
                raise BodyTooLarge
        return message

    async def send(self, message: Message) -> None:
        self.sent = True
        await self.send_to(message)
