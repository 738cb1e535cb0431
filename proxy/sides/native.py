"""Native mode: the in-process ASGI app named by `native.app`, called directly, no socket.

(`native.url` goes through the forwarder instead, with its own base URL and timeout.) The app
gets a copy of the scope whose path is the normalised path that was matched. Its failures are
the gateway's to report: a timeout is 504, an exception 502 (logged with its traceback, which
never reaches the client), and either after the response began aborts the connection.
"""

from __future__ import annotations

import asyncio
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from proxy import errors, paths
from proxy.clock import with_date
from proxy.logs import get_logger
from proxy.sides.forwarder import Exchange
from proxy.sides.headers import BODILESS, REQUEST_ID, with_request_id, without_length
from proxy.sides.limits import BodyTooLarge
from proxy.table.checks import import_app

log = get_logger("proxy.sides.native")


def load_app(spec: str) -> ASGIApp:
    """The ASGI app named `module:attribute`; raises proxy.checks.AppImportError."""
    app = import_app(spec)
    if not callable(app):
        raise TypeError(f"native.app {spec!r} is not an ASGI app (not callable)")
    return app


def native_scope(
    scope: Scope, path: str, request_id: str, state: dict[str, Any] | None = None
) -> Scope:
    """The scope the native app sees: the matched path and the request id.

    The client's dry-run mark was stripped by dispatch; a mark present here was put there by
    the gateway (shadow mode), and the app is meant to see it.
    """
    headers = [(name, value) for name, value in scope["headers"] if name != REQUEST_ID]
    headers.append((REQUEST_ID, request_id.encode("ascii")))
    copied = dict(scope)
    copied["path"] = path
    copied["raw_path"] = paths.encode(path).encode("ascii")
    copied["headers"] = headers
    if state is not None:
        # as a server does: each request sees a shallow copy of the app's lifespan state
        copied["state"] = dict(state)
    return copied


async def call_native(
    app: ASGIApp,
    scope: Scope,
    receive: Receive,
    send: Send,
    path: str,
    timeout: float,  # noqa: ASYNC109 (the table's budget, applied with asyncio.timeout)
    exchange: Exchange,
    state: dict[str, Any] | None = None,
) -> None:
    out = _NativeSend(send, exchange)
    try:
        async with asyncio.timeout(timeout):
            scope = native_scope(scope, path, exchange.request_id, state)
            await app(scope, receive, out)
        await out.flush()
    except BodyTooLarge:
        raise  # dispatch answers 413 (the app's own answer to it, if any, is held or sent)
    except TimeoutError as exc:
        exchange.error = "native handler timed out"
        log.warning("native_timeout", timeout=timeout, response_started=out.started)
        await _answer_failure(out, exchange, errors.GATEWAY_TIMEOUT, exc)
    except Exception as exc:
        exchange.error = "native handler failed"
        log.error("native_failed", response_started=out.started, exc_info=exc)
        await _answer_failure(out, exchange, errors.BAD_GATEWAY, exc)


async def _answer_failure(
    out: _NativeSend, exchange: Exchange, status: int, exc: BaseException
) -> None:
    if out.started:
        raise errors.UpstreamBroken(exchange.error) from exc
    exchange.status = status
    exchange.bytes_out = await errors.send_error(
        out.send, status, exchange.error, exchange.request_id
    )


class _NativeSend:
    """The app's `send`, adding the request id (and a Date) and counting bytes.

    A 500 is held until the app returns: Starlette and FastAPI answer 500 and then re-raise the
    exception, which the gateway must report as its own 502. Held bodies are small (error
    pages); past HOLD_LIMIT the response is let through as it is.
    """

    HOLD_LIMIT = 64 * 1024

    def __init__(self, send: Send, exchange: Exchange) -> None:
        self.send = send
        self.exchange = exchange
        self.started = False  # something reached the client
        self.held: list[Message] | None = None
        self.held_bytes = 0

    async def __call__(self, message: Message) -> None:
        exchange = self.exchange
        if message["type"] == "http.response.start":
            exchange.status = message["status"]
            headers = with_request_id(list(message.get("headers", [])), exchange.request_id)
            headers = with_date(headers)
            if exchange.status in BODILESS:
                headers = without_length(headers)
            message = {**message, "headers": headers}
            if exchange.status == 500:
                self.held = [message]
                return
        elif message["type"] == "http.response.body":
            exchange.bytes_out += len(message.get("body", b""))
            if self.held is not None:
                self.held.append(message)
                self.held_bytes += len(message.get("body", b""))
                if self.held_bytes > self.HOLD_LIMIT:
                    await self.flush()
                return
        self.started = True
        await self.send(message)

    async def flush(self) -> None:
        held, self.held = self.held, None
        for message in held or ():
            self.started = True
            await self.send(message)


class Lifespan:
    """Runs an ASGI app's lifespan protocol from the gateway's own lifespan."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app
        self._inbox: asyncio.Queue[Message] = asyncio.Queue()
        self._outbox: asyncio.Queue[Message] = asyncio.Queue()
        self._task: asyncio.Task[None] | None = None
        self.supported = True
        self.state: dict[str, Any] = {}

    async def _run(self) -> None:
        scope = {"type": "lifespan", "asgi": {"version": "3.0"}, "state": self.state}
        try:
            await self.app(scope, self._inbox.get, self._outbox.put)
        except Exception as exc:
            # as uvicorn's "auto" lifespan does: an app that raises here does not do lifespans
            self.supported = False
            log.info("native_lifespan_unsupported", detail=repr(exc))
        finally:
            await self._outbox.put({"type": "lifespan.ended"})

    async def startup(self) -> None:
        self._task = asyncio.create_task(self._run())
        await self._exchange("lifespan.startup")

    async def shutdown(self) -> None:
        if self._task is None:
            return
        if self.supported and not self._task.done():
            await self._exchange("lifespan.shutdown")
        await self._task
        self._task = None

    async def _exchange(self, kind: str) -> None:
        await self._inbox.put({"type": kind})
        reply = await self._outbox.get()
        if reply["type"] == f"{kind}.failed":
            raise RuntimeError(f"native app {kind} failed: {reply.get('message', '')}")
