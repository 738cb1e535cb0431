"""Replay's view of the gateway: which route a replayed request takes, and each side called as
shadow mode calls it (`side_call`: the legacy side over its URL, and whatever else the table's
legacy side becomes; the native side in-process or at native.url, always as a dry run).

A replayed request goes through what dispatch does first: its path is normalised (a path the
gateway refuses is counted, never sent) and matched in the table; then:

- a route in shadow mode (or a canary that compares) is compared with its own shadow settings,
  a route in native or canary mode with the table's `shadow:` defaults (its legacy side still
  exists: the replay checks the flip); each side is sent the path the route sends it
  (`legacy_path`, `native_path`), as the gateway does;
- a route in legacy mode, one whose legacy side is removed (`legacy_removed`) and one the gateway
  answers itself have nothing to compare: counted, not sent;
- no route: counted, not sent; a request its source files under a route id the table does not
  have (the table changed since): counted, not sent.

Writes get the route's write ignores as in shadow mode (`WRITE_IGNORES`). Every request gets the
operator's `--header`s (their credentials: none were stored), the recorded headers otherwise,
and a Host: the operator's, else the legacy side's own, so that both sides build the same links.
The sides are opened here (an upstream client of `legacy.pool_size`, the native app and its
lifespan) without the rest of a gateway: a replay serves no client, records no flip and writes
to no live evidence.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from typing import Any

from starlette.types import ASGIApp, Scope

from proxy.modes.shadow import WRITE_IGNORES, shadow_settings, side_call
from proxy.paths import PathRejected, normalise
from proxy.sides import native as native_side
from proxy.sides.client import UpstreamClient
from proxy.sides.fastcgi.connection import FastCGIClient
from proxy.sides.forwarder import Forwarder
from proxy.sides.headers import read_request
from proxy.sides.legacy import LegacySide
from proxy.sides.workers import NativeWorkers
from proxy.table import fill
from proxy.table.model import SAFE_METHODS, Mode, Route, RouteMatch, RouteTable
from proxy.table.snapshot import Snapshot, build_snapshot
from proxy.table.targets import Target
from shadow.experiment import Call
from shadow.observation import Side
from shadow.replay import Plan, Refused, plan_settings
from shadow.runs import LeftOut
from shadow.settings import ShadowSettings
from shadow.sources import Request

_PEER = "127.0.0.1"


class GatewaySides:
    """The `shadow.replay.Sides` of a route table."""

    def __init__(
        self,
        table: RouteTable,
        headers: Sequence[tuple[str, str]] = (),
        *,
        native_app: ASGIApp | None = None,
        client: UpstreamClient | None = None,
    ) -> None:
        self.table = table
        self.snapshot: Snapshot = build_snapshot(table)
        self.legacy_timeout = table.legacy.timeout
        self.extra = [
            (k.lower().encode("latin-1"), v.encode("latin-1"))
            for k, v in headers
            if k.lower() != "host"
        ]
        self.extra.append((b"host", replay_host(self.snapshot, headers).encode("latin-1")))
        self.routes = {route.id: route for route in table.routes}
        self._settings = {route.id: _settings(table, route) for route in table.routes}
        self.native_app = native_app
        self.native_state: dict[str, Any] | None = None
        self.workers: NativeWorkers | None = None  # a replay runs the app in its own process
        self.forwarder = Forwarder(client)
        self.legacy_side = LegacySide(self.forwarder)  # its files, PHP over FastCGI, or HTTP
        self._owns_client = client is None
        self._lifespan: native_side.Lifespan | None = None

    async def open(self) -> None:
        """Reach the sides: the upstream client, and the native app (its lifespan started)."""
        table = self.table
        if self.forwarder.client is None:
            self.forwarder.client = UpstreamClient(table.legacy.pool_size)
        if self.legacy_side.fastcgi is None and table.legacy.fastcgi is not None:
            self.legacy_side.fastcgi = FastCGIClient(table.limits.buffer_response)
        if self.native_app is None and table.native.app is not None and table.native.url is None:
            self.native_app = native_side.load_app(table.native.app)
        if self.native_app is not None and self.snapshot.native_url is None:
            self._lifespan = native_side.Lifespan(self.native_app)
            await self._lifespan.startup()
            self.native_state = self._lifespan.state

    async def close(self) -> None:
        if self._lifespan is not None:
            await self._lifespan.shutdown()
            self._lifespan = None
        if self._owns_client and self.forwarder.client is not None:
            await self.forwarder.client.close()
            self.forwarder.client = None
        if self.legacy_side.fastcgi is not None:
            await self.legacy_side.fastcgi.close()
            self.legacy_side.fastcgi = None

    # ------------------------------------------------------------ shadow.replay.Sides

    def plan(self, request: Request) -> Plan | Refused:
        raw, _, query = request.target.partition("?")
        try:
            path = normalise(raw.encode("latin-1", "replace"))
        except PathRejected:
            return Refused(LeftOut.BAD_PATH)
        if request.route is not None and request.route not in self.routes:
            return Refused(LeftOut.UNKNOWN_ROUTE)
        found = self.snapshot.matcher.match(request.method.upper(), path)
        if not isinstance(found, RouteMatch):
            return Refused(LeftOut.UNMATCHED)
        route = found.route
        reads, writes = self._settings[route.id]
        if reads is None or writes is None:
            return Refused(LeftOut.NOT_COMPARED, route.id)
        settings = reads if request.method.upper() in SAFE_METHODS else writes
        legacy = fill.render(route.legacy_path, found.params) if route.legacy_path else None
        native = fill.render(route.native_path, found.params) if route.native_path else None
        return Plan(route.id, settings, path, query, legacy, native)

    def legacy(self, request: Request, plan: Plan, request_id: str) -> Call:
        return self._call(request, plan, request_id, native=False, side=Side.PRIMARY)

    def native(self, request: Request, plan: Plan, request_id: str) -> Call:
        return self._call(request, plan, request_id, native=True, side=Side.CANDIDATE)

    def _call(
        self, request: Request, plan: Plan, request_id: str, *, native: bool, side: Side
    ) -> Call:
        scope = self.scope(request, plan, request_id)
        view = read_request(
            scope["headers"], "http", f"{_PEER}:80", _PEER, request_id, self.snapshot.trust
        )
        data = request.body if request.body else None
        chunks = (request.body,) if request.body else ()
        sent = (plan.native_path if native else plan.legacy_path) or plan.path
        return side_call(
            self, self.snapshot, scope, sent, view, data, chunks,
            native=native, side=side, limit=plan.settings.max_body, dry_run=native,
        )  # fmt: skip

    def scope(self, request: Request, plan: Plan, request_id: str) -> Scope:
        """The ASGI scope of a replayed request, as a server would give it to dispatch."""
        extra_names = {k for k, _ in self.extra}
        headers = [
            (k.encode("latin-1"), v.encode("latin-1"))
            for k, v in request.headers
            if k.encode("latin-1") not in extra_names
        ]
        headers += self.extra
        headers.append((b"x-request-id", request_id.encode("ascii")))
        if request.body:
            headers.append((b"content-length", str(len(request.body)).encode("ascii")))
        raw = request.target.partition("?")[0]
        return {
            "type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1",
            "method": request.method.upper(), "scheme": "http", "path": plan.path,
            "raw_path": raw.encode("latin-1", "replace"),
            "query_string": plan.query.encode("latin-1", "replace"), "root_path": "",
            "headers": headers, "client": (_PEER, 0), "server": (_PEER, 80),
        }  # fmt: skip


def replay_host(snapshot: Snapshot, headers: Sequence[tuple[str, str]]) -> str:
    """The Host every replayed request carries: the operator's, else the legacy side's own."""
    given = [v for k, v in headers if k.lower() == "host"]
    if given:
        return given[-1]
    legacy = snapshot.legacy
    # PHP-FPM has no host of its own: the application sees the name it would behind nginx
    return legacy.upstream.host_header if isinstance(legacy, Target) else "localhost"


def _settings(
    table: RouteTable, route: Route
) -> tuple[ShadowSettings, ShadowSettings] | tuple[None, None]:
    """A route's settings for reads and writes in a replay: its shadow settings (shadow mode, a
    canary that compares), the table's for a native or canary route; none for a route with
    nothing to compare (legacy mode, a legacy side removed, an answer of the gateway's own)."""
    if route.answer is not None or route.legacy_removed:
        return None, None
    if route.shadow is not None:
        config = route.shadow
    elif route.mode in (Mode.NATIVE, Mode.CANARY):
        config = table.shadow
    else:
        return None, None
    reads = plan_settings(shadow_settings(config))
    extra = tuple(p for p in WRITE_IGNORES if p not in reads.ignore)
    return reads, dataclasses.replace(reads, ignore=reads.ignore + extra)
