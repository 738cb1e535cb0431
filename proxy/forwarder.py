"""Legacy forwarding: raw ASGI messages streamed to an upstream and back through aiohttp.

The hot path of DESIGN.md: no Starlette objects, one shared `aiohttp.ClientSession`, bodies
streamed chunk by chunk both ways and never held whole. Errors are mapped once, here:

    aiohttp.ClientConnectorError          → 502 "upstream refused the connection"
    ServerDisconnectedError, ClientOSError → 502 "upstream reset the connection"
    TimeoutError (total budget)            → 504 "upstream timed out"
    any other aiohttp.ClientError          → 502 "upstream failed"
    any of these after the response began  → UpstreamBroken (the connection is aborted)

A `ResponseTap` sees the status, headers and every body chunk as they pass, so a caller (shadow
mode) can observe the response without buffering or delaying it.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Protocol

import aiohttp
from starlette.types import Message, Receive, Scope, Send
from yarl import URL

from proxy import errors, paths
from proxy.headers import ClientView, Headers, Upstream, request_headers, response_headers
from proxy.logs import get_logger

log = get_logger("proxy.forwarder")
_RETRYABLE = frozenset({"GET", "HEAD", "OPTIONS"})
_BODY_HEADERS = (b"content-length", b"transfer-encoding")


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


@dataclass(frozen=True, slots=True)
class Target:
    """Where and how to forward: precomputed once per table."""

    upstream: Upstream
    timeout: aiohttp.ClientTimeout


def target_of(upstream: Upstream, timeout: float) -> Target:
    return Target(upstream, aiohttp.ClientTimeout(total=timeout))


@dataclass(slots=True)
class Exchange:
    """What one request did, for its access line."""

    request_id: str
    status: int = 0
    bytes_out: int = 0
    error: str = ""


class ClientGone(Exception):
    """The client disconnected while its request body was being read."""


def open_session(pool_size: int) -> aiohttp.ClientSession:
    """The one client session of a gateway process (call inside a running loop)."""
    return aiohttp.ClientSession(
        connector=aiohttp.TCPConnector(limit=pool_size),
        auto_decompress=False,  # compressed bodies pass as they are
        cookie_jar=aiohttp.DummyCookieJar(),  # cookies belong to the client, not the gateway
        # the client's request goes through unchanged: aiohttp adds none of its own defaults
        skip_auto_headers=("User-Agent", "Accept", "Accept-Encoding", "Content-Type"),
    )


class Forwarder:
    """Forwards one request to a Target; `session` is set by the gateway's lifespan."""

    def __init__(self, session: aiohttp.ClientSession | None = None) -> None:
        self.session = session

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
    ) -> None:
        session = self.session
        assert session is not None, "the gateway's lifespan opens the session"
        upstream = target.upstream
        query = scope["query_string"]
        url = upstream.url + paths.encode(path)
        if query:
            url += "?" + query.decode("latin-1")
        headers = scope["headers"]
        has_body = any(name in _BODY_HEADERS for name, _ in headers)
        reading = _BodyReader(receive) if has_body else None
        method = scope["method"]
        attempts = 2 if method in _RETRYABLE and reading is None else 1
        for attempt in range(attempts):
            try:
                response = await session.request(
                    method,
                    URL(url, encoded=True),
                    headers=request_headers(headers, view, upstream),
                    data=reading.chunks() if reading is not None else None,
                    allow_redirects=False,
                    timeout=target.timeout,
                )
            except (aiohttp.ServerDisconnectedError, aiohttp.ClientOSError) as exc:
                # a kept-alive connection the upstream closed as we reused it: try once more,
                # as nginx does for idempotent requests, unless the request itself was refused
                if attempt + 1 < attempts and not isinstance(exc, aiohttp.ClientConnectorError):
                    continue
                await _fail(send, exchange, exc, reading)
                return
            except (TimeoutError, aiohttp.ClientError, ClientGone) as exc:
                await _fail(send, exchange, exc, reading)
                return
            break
        async with response:
            await _stream_back(response, receive, send, view, upstream, exchange, reading, tap)


class _BodyReader:
    """The client's request body as an async iterator of chunks, for aiohttp to send."""

    __slots__ = ("done", "gone", "receive")

    def __init__(self, receive: Receive) -> None:
        self.receive = receive
        self.done = False
        self.gone = False

    async def chunks(self) -> AsyncIterator[bytes]:
        while not self.done:
            message = await self.receive()
            if message["type"] == "http.disconnect":
                self.gone = True
                raise ClientGone
            body = message.get("body", b"")
            self.done = not message.get("more_body", False)
            if body:
                yield body


async def _fail(
    send: Send, exchange: Exchange, exc: BaseException, reading: _BodyReader | None
) -> None:
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
    if isinstance(exc, TimeoutError):
        return errors.GATEWAY_TIMEOUT, "upstream timed out"
    if isinstance(exc, aiohttp.ClientConnectorError):
        return errors.BAD_GATEWAY, "upstream refused the connection"
    if isinstance(exc, aiohttp.ServerDisconnectedError | aiohttp.ClientOSError):
        return errors.BAD_GATEWAY, "upstream reset the connection"
    return errors.BAD_GATEWAY, "upstream failed"


async def _stream_back(
    response: aiohttp.ClientResponse,
    receive: Receive,
    send: Send,
    view: ClientView,
    upstream: Upstream,
    exchange: Exchange,
    reading: _BodyReader | None,
    tap: ResponseTap | None,
) -> None:
    headers = response_headers(response.raw_headers, view, upstream)
    exchange.status = response.status
    if tap is not None:
        tap.start(response.status, headers)
    await send({"type": "http.response.start", "status": response.status, "headers": headers})
    content = response.content
    watcher: asyncio.Task[None] | None = None
    sent = 0
    try:
        while True:
            chunk = await content.readany()
            last = not chunk or content.at_eof()
            if tap is not None and chunk:
                tap.chunk(chunk)
            sent += len(chunk)
            await send({"type": "http.response.body", "body": chunk, "more_body": not last})
            if last:
                break
            if watcher is None and (reading is None or reading.done):
                # a long response: notice a client that leaves, and stop reading for it
                watcher = asyncio.create_task(_watch_disconnect(receive, response))
    except (TimeoutError, aiohttp.ClientError) as exc:
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


async def _watch_disconnect(receive: Receive, response: aiohttp.ClientResponse) -> None:
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            # closing the response drops the upstream connection and wakes the reading loop
            response.close()
            return
