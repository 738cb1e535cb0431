"""What the operator sees of one gateway, wired in one place: metrics, flip history, dashboard.

`create_app` makes one `Insight` and connects it to the gateway's edges:

    Gateway(metrics=insight.metrics)           every request counted (proxy.metrics)
    reloader.listeners += [insight.reloaded]   reloads counted; accepted ones diffed and recorded
    create_admin(ctx, insight.routes(ctx))     /_strangler/ (dashboard) and /_strangler/metrics
    startup: insight.started(table)            the table in force against the recorded history
    shadow:  insight.watch_shadow(...)         shadow outcomes, candidate latency, store drops

The parity store is read through `parity_store(table)` (blocking; called in worker threads), so
the dashboard and the flips share the store shadow mode writes to when one is given; alone, an
Insight opens the table's store URL itself, once per URL.
"""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, Protocol

from starlette.routing import Route

from proxy.logs import get_logger
from proxy.operator.dashboard import Sources, dashboard_routes, metrics_route
from proxy.operator.history import FlipRecorder
from proxy.operator.metrics import Metrics, default_metrics
from proxy.operator.stages import RouteStatus
from proxy.operator.status import statuses
from proxy.table.model import RouteTable, Side, keeps_evidence
from shadow.records import Result
from shadow.store import Store, open_store

if TYPE_CHECKING:
    from proxy.operator.admin import AdminContext
    from proxy.table.reload import ReloadResult
    from proxy.table.snapshot import TableHolder

log = get_logger("proxy.operator.insight")


class Observed(Protocol):
    """What `watch_shadow` needs of an experiment: somewhere to hear of each result."""

    observers: list[Callable[[Result], None]]


class StoresByUrl:
    """The parity store of a table, opened once per URL (for a gateway without shadow mode)."""

    def __init__(self) -> None:
        self._stores: dict[str, Store] = {}
        self._lock = threading.Lock()  # called from worker threads: open each URL once

    def __call__(self, table: RouteTable) -> Store:
        url = table.shadow.store
        with self._lock:
            if url not in self._stores:
                self._stores[url] = open_store(url)
            return self._stores[url]

    def close(self) -> None:
        with self._lock:
            for store in self._stores.values():
                store.close()
            self._stores.clear()


class Insight:
    def __init__(
        self,
        metrics: Metrics | None = None,
        *,
        parity_store: Callable[[RouteTable], Store] | None = None,
        flips: FlipRecorder | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.metrics = metrics if metrics is not None else default_metrics()
        own = StoresByUrl()
        self._own_stores = own if parity_store is None else None
        self.parity_store = parity_store if parity_store is not None else own
        self.flips = flips or FlipRecorder(lambda table: self.parity_store(table).engine, clock)
        self.clock = clock
        self.dropped: Callable[[], int] = lambda: 0  # the parity writer's running drop count
        self._holder: TableHolder | None = None
        self._primaries: tuple[RouteTable | None, dict[str, str]] = (None, {})
        self.guards: Any = None  # the gateway's Guards (rollbacks in force), set by create_app

    def routes(self, ctx: AdminContext) -> list[Route]:
        self._holder = ctx.holder
        sources = Sources(
            self.parity_store, self.flips.store_for, self.clock, self.metrics.requests_by_route,
            self.stages,
        )  # fmt: skip
        return [*dashboard_routes(ctx, sources), metrics_route(ctx, self.metrics, self.sync)]

    def stages(self, table: RouteTable, now: float) -> list[RouteStatus]:
        """Every route's stage; blocking (the dashboard calls it in a worker thread)."""
        store = self.parity_store(table) if keeps_evidence(table) else None
        rolled_back = self.guards.active if self.guards is not None else None
        return statuses(
            table, store.engine if store is not None else None,
            store.read_rows if store is not None else None, now, rolled_back,
            store.bucket_seconds if store is not None else 60,
        )  # fmt: skip

    # ------------------------------------------------------------ lifespan and reloads

    def started(self, table: RouteTable) -> None:
        self.flips.started(table)

    def reloaded(self, result: ReloadResult, old: RouteTable, new: RouteTable) -> None:
        self.metrics.reloaded(result.trigger, result.ok, result.changed)
        if result.changed:
            self.flips.reloaded(result.trigger, result.at, old, new)

    async def stop(self) -> None:
        self.metrics.process_exiting()
        await self.flips.stop()
        if self._own_stores is not None:
            await asyncio.to_thread(self._own_stores.close)

    # ------------------------------------------------------------ shadow mode

    def watch_shadow(self, experiment: Observed, dropped: Callable[[], int]) -> None:
        """Count every result the experiment hands to the store, and the store's drops."""
        self.dropped = dropped
        experiment.observers.append(self.shadow_result)

    def shadow_result(self, result: Result) -> None:
        try:
            self.metrics.shadow_result(result, self._primary(result.route))
            self.sync()
        except Exception as exc:  # counting must never break the experiment
            log.warning("shadow_metrics_failed", error=repr(exc))

    def sync(self) -> None:
        self.metrics.sync_dropped(self.dropped())

    def _primary(self, route_id: str) -> str:
        """The side that answers the client on a route, per table (built once per snapshot)."""
        if self._holder is None:
            return Side.LEGACY.value
        table = self._holder.current.table
        seen, primaries = self._primaries
        if seen is not table:
            primaries = {r.id: r.shadow.primary.value for r in table.routes if r.shadow}
            self._primaries = (table, primaries)
        return primaries.get(route_id, Side.LEGACY.value)
