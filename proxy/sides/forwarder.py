"""Legacy forwarding: raw ASGI messages streamed to an upstream and back through `proxy.client`.

The hot path: no Starlette objects, one client per gateway process with a
keep-alive pool per upstream, bodies streamed chunk by chunk both ways and never held whole.
Errors are mapped once, here:

    UpstreamRefused (connect failed)           → 502 "upstream refused the connection"
    UpstreamReset (closed before the response) → 502 "upstream reset the connection"
    UpstreamTimeout (the whole exchange)       → 504 "upstream timed out"
    UpstreamInvalid (not HTTP/1.x)             → 502 "upstream sent an invalid response"
    any of these after the response began      → UpstreamBroken (the connection is aborted)

A `ResponseTap` sees the status, headers and every body chunk as they pass, so a caller (shadow
mode) can observe the response without buffering or delaying it.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

from starlette.types import Message, Receive, Scope, Send

from proxy import errors, paths
from proxy.logs import get_logger
from proxy.sides.client import Body, Response, UpstreamClient, request_head
from proxy.sides.headers import (
    BODILESS,
    ClientView,
    Headers,
    body_framing,
    request_headers,
    response_headers,
    without_length,
)
from proxy.sides.pool import Stream, UpstreamError, UpstreamRefused, UpstreamTimeout
from proxy.sides.spool import ClientGone, Spool
from proxy.table.targets import Target, Upstream

log = get_logger("proxy.sides.forwarder")
_RETRYABLE = frozenset({"GET", "HEAD", "OPTIONS"})
# methods whose request carries content by definition: sent with Content-Length: 0 when empty
_CONTENT_METHODS = frozenset({"POST", "PUT", "PATCH"})
_ZERO_LENGTH = (b"Content-Length", b"0")
_CHUNKED = (b"Transfer-Encoding", b"chunked")


class ResponseTap(Protocol):
    """Observes a forwarded response while it streams to the client."""

    def start(self, status: int, headers: Headers) -> None: ...
    def chunk(self, data: bytes) -> None: ...
    def end(self, complete: bool) -> None: ...


def tapped(send: Send, tap: ResponseTap) -> Send:
    """`send`, with `tap` seeing every response message (for apps called in-process)."""

    async def send_and_tap(message: Message) -> None:
        if message["type"] == "http.response.start":
            tap.start(message["status"], list(message.get("headers", [])))
        elif message["type"] == "http.response.body":
            body = message.get("body", b"")
            if body:
                tap.chunk(body)
            if not message.get("more_body", False):
                tap.end(True)
        await send(message)

    return send_and_tap


@dataclass(slots=True)
class Exchange:
    """What one request did, for its access line."""

    request_id: str
    status: int = 0
    bytes_out: int = 0
    error: str = ""
    side: str | None = None  # the side that answered, when a mode chose it per request


@dataclass(frozen=True, slots=True)
class Outgoing:
    """A request as it goes upstream: its head, and how its body is framed."""

    head: bytes
    has_body: bool
    chunked: bool
    retry: bool  # idempotent and without a body: may be sent again on a fresh connection
    head_only: bool

    async def send(self, client: UpstreamClient, target: Target, body: Body | None) -> Response:
        """Send it to `target`; returns when the response's status and headers have arrived."""
        return await client.send(
            target.upstream,
            target.timeout,
            self.head,
            body,
            chunked=self.chunked,
            retry=self.retry,
            head_only=self.head_only,
        )


def outgoing(
    scope: Scope,
    path: str,
    view: ClientView,
    upstream: Upstream,
    extra: tuple[tuple[bytes, bytes], ...] = (),
    spooled: int | None = None,
) -> Outgoing:
    """The request line, headers and body framing for one upstream request (`spooled`: the
    length of a body already read whole, sent with that Content-Length however it came)."""
    method: str = scope["method"]
    headers = scope["headers"]
    length, chunked = body_framing(headers)
    sent = request_headers(headers, view, upstream)
    # the framing is the gateway's own, never the client's header list: request_headers copies
    # neither Content-Length nor Transfer-Encoding, so no Connection token can remove them
    if spooled is not None:
        length, chunked = str(spooled).encode("ascii"), False
        sent.append((b"Content-Length", length))
    elif chunked:
        # the body is re-chunked; a Content-Length beside Transfer-Encoding (a smuggling
        # attempt the server let through) is not passed on
        sent.append(_CHUNKED)
    elif length is not None:
        sent.append((b"Content-Length", length))
    elif method in _CONTENT_METHODS:
        sent.append(_ZERO_LENGTH)
    sent.extend(extra)
    target = upstream.base_path + paths.encode(path)
    if query := scope["query_string"]:
        target += "?" + query.decode("latin-1")
    has_body = length is not None or chunked
    return Outgoing(
        request_head(method, target, sent),
        has_body,
        chunked,
        retry=method in _RETRYABLE and not has_body,
        head_only=method == "HEAD",
    )


class Forwarder:
    """Forwards one request to a Target; `client` is set by the gateway's lifespan."""

    def __init__(self, client: UpstreamClient | None = None) -> None:
        self.client = client

    async def forward(
        self,
        scope: Scope,
        receive: Receive,
        send: Send,
        path: str,
        view: ClientView,
        target: Target,
        exchange: Exchange,
        tap: ResponseTap | None = None,
        elsewhere: Callable[[], Target | None] | None = None,
    ) -> None:
        """`elsewhere`: where to send the request instead when `target` refuses the connection
        (nothing of the request was sent; one of several equal upstreams, a native worker)."""
        client = self.client
        assert client is not None, "the gateway's lifespan opens the client"
        upstream = target.upstream
        spool: Spool | None = None
        reading: BodyReader | None = None
        body: Body | None = None
        request = outgoing(scope, path, view, upstream)
        if request.has_body:
            if target.buffer_request:
                # the whole body first: a slow upload holds no upstream connection meanwhile
                try:
                    spool = body = await Spool.read_from(receive, target.buffer_request)
                except ClientGone as exc:
                    await fail(send, exchange, exc, None)
                    return
                request = outgoing(scope, path, view, upstream, spooled=spool.length)
            else:
                reading = body = BodyReader(receive)
        try:
            while True:
                try:
                    response = await request.send(client, target, body)
                    break
                except (UpstreamError, ClientGone) as exc:
                    other = elsewhere() if isinstance(exc, UpstreamRefused) and elsewhere else None
                    if other is None:
                        await fail(send, exchange, exc, reading)
                        return
                    target = other
            try:
                headers = response_headers(response.headers, view, upstream)
                await stream_back(
                    response, response.status, headers, receive, send, exchange, reading, tap
                )
            finally:
                response.finish()
        finally:
            if spool is not None:
                spool.close()


class BodyReader:
    """The client's request body, read from ASGI `receive` chunk by chunk."""

    __slots__ = ("done", "gone", "receive")

    def __init__(self, receive: Receive) -> None:
        self.receive = receive
        self.done = False
        self.gone = False

    async def read(self) -> bytes:
        while not self.done:
            message = await self.receive()
            if message["type"] == "http.disconnect":
                self.gone = True
                raise ClientGone
            body: bytes = message.get("body", b"")
            self.done = not message.get("more_body", False)
            if body:
                return body
        return b""


async def fail(
    send: Send, exchange: Exchange, exc: BaseException, reading: BodyReader | None
) -> None:
    """The gateway's answer to a request whose upstream failed before its response began (or
    whose client left while its body was read)."""
    if isinstance(exc, ClientGone) or (reading is not None and reading.gone):
        exchange.status, exchange.error = 499, "client disconnected"
        log.info("client_disconnected", stage="request body")
        return
    status, message = classify(exc)
    exchange.status, exchange.error = status, message
    log.warning("upstream_failed", status=status, error=message, detail=repr(exc))
    exchange.bytes_out = await errors.send_error(send, status, message, exchange.request_id)


def classify(exc: BaseException) -> tuple[int, str]:
    """The gateway's answer to an upstream failure before its response began."""
    if isinstance(exc, UpstreamTimeout):
        return errors.GATEWAY_TIMEOUT, exc.reason
    if isinstance(exc, UpstreamError):
        return errors.BAD_GATEWAY, exc.reason
    return errors.BAD_GATEWAY, "upstream failed"


async def stream_back(
    response: Stream,
    status: int,
    headers: Headers,
    receive: Receive,
    send: Send,
    exchange: Exchange,
    reading: BodyReader | None,
    tap: ResponseTap | None,
) -> None:
    """A response whose head has arrived, streamed to the client as it arrives (any upstream
    protocol: the HTTP client's, FastCGI's); a failure after the head raises UpstreamBroken."""
    if status in BODILESS:
        headers = without_length(headers)
    exchange.status = status
    if tap is not None:
        tap.start(status, headers)
    await send({"type": "http.response.start", "status": status, "headers": headers})
    watcher: asyncio.Task[None] | None = None
    sent = 0
    try:
        while True:
            chunk = await response.read()
            last = response.drained
            if tap is not None and chunk:
                tap.chunk(chunk)
            sent += len(chunk)
            await send({"type": "http.response.body", "body": chunk, "more_body": not last})
            if last:
                break
            if watcher is None and (reading is None or reading.done):
                # a long response: notice a client that leaves, and stop reading for it
                watcher = asyncio.create_task(_watch_disconnect(receive, response))
    except UpstreamError as exc:
        exchange.bytes_out = sent
        if watcher is not None and watcher.done():
            exchange.error = "client disconnected"
            log.info("client_disconnected", stage="response body", bytes_out=sent)
            if tap is not None:
                tap.end(False)
            return
        exchange.error = "upstream failed mid-body"
        log.warning("upstream_broken", error=classify(exc)[1], detail=repr(exc), bytes_out=sent)
        if tap is not None:
            tap.end(False)
        raise errors.UpstreamBroken(classify(exc)[1]) from exc
    finally:
        if watcher is not None and not watcher.done():
            watcher.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await watcher
    exchange.bytes_out = sent
    if tap is not None:
        tap.end(True)


async def _watch_disconnect(receive: Receive, response: Stream) -> None:
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            # abandoning the exchange drops the upstream connection and wakes the reading loop
            response.abort()
            return
