"""Shadow mode in the gateway: the primary answers the client, the candidate is compared.

For a request on a shadow route (`ShadowMode.handle`, the `ModeHandler` of Mode.SHADOW):

1. Sampling is decided first, from the request id (`shadow.settings.sampled`); a request left
   out goes to the primary exactly as in the primary's own mode, nothing read or held.
2. The request body is read once, under `max_body`, and replayed to each side. A body over the
   cap is forwarded as it streams (what was read, then the rest) and the request is counted as
   skipped.
3. The primary (legacy, or native with `primary: native`) answers through the same code as in
   its own mode (`Gateway.legacy` / `Gateway.native`); a `Capture` tees the response as it
   passes, keeping at most `max_body` bytes (over: served, counted as skipped). The client's
   bytes are those of the primary's own mode: the tap only reads.
4. After the primary has answered, `Experiment.submit` schedules the candidate (and, for
   `noise_sample` of safe requests, the primary a second time: A/A) in the background, under
   the route's `timeout` and the in-flight cap, and returns at once. Whatever the candidate
   does (hang, raise, answer garbage, be shed) ends in the store, never in the response.

Writes (`writes: dry_run`, required by the table for shadow routes matching methods other than
GET and HEAD). The candidate runs FIRST, marked `X-Strangler-Dry-Run: 1` (the native handlers
roll their transaction back), so it sees the database as the primary will; then the primary
runs for real. So a write runs for real exactly once, and:

- the client waits for the candidate before the primary starts (at most the route's `timeout`);
- ids differ: MariaDB (InnoDB) does not give back an auto-increment value taken by a rolled-back
  insert, so the real insert gets the next id (a gap); SQLite's AUTOINCREMENT is rolled back
  with the insert, so there ids agree, but timestamps may fall in another second. Comparisons of
  write requests therefore ignore `WRITE_IGNORES` on top of the route's `ignore:` rules;
- with `primary: native` the candidate is the legacy application, which knows no dry run:
  write requests on such routes are never sent to it, and are counted as skipped.

Candidate calls to the native side always carry the dry-run mark, reads included: the
candidate's answer is discarded, so it must leave nothing behind. (Reads run in autocommit on
the native side; the API key's `last_used_at` touch is the one write a shadowed read makes, on
both sides alike, and it stores the same second.)
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any, Protocol

from starlette.types import ASGIApp, Scope

from proxy.logs import get_logger
from proxy.modes.storage import StoreHolder
from proxy.sides.capture import Capture, RequestBody, read_body, replay
from proxy.sides.forwarder import Exchange, Forwarder, ResponseTap
from proxy.sides.headers import ClientView, has_body
from proxy.sides.legacy import LegacySide
from proxy.sides.observe import call_app, call_upstream
from proxy.sides.pool import UpstreamRefused
from proxy.sides.workers import NativeWorkers
from proxy.table.model import SAFE_METHODS, Route, RouteTable, ShadowConfig
from proxy.table.model import Side as Primary
from proxy.table.targets import Target
from shadow.experiment import Experiment, RequestInfo, observe
from shadow.observation import Observation, Side
from shadow.records import Recorded, Result
from shadow.settings import ShadowSettings, sampled
from shadow.store import Store

if TYPE_CHECKING:
    from proxy.modes.call import Call, Sides
    from proxy.table.snapshot import Snapshot

log = get_logger("proxy.modes.shadow")
# compared on write requests only: what a dry run cannot reproduce (see the module docstring)
WRITE_IGNORES = (
    "body.data.id",
    "body.data.attributes.id",
    "body.data.attributes.created_at",
    "body.data.attributes.updated_at",
)
_UNSEEN = Observation(Side.PRIMARY, skipped=True)  # submitted only to be counted
SideCall = Callable[[], Awaitable[Observation]]
# a side answering the client; False: it handed the request to the other side (a fallback)
Answer = Callable[["Call", ResponseTap | None], Awaitable[bool | None]]


def shadow_settings(config: ShadowConfig) -> ShadowSettings:
    """The shadow package's settings from the table's (it must not import the gateway)."""
    return ShadowSettings.from_config(config)


@dataclasses.dataclass(frozen=True, slots=True)
class RoutePlan:
    """Per shadow route, computed once per snapshot: never per request."""

    reads: ShadowSettings
    writes: ShadowSettings  # reads, plus WRITE_IGNORES
    primary: Primary


def plan_routes(table: RouteTable) -> dict[str, RoutePlan]:
    plans = {}
    for route in table.routes:
        if route.shadow is None:
            continue
        reads = shadow_settings(route.shadow)
        extra = tuple(p for p in WRITE_IGNORES if p not in reads.ignore)
        writes = dataclasses.replace(reads, ignore=reads.ignore + extra)
        plans[route.id] = RoutePlan(reads, writes, route.shadow.primary)
    return plans


class ShadowMode:
    """The shadow ModeHandler, and its experiment and parity store for the gateway's life."""

    def __init__(self, store: Store | None = None, *, close_deadline: float = 5.0) -> None:
        self.gateway: Sides | None = None
        self.stores = StoreHolder(store, close_deadline=close_deadline)
        self.experiment = Experiment(self)  # metrics listen on experiment.observers
        self._plans: dict[int, tuple[Snapshot, dict[str, RoutePlan]]] = {}
        self._foreground = 0  # dry-run candidates running before their primary

    def attach(self, gateway: Sides) -> None:
        self.gateway = gateway

    def put(self, result: Result, /) -> bool:
        """The experiment's sink: the store in use now (a reload may move it)."""
        return self.stores.sink.put(result)

    async def start(self) -> None:
        assert self.gateway is not None, "attach() the gateway first"
        table = self.gateway.holder.current.table
        self.experiment.settings = shadow_settings(table.shadow)
        await self.stores.start(table)

    async def stop(self) -> None:
        await self.experiment.close()
        await self.stores.stop()

    def plan(self, snapshot: Snapshot, route: Route) -> RoutePlan:
        return self._plans_of(snapshot)[route.id]

    def _plans_of(self, snapshot: Snapshot) -> dict[str, RoutePlan]:
        cached = self._plans.get(id(snapshot))
        if cached is None or cached[0] is not snapshot:
            cached = (snapshot, plan_routes(snapshot.table))
            if len(self._plans) >= 4:  # requests in flight keep at most a few tables alive
                self._plans.clear()
            self._plans[id(snapshot)] = cached
            self.experiment.settings = shadow_settings(snapshot.table.shadow)
            self.stores.follow(snapshot.table)
        return cached[1]

    def keep(self, snapshot: Snapshot, request: Recorded) -> bool:
        """A recorded request (`record:`), to the store of the table it was served on."""
        self._plans_of(snapshot)  # the first request on a table opens its store
        return self.stores.sink.put(request)

    # ------------------------------------------------------------ one request

    async def handle(self, call: Call) -> None:
        route = call.route
        assert route is not None
        await self.run(call, self.plan(call.snapshot, route))

    async def run(self, call: Call, plan: RoutePlan, answer: Answer | None = None) -> None:
        """One request of a route that compares: `plan.primary` answers the client, through
        `answer` when given (canary mode's native side, which may fall back: then it returns
        False, and the request is counted as skipped rather than compared)."""
        route = call.route
        assert route is not None and self.gateway is not None
        method = call.scope["method"]
        safe = method in SAFE_METHODS
        s = plan.reads if safe else plan.writes
        query = call.scope["query_string"].decode("latin-1")
        request = RequestInfo(method, call.path, query, call.view.request_id)
        primary = answer or self._primary(plan)
        if not sampled(request.request_id, s.sample):
            await primary(call, None)  # left out: the primary alone, exactly as in its mode
            self.experiment.submit(route.id, request, _UNSEEN, _never, settings=s)
            return
        body = RequestBody((), complete=True)
        if has_body(call.scope["headers"]):
            body = await read_body(call.receive, s.max_body)
            more = not body.complete
            call = dataclasses.replace(call, receive=replay(body.chunks, call.receive, more=more))
        writes_ok = safe or plan.primary is Primary.LEGACY  # legacy cannot take a dry run
        if not body.complete or not writes_ok:
            await primary(call, None)
            self.experiment.submit(route.id, request, _UNSEEN, _never, settings=s)
            return
        candidate = self._side(call, plan, body, s, again=False, dry_run=True)
        local = _in_process(call.snapshot, plan, self.gateway.workers)
        if not safe:
            ran = await self._dry_run_first(candidate, s, local[0])
            if ran is None:  # refused over a cap: the primary alone, the request counted as shed
                await primary(call, None)
                self.experiment.count_shed(route.id)
                return
            candidate, local = ran, (False, False)
        capture = Capture(s.max_body)
        started = time.perf_counter()
        # a primary that breaks mid-body raises, as in its mode
        if await primary(call, capture) is False:
            self.experiment.submit(route.id, request, _UNSEEN, _never, settings=s)
            return
        seen = primary_observation(capture, call.exchange, time.perf_counter() - started)
        again = self._side(call, plan, body, s, again=True, dry_run=False) if safe else None
        self.experiment.submit(
            route.id, request, seen, candidate, again, settings=s, in_process=local
        )

    def _primary(self, plan: RoutePlan) -> Answer:
        assert self.gateway is not None
        return self.gateway.native if plan.primary is Primary.NATIVE else self.gateway.legacy

    async def _dry_run_first(
        self, candidate: SideCall, s: ShadowSettings, in_process: bool
    ) -> SideCall | None:
        """Run a write's candidate now, before the primary writes; its observation, for later.
        None: over a cap (max_in_flight; for an in-process candidate max_in_process and
        in_process_share)."""
        experiment = self.experiment
        cap = min(s.max_in_flight, experiment.settings.max_in_flight)
        if experiment.in_flight + self._foreground >= cap:
            return None
        if in_process:
            if not experiment.room_in_process(s):
                return None
            candidate = experiment.counted(candidate)  # background candidates see it running
        self._foreground += 1
        try:
            seen = await observe(candidate, Side.CANDIDATE, s.timeout)
        finally:
            self._foreground -= 1

        async def done() -> Observation:
            return seen

        return done

    def _side(
        self, call: Call, plan: RoutePlan, body: RequestBody, s: ShadowSettings, *,
        again: bool, dry_run: bool,
    ) -> SideCall:  # fmt: skip
        """A call of one side for comparison: the candidate, or the primary again (A/A)."""
        gateway = self.gateway
        assert gateway is not None
        native = (plan.primary is Primary.NATIVE) == again
        data = body.data if has_body(call.scope["headers"]) else None
        return side_call(
            gateway, call.snapshot, call.scope_for(native), call.path_for(native), call.view,
            data, body.chunks, native=native, side=Side.PRIMARY if again else Side.CANDIDATE,
            limit=s.max_body, dry_run=dry_run,
        )  # fmt: skip


def side_call(
    sides: ObservedSides, snapshot: Snapshot, scope: Scope, path: str, view: ClientView,
    data: bytes | None, chunks: tuple[bytes, ...], *,
    native: bool, side: Side, limit: int, dry_run: bool,
) -> SideCall:  # fmt: skip
    """One side called only to observe its answer (a candidate, an A/A call, a replay): the
    native side in-process or at native.url, or the legacy side; `dry_run` marks a native call
    (the legacy side takes no mark). Shadow mode and replay reach the sides through this alone."""
    target = snapshot.native_url if native else None
    workers = sides.workers if native and target is None else None

    async def upstream() -> Observation:
        if not native:  # the legacy side: its files, PHP over FastCGI, or HTTP
            return await sides.legacy_side.observe(
                snapshot.legacy, scope, path, view, data, side=side, limit=limit
            )
        client = sides.forwarder.client
        assert target is not None and client is not None
        return await call_upstream(
            client, target, scope, path, view, data,
            side=side, limit=limit, dry_run=dry_run,
        )  # fmt: skip

    async def worker() -> Observation:
        """The native side in one of the gateway's workers: shed when none has room for
        another candidate (A/A calls of a native primary are bounded the same way)."""
        client = sides.forwarder.client
        lease = workers.lease(candidate=True) if workers is not None and client else None
        if lease is None or client is None:
            return Observation(side, shed=True)
        target: Target | None = lease.target(snapshot)
        try:
            while target is not None:
                try:
                    return await call_upstream(
                        client, target, scope, path, view, data,
                        side=side, limit=limit, dry_run=dry_run,
                    )  # fmt: skip
                except UpstreamRefused:  # it died a moment ago: nothing was sent
                    target = lease.elsewhere(snapshot)
            return Observation(side, shed=True)
        finally:
            lease.end()

    async def in_process() -> Observation:
        if sides.native_app is None:
            raise RuntimeError("no native side is configured")
        return await call_app(
            sides.native_app, scope, path, view.request_id, chunks,
            side=side, limit=limit, dry_run=dry_run, state=sides.native_state,
        )  # fmt: skip

    if workers is not None:
        return worker
    return in_process if native and target is None else upstream


class ObservedSides(Protocol):
    """What calling a side to observe it needs of the gateway (or of a replay)."""

    forwarder: Forwarder
    legacy_side: LegacySide
    native_app: ASGIApp | None
    native_state: dict[str, Any] | None
    workers: NativeWorkers | None


def _in_process(
    snapshot: Snapshot, plan: RoutePlan, workers: NativeWorkers | None
) -> tuple[bool, bool]:
    """Whether the candidate, and the primary's second call, run in this process: the native
    side without a native.url or workers (the in-process app)."""
    here = snapshot.native_url is None and workers is None
    return here and plan.primary is Primary.LEGACY, here and plan.primary is Primary.NATIVE


def primary_observation(capture: Capture, exchange: Exchange, duration: float) -> Observation:
    """The primary as the client got it; the gateway's own error answers are errors."""
    if exchange.status == 499 or (capture.ended and not capture.complete):
        return _UNSEEN  # the client left: there is no whole answer to compare
    if exchange.error:
        return Observation.failed(Side.PRIMARY, exchange.error, duration)
    return capture.observation(Side.PRIMARY, duration)


async def _never() -> Observation:
    raise AssertionError("a request that is not compared calls no side")
