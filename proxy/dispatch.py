"""The gateway's ASGI callable: normalise, match, count, hand over to the route's mode.

    client → Gateway ─┬─ /_strangler/...  → the admin app (Starlette)
                      ├─ bad path         → 400 JSON
                      └─ match on the snapshot in force (read once per request)
                           → handlers[mode](call): legacy → the legacy side (its files, PHP
                             over FastCGI, or the forwarder), native → native caller,
                             shadow → its primary side until the shadow handler is plugged in

A mode's behaviour is a `ModeHandler` (proxy.modes.call): an async function of one `Call`.
`Gateway.handlers` maps every Mode to one; `create_app(mode_handlers=...)` may replace any, and
a mode reaches the sides through the gateway's `legacy(call, tap)` and `native(call, tap)`.
"""

from __future__ import annotations

import os
import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import replace
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from proxy import errors, logs
from proxy.modes import answer
from proxy.modes.call import Call, ModeHandler
from proxy.modes.recording import Recorder, Recording
from proxy.operator.metrics import Metrics, default_metrics
from proxy.paths import PathRejected, normalise
from proxy.sides import limits, native
from proxy.sides.forwarder import Exchange, Forwarder, ResponseTap, tapped
from proxy.sides.headers import DRY_RUN, body_framing, read_request, without
from proxy.sides.legacy import LegacySide
from proxy.sides.workers import NativeWorkers
from proxy.table import fill
from proxy.table.model import Mode, RouteMatch, Side
from proxy.table.snapshot import UNMATCHED, TableHolder
from proxy.table.targets import Target

ADMIN_PREFIX = "/_strangler"
Hook = Callable[[], Awaitable[None]]


class Gateway:
    """The bare ASGI callable every request enters by."""

    def __init__(
        self,
        holder: TableHolder,
        forwarder: Forwarder,
        admin: ASGIApp,
        *,
        native_app: ASGIApp | None = None,
        mode_handlers: Mapping[Mode, ModeHandler] | None = None,
        on_startup: tuple[Hook, ...] = (),
        on_shutdown: tuple[Hook, ...] = (),
        metrics: Metrics | None = None,
    ) -> None:
        self.holder = holder
        self.metrics = metrics if metrics is not None else default_metrics()
        self.forwarder = forwarder
        self.legacy_side = LegacySide(forwarder)  # files, PHP over FastCGI, or the forwarder
        self.admin = admin
        self.native_app = native_app
        self.native_state: dict[str, Any] | None = None
        self.workers: NativeWorkers | None = None  # set by create_app with native.workers
        self.handlers: dict[Mode, ModeHandler] = {
            Mode.LEGACY: self.legacy,
            Mode.NATIVE: self.native,
            Mode.SHADOW: self.primary_only,
            Mode.CANARY: self.legacy,  # until the canary handler is plugged in: all cohorts legacy
        }
        self.handlers.update(mode_handlers or {})
        self.on_startup = on_startup
        self.reloader: Any = None  # set by create_app: the Reloader
        self.shadow: Any = None  # set by create_app: the ShadowMode (experiment, store)
        self.guards: Any = None  # set by create_app: the Guards (rollbacks, their evidence)
        self.recorder: Recorder | None = None  # set by create_app: keeps `record:` requests
        self.on_shutdown = on_shutdown

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        kind = scope["type"]
        if kind == "http":
            await self.http(scope, receive, send)
        elif kind == "lifespan":
            await self.lifespan(receive, send)
        else:  # websockets are not proxied (yet): refuse the handshake
            await send({"type": "websocket.close", "code": 1003})

    async def http(self, scope: Scope, receive: Receive, send: Send) -> None:
        began = time.perf_counter()
        metrics = self.metrics
        metrics.started()
        client = scope.get("client")
        server = scope.get("server")
        snapshot = self.holder.current  # once: the request keeps this table to its end
        view = read_request(
            scope["headers"],
            scope["scheme"],
            f"{server[0]}:{server[1]}" if server else "",
            client[0] if client else "",
            os.urandom(16).hex(),
            snapshot.trust,
        )
        logs.REQUEST_ID.set(view.request_id)  # every log line of this request (its task) has it
        if view.marked:  # an internal mark of shadow mode: never a client's to set
            scope = {**scope, "headers": without(scope["headers"], DRY_RUN)}
        exchange = Exchange(view.request_id)
        method = scope["method"]
        route_id = mode = "-"
        side: str | None = None  # the side that answers: legacy, native; None for the gateway
        raw = scope.get("raw_path") or scope["path"].encode("utf-8")
        path = raw.decode("latin-1")
        recording: Recording | None = None
        try:
            try:
                path = normalise(raw)
            except PathRejected as exc:
                exchange.status, exchange.error = errors.BAD_PATH, exc.reason
                self.refused("bad_path", client)
                exchange.bytes_out = await errors.send_error(
                    send, errors.BAD_PATH, f"bad path: {exc.reason}", view.request_id
                )
                return
            if path == ADMIN_PREFIX or path.startswith(ADMIN_PREFIX + "/"):
                route_id = mode = "admin"
                # the admin rules read the socket's peer (scope["client"]); the scheme is the
                # client's, through a trusted TLS terminator too (the sign-in cookie's Secure)
                await self._admin({**scope, "scheme": view.scheme}, receive, send, path, exchange)
                return
            found = snapshot.matcher.match(method, path)
            route = found.route if isinstance(found, RouteMatch) else None
            route_id = route.id if route is not None else UNMATCHED
            self.holder.counts[route_id] += 1
            if route is not None and route.answer is not None:
                assert isinstance(found, RouteMatch)
                mode = answer.kind(route.answer)
                await answer.send_answer(
                    route.answer, found.params, scope, send, path, view, exchange
                )
                return
            chosen = route.mode if route is not None else Mode.LEGACY
            mode = side = chosen.value
            if route is not None and route.shadow is not None:
                side = route.shadow.primary.value
            call = Call(scope, receive, send, path, view, snapshot, route, exchange)
            if route is not None and isinstance(found, RouteMatch):
                if route.legacy_path is not None:
                    call.legacy_path = fill.render(route.legacy_path, found.params)
                if route.native_path is not None:
                    call.native_path = fill.render(route.native_path, found.params)
            if route is not None and route.record is not None and self.recorder is not None:
                recording = self.recorder.start(call, route.record)
                call = recording.call if recording is not None else call
            limit = snapshot.table.limits.request_body
            if limit is None:
                await self.handlers[chosen](call)
            else:
                await self._limited(call, chosen, limit)
        finally:
            elapsed = time.perf_counter() - began
            side = exchange.side or side  # a canary's cohort, a fallback, a rollback
            logs.access(
                view.request_id,
                route_id,
                mode,
                method,
                path,
                exchange.status,
                elapsed * 1000,
                exchange.bytes_out,
                exchange.error,
                scope["query_string"].decode("latin-1"),
            )
            metrics.finished(route_id, mode, side, exchange.status, elapsed)
            if recording is not None:
                recording.finish(exchange.status, side)

    async def _limited(self, call: Call, mode: Mode, limit: int) -> None:
        """A request under `limits.request_body` (see proxy.sides.limits)."""
        value, chunked = body_framing(call.scope["headers"])
        if not chunked:  # the server holds a body to its declared length
            length = limits.declared_length(value)
            if length is not None and length > limit:
                await self._too_large(call)
            else:
                await self.handlers[mode](call)
            return
        counted = limits.Counted(call.receive, call.send, limit)
        try:
            await self.handlers[mode](replace(call, receive=counted.receive, send=counted.send))
        except limits.BodyTooLarge:
            if counted.sent:  # too late for an answer: the client sees the connection cut
                call.exchange.error = limits.TOO_LARGE_MESSAGE
                raise errors.UpstreamBroken(limits.TOO_LARGE_MESSAGE) from None
            await self._too_large(call)

    async def _too_large(self, call: Call) -> None:
        exchange = call.exchange
        exchange.status, exchange.error = errors.TOO_LARGE, limits.TOO_LARGE_MESSAGE
        self.refused("body_too_large", call.scope.get("client"))
        exchange.bytes_out = await errors.send_error(
            call.send, errors.TOO_LARGE, limits.TOO_LARGE_MESSAGE, exchange.request_id
        )

    def refused(self, reason: str, client: tuple[str, int] | None) -> None:
        """A request the gateway refuses itself: counted, and logged once with the peer."""
        self.metrics.refused(reason)
        peer = f"{client[0]}:{client[1]}" if client else ""
        logs.get_logger("proxy.dispatch").warning("refused", reason=reason, peer=peer)

    # ------------------------------------------------------------ the sides, for any mode

    async def legacy(self, call: Call, tap: ResponseTap | None = None) -> None:
        """The legacy side answers (proxy.sides.legacy); `tap` sees the response as it
        streams."""
        await self.legacy_side.answer(
            call.scope_for(native=False),
            call.receive,
            call.send,
            call.path_for(native=False),
            call.view,
            call.snapshot.legacy,
            call.exchange,
            tap,
        )

    async def native(self, call: Call, tap: ResponseTap | None = None) -> None:
        """Call the native side (native.url, the gateway's workers, or the in-process app);
        `tap` as for legacy."""
        snapshot = call.snapshot
        if snapshot.native_url is not None:
            await self._forward_native(call, snapshot.native_url, tap)
            return
        if self.workers is not None:
            lease = self.workers.lease()
            if lease is None:
                await self._no_native(call, tap, "no native worker", "no native worker is running")
                return
            try:
                await self._forward_native(
                    call, lease.target(snapshot), tap, lambda: lease.elsewhere(snapshot)
                )
            finally:
                lease.end()
            return
        if self.native_app is None:
            await self._no_native(call, tap, "no native app", "no native side is configured")
            return
        await native.call_native(
            self.native_app,
            call.scope,
            call.receive,
            call.send if tap is None else tapped(call.send, tap),
            call.path_for(native=True),
            snapshot.native_timeout,
            call.exchange,
            self.native_state,
        )

    async def _no_native(
        self, call: Call, tap: ResponseTap | None, error: str, message: str
    ) -> None:
        """The gateway's 502 when no native side can take the request."""
        call.exchange.status, call.exchange.error = errors.BAD_GATEWAY, error
        send = call.send if tap is None else tapped(call.send, tap)
        call.exchange.bytes_out = await errors.send_error(
            send, errors.BAD_GATEWAY, message, call.view.request_id
        )

    async def _forward_native(
        self,
        call: Call,
        target: Target,
        tap: ResponseTap | None,
        elsewhere: Callable[[], Target | None] | None = None,
    ) -> None:
        await self.forwarder.forward(
            call.scope,
            call.receive,
            call.send,
            call.path_for(native=True),
            call.view,
            target,
            call.exchange,
            tap,
            elsewhere,
        )

    async def primary_only(self, call: Call) -> None:
        """Shadow routes until the shadow handler exists: only the primary side answers."""
        shadow = call.route.shadow if call.route is not None else None
        if shadow is not None and shadow.primary is Side.NATIVE:
            await self.native(call)
        else:
            await self.legacy(call)

    # ------------------------------------------------------------ admin and lifespan

    async def _admin(
        self, scope: Scope, receive: Receive, send: Send, path: str, exchange: Exchange
    ) -> None:
        async def counting_send(message: Message) -> None:
            if message["type"] == "http.response.start":
                exchange.status = message["status"]
            elif message["type"] == "http.response.body":
                exchange.bytes_out += len(message.get("body", b""))
            await send(message)

        await self.admin({**scope, "path": path}, receive, counting_send)

    async def lifespan(self, receive: Receive, send: Send) -> None:
        while True:
            message = await receive()
            kind = message["type"]
            hooks = self.on_startup if kind == "lifespan.startup" else self.on_shutdown
            try:
                for hook in hooks:
                    await hook()
            except Exception as exc:
                logs.get_logger("proxy.dispatch").error(f"{kind}_failed", exc_info=exc)
                await send({"type": f"{kind}.failed", "message": str(exc)})
                return
            if kind == "lifespan.shutdown":
                logs.flush()  # the last access lines, before the server lets the process exit
            await send({"type": f"{kind}.complete"})
            if kind == "lifespan.shutdown":
                return
