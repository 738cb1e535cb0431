"""The guards of one gateway process: answers counted, verdicts reached, rollbacks shared.

    record(route, side, seconds, error)   every answer of a canary or guarded route (hot path:
                                           a few integer additions, and the verdict when the
                                           route has a guard and the side is native)
    rolled_back(route_id)                 the rollback in force for a route, if any (dict get)
    cycle, every `interval` (1 s)         in one worker thread: add this process's counts to
                                           the store's, write rollbacks tripped here, read every
                                           rollback and the evidence of every guarded route

Evidence across workers: a verdict is reached on everyone's answers in the window (read from
the store at the last cycle) plus this process's answers not yet read back, so neither a worker
that sees half the traffic nor one that sees none decides on less than the whole. The process
whose answer completes the evidence trips at once: the route is legacy from its next request
on; the others follow at their next cycle (within `interval` of the write). A trip is written
with a conditional update, so only one process records the flip (trigger `guard`) and counts
the rollback; a store that cannot be written keeps the rollback in this process and is tried
again every cycle. A guard only ever rolls back towards legacy.

A rollback holds until a resume (`strangler resume`, POST /_strangler/routes/{id}/resume) or a
table that changes the route (`installed`); it then judges only answers of the new epoch.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from sqlalchemy import Engine
from sqlalchemy.exc import OperationalError, SQLAlchemyError

from proxy.logs import get_logger
from proxy.modes.guard import SideEvidence, judge
from proxy.modes.rollbacks import (
    AnswerKey,
    FlipWriter,
    Rollback,
    RollbackStore,
    State,
    bucket_of,
    fingerprint,
    lift,
)
from proxy.table.model import Mode, Route, RouteTable, Side
from proxy.table.snapshot import TableHolder

log = get_logger("proxy.modes.guards")
GUARDED_MODES = (Mode.NATIVE, Mode.CANARY)
PRUNE_EVERY = 60  # cycles between deletions of old evidence
KEEP = 3600.0  # seconds of evidence kept at least (the dashboard shows canary routes' hour)
Key = tuple[str, str]  # route, side
NATIVE, LEGACY = Side.NATIVE.value, Side.LEGACY.value


def window_text(seconds: float) -> str:
    for unit, size in (("h", 3600), ("m", 60)):
        if seconds >= size and seconds % size == 0:
            return f"{int(seconds // size)}{unit}"
    return f"{seconds:g}s"


@dataclass(slots=True)
class Seen:
    """What one cycle read from the store."""

    rollbacks: dict[str, Rollback] = field(default_factory=dict)
    evidence: dict[Key, SideEvidence] = field(default_factory=dict)
    written: set[str] = field(default_factory=set)  # trips this cycle wrote
    added: bool = True  # this process's counts reached the store (else they wait for the next)


class Guards:
    def __init__(
        self,
        holder: TableHolder,
        engine: Callable[[], Engine | None],
        *,
        flips: FlipWriter | None = None,
        on_rollback: Callable[[str], None] = lambda _route: None,
        interval: float = 1.0,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.holder = holder
        self.engine = engine
        self.flips = flips
        self.on_rollback = on_rollback  # a rollback this process wrote (metrics count it)
        self.interval = interval
        self.clock = clock
        self.active: dict[str, Rollback] = {}  # in force here; read per request
        self.epochs: dict[str, int] = {}
        self.failures = 0
        self._pending: dict[Key, SideEvidence] = {}  # since the last cycle began
        self._flushing: dict[Key, SideEvidence] = {}  # being written by the running cycle
        self._seen: dict[Key, SideEvidence] = {}  # everyone's, as read by the last cycle
        self._unconfirmed: dict[str, Rollback] = {}  # tripped here, not yet in the store
        self._stores: dict[int, RollbackStore] = {}
        self._task: asyncio.Task[None] | None = None
        self._wake = asyncio.Event()
        self._cycles = 0
        self._tasks: set[asyncio.Task[None]] = set()
        self._cycling = asyncio.Lock()
        self._executor: concurrent.futures.ThreadPoolExecutor | None = None

    # ------------------------------------------------------------ the request path

    def rolled_back(self, route_id: str) -> Rollback | None:
        return self.active.get(route_id)

    def record(self, route: Route, side: str, seconds: float, error: bool) -> None:
        """`side`: "legacy" or "native" (strings, not the enum: this runs on every request)."""
        key = (route.id, side)
        evidence = self._pending.get(key)
        if evidence is None:
            evidence = self._pending[key] = SideEvidence()
        evidence.add(seconds, error)
        if route.guard is not None and side == NATIVE and route.id not in self.active:
            self._consider(route)

    def _consider(self, route: Route) -> None:
        guard = route.guard
        assert guard is not None
        native = self._sum((route.id, NATIVE))
        if native.n < guard.min_requests:
            return
        legacy = self._sum((route.id, LEGACY))
        verdict = judge(guard, native, legacy, window_text(guard.window))
        if verdict.tripped:
            self._trip(route, verdict.reason)

    def _sum(self, key: Key) -> SideEvidence:
        parts = [p[key] for p in (self._seen, self._flushing, self._pending) if key in p]
        return parts[0].merge(*parts[1:]) if parts else SideEvidence()

    def _trip(self, route: Route, reason: str) -> None:
        table = self.holder.current.table
        rollback = Rollback(
            route.id, State.ROLLED_BACK, self.epochs.get(route.id, 0), self.clock(), reason,
            route.mode.value, fingerprint(route), table.digest, "guard",
        )  # fmt: skip
        self.active[route.id] = rollback
        self._unconfirmed[route.id] = rollback
        log.warning("route_rolled_back", route=route.id, reason=reason, mode=route.mode.value)
        self._wake.set()  # write it now, not at the next tick

    # ------------------------------------------------------------ lifespan

    async def start(self) -> None:
        self._executor = concurrent.futures.ThreadPoolExecutor(1, "strangler-guards")
        await self.installed(self.holder.current.table, "startup")
        self._task = asyncio.get_running_loop().create_task(self._run())

    async def drain(self) -> None:
        """Wait for the work a reload started (tests, and shutdown)."""
        while self._tasks:
            await asyncio.gather(*self._tasks, return_exceptions=True)

    async def stop(self) -> None:
        await self.drain()
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
        with contextlib.suppress(Exception):
            await self.cycle()  # the last counts, and any trip not yet written
        if self._executor is not None:
            self._executor.shutdown(wait=True)
            self._executor = None

    async def _run(self) -> None:
        while True:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), self.interval)
            self._wake.clear()
            await self.cycle()

    async def _in_thread(self, work: Callable[[RollbackStore], object]) -> object:
        engine = self.engine()
        if engine is None:
            return None  # the store is not open (yet): nothing shared to read or write
        if id(engine) not in self._stores:
            self._stores[id(engine)] = RollbackStore.on(engine)
        store = self._stores[id(engine)]
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._executor, work, store)

    # ------------------------------------------------------------ one cycle

    async def cycle(self) -> None:
        """Write this process's counts and trips, read everyone's state and evidence."""
        async with self._cycling:  # the tick, a reload and the shutdown take turns
            await self._cycle()

    async def _cycle(self) -> None:
        table = self.holder.current.table
        self._flushing, self._pending = self._pending, {}
        trips = dict(self._unconfirmed)
        counts = self._keyed(self._flushing)
        now = self.clock()
        guarded = [r for r in table.routes if r.guard is not None and r.mode in GUARDED_MODES]
        self._cycles += 1
        prune = self._cycles % PRUNE_EVERY == 0
        keep = max([KEEP, *(r.guard.window for r in guarded if r.guard)])

        def work(store: RollbackStore) -> Seen:
            seen = Seen()
            try:
                store.add(counts)
            except OperationalError as exc:  # a deadlock or lock wait between writers
                seen.added = False
                log.info("guard_counts_deferred", error=repr(exc))
            for rollback in trips.values():
                if store.trip(rollback):
                    seen.written.add(rollback.route)
                    if self.flips is not None:
                        self.flips(
                            store.engine, rollback.route, rollback.mode, "legacy", "guard",
                            rollback.at, rollback.digest,
                        )  # fmt: skip
            seen.rollbacks = store.read()
            for route in guarded:
                assert route.guard is not None
                row = seen.rollbacks.get(route.id)
                epoch = row.epoch if row is not None else 0
                sides = store.evidence(route.id, epoch, now - route.guard.window)
                for side, evidence in sides.items():
                    seen.evidence[route.id, side] = evidence
            if prune:
                store.prune(now - keep - 60)
            return seen

        try:
            seen = await self._in_thread(work)
        except (SQLAlchemyError, OSError) as exc:
            self.failures += 1
            log.warning("guard_store_failed", error=repr(exc))
            seen = None
        if not isinstance(seen, Seen) or not seen.added:  # the counts wait for the next cycle
            for key, evidence in self._flushing.items():
                later = self._pending.get(key)
                self._pending[key] = evidence.merge(later) if later is not None else evidence
            self._flushing = {}
        if isinstance(seen, Seen):
            self._apply(seen, trips)

    def _keyed(self, counts: dict[Key, SideEvidence]) -> dict[AnswerKey, SideEvidence]:
        bucket = bucket_of(self.clock())
        return {
            (route, self.epochs.get(route, 0), bucket, side): evidence
            for (route, side), evidence in counts.items()
        }

    def _apply(self, seen: Seen, trips: dict[str, Rollback]) -> None:
        for route in seen.written:
            self.on_rollback(route)
            log.warning("route_rollback_recorded", route=route, reason=trips[route].reason)
        for route, tripped in trips.items():
            row = seen.rollbacks.get(route)
            if row is None or row.active or row.epoch != tripped.epoch:
                self._unconfirmed.pop(route, None)  # in the store, or resumed meanwhile
        self.epochs = {route: row.epoch for route, row in seen.rollbacks.items()}
        now_active = {r: row for r, row in seen.rollbacks.items() if row.active}
        now_active.update(self._unconfirmed)
        for route in [r for r in self.active if r not in now_active]:
            log.info("route_resumed", route=route)
        self.active.clear()
        self.active.update(now_active)
        self._seen = seen.evidence
        self._flushing = {}

    # ------------------------------------------------------------ operators and tables

    async def resume(self, route_id: str, trigger: str = "resume") -> Rollback | None:
        """Lift a route's rollback everywhere; the rollback lifted, or None if there was none."""
        table = self.holder.current.table
        route = next((r for r in table.routes if r.id == route_id), None)
        mode = route.mode.value if route is not None else None
        at = self.clock()

        def work(store: RollbackStore) -> Rollback | None:
            return lift(
                store, route_id, at=at, trigger=trigger, mode=mode, digest=table.digest,
                flips=self.flips,
            )  # fmt: skip

        lifted = await self._in_thread(work)
        local = self._unconfirmed.pop(route_id, None)
        self.active.pop(route_id, None)
        if isinstance(lifted, Rollback):
            self.epochs[route_id] = lifted.epoch + 1
            self._forget(route_id)
            log.info("route_resumed", route=route_id, trigger=trigger)
            return lifted
        return local

    def _forget(self, route_id: str) -> None:
        for part in (self._seen, self._flushing, self._pending):
            for key in [k for k in part if k[0] == route_id]:
                del part[key]

    async def installed(self, table: RouteTable, trigger: str) -> None:
        """A table is in force: rollbacks of routes it changed are lifted (by whichever process
        gets there first), the others stay."""
        routes = {r.id: r for r in table.routes}
        for route_id, rollback in list(self.active.items()):
            if fingerprint(routes.get(route_id)) != rollback.fingerprint:
                self._unconfirmed.pop(route_id, None)
                del self.active[route_id]
        at = self.clock()

        def work(store: RollbackStore) -> list[str]:
            lifted = []
            for row in store.read().values():
                route = routes.get(row.route)
                fp = fingerprint(route)
                if not row.active or fp == row.fingerprint:
                    continue
                mode = route.mode.value if route is not None else None
                flips = self.flips if mode in ("native", "canary") else None
                if lift(
                    store, row.route, at=at, trigger=trigger, mode=mode, digest=table.digest,
                    flips=flips, unless=fp,
                ) is not None:  # fmt: skip
                    lifted.append(row.route)
            return lifted

        try:
            lifted = await self._in_thread(work)
        except (SQLAlchemyError, OSError) as exc:
            self.failures += 1
            log.warning("guard_store_failed", error=repr(exc))
            return
        for route_id in lifted if isinstance(lifted, list) else ():
            log.info("route_resumed", route=route_id, trigger=trigger)
        await self.cycle()

    def reloaded(self, changed: bool, trigger: str, table: RouteTable) -> None:
        """A reload listener's part: only a table that changed can lift a rollback."""
        if changed:
            task = asyncio.get_running_loop().create_task(self.installed(table, trigger))
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)
            task.add_done_callback(_log_failure)


def _log_failure(task: asyncio.Task[None]) -> None:
    if not task.cancelled() and task.exception() is not None:
        log.error("guard_reload_failed", error=repr(task.exception()))
