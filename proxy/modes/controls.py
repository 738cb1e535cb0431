"""Canary mode, and native mode with its controls: fallback to legacy, guards, rollbacks.

`Controls.canary` and `Controls.native` are the ModeHandlers of Mode.CANARY and Mode.NATIVE:

    rolled back by a guard?  → legacy answers (the route's effective mode is legacy)
    canary: the cohort's side (proxy.modes.cohort) answers; with `compare`, the other side runs
            as shadow mode's candidate, through shadow mode's own machinery and bounds
    native side (both modes): with `fallback: legacy`, a safe request it fails goes to legacy
            (proxy.modes.fallback); every answer of a canary or guarded route is counted for
            its guard and dashboard (proxy.modes.guards), never with the cohort's key

A native route without fallback or guard goes straight to the native side, as before. Each
fallback is counted (through `Observer`) and stored as an errored comparison, so the parity
report shows it. The side that answered is left on the exchange for metrics and the log.
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Protocol

import orjson

from proxy import errors
from proxy.logs import get_logger
from proxy.modes.call import Call, Sides
from proxy.modes.cohort import Chooser, chooser
from proxy.modes.fallback import FALLBACK_METHODS, Attempt, Reason, with_fallback
from proxy.modes.guards import Guards
from proxy.modes.shadow import RoutePlan, ShadowMode
from proxy.sides.forwarder import ResponseTap
from proxy.table.model import Mode, Route, Side
from proxy.table.snapshot import Snapshot
from shadow.compare import Outcome
from shadow.records import RequestInfo, Result, Sample
from shadow.redact import redact_query, redact_text

log = get_logger("proxy.modes.controls")
CLIENT_GONE = 499
# the sides' names as labels and keys: an enum's .value is a property lookup, and these run on
# every request
NATIVE, LEGACY = Side.NATIVE.value, Side.LEGACY.value


class Observer(Protocol):
    """What the operator room counts (proxy.operator.metrics implements it)."""

    def answered(self, route: str, side: str, error: bool) -> None: ...
    def fell_back(self, route: str, reason: str) -> None: ...


class _Silent:
    def answered(self, route: str, side: str, error: bool) -> None:
        pass

    def fell_back(self, route: str, reason: str) -> None:
        pass


@dataclass(frozen=True, slots=True)
class CanaryPlan:
    """One canary route, compiled once per table."""

    choose: Chooser
    compare: tuple[RoutePlan, RoutePlan] | None  # shadow plans with legacy, native answering


class Controls:
    def __init__(
        self, guards: Guards, shadow: ShadowMode, observer: Observer | None = None
    ) -> None:
        self.guards = guards
        self.shadow = shadow
        self.observer: Observer = observer if observer is not None else _Silent()
        self.gateway: Sides | None = None
        self._plans: dict[int, tuple[Snapshot, dict[str, CanaryPlan]]] = {}

    def attach(self, gateway: Sides) -> None:
        self.gateway = gateway

    # ------------------------------------------------------------ the mode handlers

    async def native(self, call: Call) -> None:
        route, gateway = call.route, self.gateway
        assert route is not None and gateway is not None
        if route.fallback is None and route.guard is None:
            await gateway.native(call)
        elif self.guards.rolled_back(route.id) is not None:
            call.exchange.side = LEGACY
            await gateway.legacy(call)
        else:
            await self._native(call, None)

    async def canary(self, call: Call) -> None:
        route, gateway = call.route, self.gateway
        assert route is not None and gateway is not None
        if self.guards.rolled_back(route.id) is not None:
            call.exchange.side = LEGACY
            await gateway.legacy(call)
            return
        plan = self._plan(call.snapshot, route)
        native = plan.choose.side(call.scope["headers"], call.view) is Side.NATIVE
        call.exchange.side = NATIVE if native else LEGACY
        if plan.compare is not None:
            answer = self._native if native else self._legacy
            await self.shadow.run(call, plan.compare[native], answer)  # [False]: legacy's plan
        elif native and route.fallback is not None:
            await self._native(call, None)
        else:  # the common case, without a coroutine of its own between dispatch and the side
            side = gateway.native if native else gateway.legacy
            await self._timed(side, call, None, route, NATIVE if native else LEGACY)

    # ------------------------------------------------------------ the sides, counted

    async def _native(self, call: Call, tap: ResponseTap | None) -> bool:
        """The native side answers (or, with a fallback, legacy in its place: then False)."""
        gateway, route = self.gateway, call.route
        assert gateway is not None and route is not None
        if route.fallback is None or call.scope["method"] not in FALLBACK_METHODS:
            await self._timed(gateway.native, call, tap, route, NATIVE)
            return True
        attempt = await with_fallback(gateway.native, gateway.legacy, call, tap)
        if attempt.status != CLIENT_GONE:
            self._count(route, NATIVE, attempt.seconds, attempt.failed)
        if attempt.reason is None:
            return True
        self._fell_back(call, route, attempt)
        return False

    async def _legacy(self, call: Call, tap: ResponseTap | None) -> bool:
        gateway, route = self.gateway, call.route
        assert gateway is not None and route is not None
        await self._timed(gateway.legacy, call, tap, route, LEGACY)
        return True

    async def _timed(
        self, side: Answer, call: Call, tap: ResponseTap | None, route: Route, name: str
    ) -> None:
        """A side's answer, counted; one that breaks off mid-body is counted, then raised."""
        started = time.perf_counter()
        try:
            await side(call, tap)
        except errors.UpstreamBroken:
            self._count(route, name, time.perf_counter() - started, True)
            raise
        status = call.exchange.status
        if status != CLIENT_GONE:
            self._count(route, name, time.perf_counter() - started, status >= 500)

    def _count(self, route: Route, side: str, seconds: float, error: bool) -> None:
        self.guards.record(route, side, seconds, error)
        self.observer.answered(route.id, side, error)

    def _fell_back(self, call: Call, route: Route, attempt: Attempt) -> None:
        reason = attempt.reason
        assert reason is not None
        what = {
            Reason.STATUS: f"answered {attempt.status}",
            Reason.TIMEOUT: "timed out",
            Reason.ERROR: f"failed ({attempt.error or 'no answer'})",
        }[reason]
        text = f"native {what}: legacy answered {call.exchange.status} in its place"
        log.warning("native_fell_back", route=route.id, reason=reason.value, detail=text)
        self.observer.fell_back(route.id, reason.value)
        query = call.scope["query_string"].decode("latin-1")
        request = RequestInfo(
            call.scope["method"], redact_text(call.path), redact_query(query), call.view.request_id
        )
        primary = orjson.dumps({"status": call.exchange.status, "side": "legacy"}).decode()
        candidate = orjson.dumps({"error": text, "side": "native"}).decode()
        sample = Sample(request, primary, candidate, "fallback: " + text)
        self.shadow.put(Result(route.id, time.time(), Outcome.ERRORED, sample=sample))

    # ------------------------------------------------------------ plans

    def _plan(self, snapshot: Snapshot, route: Route) -> CanaryPlan:
        cached = self._plans.get(id(snapshot))
        if cached is None or cached[0] is not snapshot:
            cached = (snapshot, self._compile(snapshot))
            if len(self._plans) >= 4:  # requests in flight keep at most a few tables alive
                self._plans.clear()
            self._plans[id(snapshot)] = cached
        return cached[1][route.id]

    def _compile(self, snapshot: Snapshot) -> dict[str, CanaryPlan]:
        table = snapshot.table
        plans = {}
        for route in table.routes:
            if route.mode is not Mode.CANARY or route.canary is None:
                continue
            compare = None
            if route.canary.compare and route.shadow is not None:
                shadowed = self.shadow.plan(snapshot, route)
                compare = (
                    dataclasses.replace(shadowed, primary=Side.LEGACY),
                    dataclasses.replace(shadowed, primary=Side.NATIVE),
                )
            plans[route.id] = CanaryPlan(chooser(route.canary), compare)
        return plans


Answer = Callable[[Call, ResponseTap | None], Awaitable[None]]
