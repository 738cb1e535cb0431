"""Every route's stage with its evidence, read from the parity store (blocking: run it in a
worker thread, or from the CLI). `strangler status` and the dashboard's first page show it.

Reads: the rollbacks and the answers per side (proxy.modes.rollbacks), and the parity rows the
gate judges. A table that keeps no evidence is shown from the table alone, with no store read.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

from sqlalchemy import Engine

from proxy.modes.guards import window_text
from proxy.modes.rollbacks import Rollback, RollbackStore
from proxy.operator.evidence import rule_of
from proxy.operator.stages import RouteStatus, SideStats, next_step, side_stats, stage_of
from proxy.table.model import Mode, Route, RouteTable, keeps_evidence
from shadow.gate import Verdict, judge
from shadow.records import Rows
from shadow.settings import ShadowSettings

DEFAULT_WINDOW = 300.0  # seconds of answers shown for a canary route without a guard


def window_of(route: Route) -> float:
    return route.guard.window if route.guard is not None else DEFAULT_WINDOW


def gated(route: Route) -> bool:
    compared = route.mode is Mode.CANARY and route.canary is not None and route.canary.compare
    return route.shadow is not None and (route.mode is Mode.SHADOW or compared)


def statuses(
    table: RouteTable,
    engine: Engine | None,
    rows: Callable[[float], Rows] | None,
    now: float,
    rolled_back: Mapping[str, Rollback] | None = None,
    bucket_seconds: int = 60,
) -> list[RouteStatus]:
    """`rolled_back`: the rollbacks in force as a gateway process knows them (else the store's)."""
    store = RollbackStore.on(engine) if engine is not None and keeps_evidence(table) else None
    rollbacks = store.read() if store is not None else {}
    if rolled_back is None:
        rolled_back = {r: row for r, row in rollbacks.items() if row.active}
    verdicts: dict[str, Verdict] = {}
    judged = [r for r in table.routes if gated(r)]
    if judged and rows is not None:
        read = rows(now - max(r.gate.window for r in judged))
        for r in judged:
            thresholds = ShadowSettings.from_config(r.shadow).thresholds
            verdicts[r.id] = judge(
                read, r.id, rule_of(r.gate), now, bucket_seconds=bucket_seconds,
                thresholds=thresholds,
            )  # fmt: skip
    out = []
    for route in table.routes:
        sides: tuple[SideStats, ...] = ()
        if store is not None and (route.mode is Mode.CANARY or route.guard is not None):
            row = rollbacks.get(route.id)
            found = store.evidence(route.id, row.epoch if row else 0, now - window_of(route))
            sides = tuple(side_stats(side, found.get(side)) for side in ("legacy", "native"))
        rollback = rolled_back.get(route.id)
        verdict = verdicts.get(route.id)
        out.append(
            RouteStatus(
                route.id, route.mode.value, "legacy" if rollback else route.mode.value,
                stage_of(route), rollback, verdict, sides, window_text(window_of(route)),
                next_step(route, rollback, verdict, sides),
            )
        )  # fmt: skip
    return out
