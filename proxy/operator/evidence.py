"""What an operator decides from: per route, its parity report, its gate verdict and its flips.

`gather` reads the parity store and the flip history once (blocking: the admin surface runs it
in a worker thread) and folds them with the table in force; `verdicts` is the gate's part of
that, shared by the dashboard and `strangler gate`, so both always say the same.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

from sqlalchemy.exc import SQLAlchemyError

from proxy.operator.history import Flip, FlipStore
from proxy.operator.stages import RouteStatus
from proxy.table.model import GateConfig, Mode, Route, RouteTable
from shadow.gate import GateRule, Verdict, judge
from shadow.records import Rows, SampleRow
from shadow.report import Report, RouteReport, build_report
from shadow.settings import ShadowSettings
from shadow.store import Store

FLIPS_SHOWN = 50  # per page: the newest; the CLI lists them all


@dataclass(frozen=True, slots=True)
class RouteEvidence:
    id: str
    route: Route | None  # None: known to the store or the history, no longer in the table
    requests: int  # answered since the gateway started (every worker, from the metrics)
    report: RouteReport | None  # None: nothing stored for it in the period
    verdict: Verdict | None  # shadow routes only
    flips: tuple[Flip, ...]  # newest first


@dataclass(frozen=True, slots=True)
class Evidence:
    table: RouteTable
    as_of: float  # when it was gathered: the end of the period shown
    since: float  # the period shown: the widest gate window of the table
    routes: tuple[RouteEvidence, ...]
    unmatched: int
    dropped: int
    samples: tuple[SampleRow, ...] = ()  # gathered for one route only
    problem: str | None = None  # the store could not be read: what is shown is partial
    statuses: Mapping[str, RouteStatus] = field(default_factory=dict)  # stages, by route id

    def route(self, route_id: str) -> RouteEvidence | None:
        return next((r for r in self.routes if r.id == route_id), None)


def period(table: RouteTable) -> float:
    """Seconds of evidence the dashboard reads: the widest window any gate looks at."""
    return max((r.gate.window for r in table.routes), default=table.gate.window)


def rule_of(gate: GateConfig) -> GateRule:
    return GateRule.from_config(gate)


def verdicts(
    table: RouteTable, rows: Rows, now: float, bucket_seconds: int = 60
) -> dict[str, Verdict]:
    """The gate verdict of every shadow route of the table."""
    return {
        r.id: judge(
            rows, r.id, rule_of(r.gate), now, bucket_seconds=bucket_seconds,
            thresholds=ShadowSettings.from_config(r.shadow).thresholds,
        )
        for r in table.routes
        if r.mode is Mode.SHADOW and r.shadow is not None
    }  # fmt: skip


def gather(
    table: RouteTable,
    counts: Mapping[str, int],
    store: Callable[[], Store],
    flips: Callable[[], FlipStore] | None,
    now: float,
    *,
    unmatched_key: str = "(unmatched)",
    route: str | None = None,
) -> Evidence:
    """Everything the overview (route None) or one route's page shows."""
    since = now - period(table)
    problem = None
    rows, report, bucket = Rows(), Report(since, (), 0), 60
    try:
        opened = store()
        bucket = opened.bucket_seconds
        rows = opened.read_rows(since, route)
        report = build_report(rows, since=since, route=route, bucket_seconds=bucket)
    except (SQLAlchemyError, OSError) as exc:
        problem = f"the parity store cannot be read: {type(exc).__name__}: {exc}"
    history: list[Flip] = []
    if flips is not None:
        try:
            history = flips().read(route=route)
        except (SQLAlchemyError, OSError) as exc:
            problem = problem or f"the flip history cannot be read: {type(exc).__name__}"
    judged = verdicts(table, rows, now, bucket)
    reports = {r.route: r for r in report.routes}
    known = [r.id for r in table.routes]
    ids = known + sorted(({*reports, *(f.route for f in history)}) - set(known))
    if route is not None:
        ids = [route] if route in ids else []
    by_id = {r.id: r for r in table.routes}
    routes = tuple(
        RouteEvidence(
            rid, by_id.get(rid), counts.get(rid, 0), reports.get(rid), judged.get(rid),
            tuple(f for f in history if f.route == rid)[:FLIPS_SHOWN],
        )
        for rid in ids
    )  # fmt: skip
    samples = tuple(s for s in rows.samples if s.route == route) if route is not None else ()
    return Evidence(
        table, now, since, routes, counts.get(unmatched_key, 0), report.dropped, samples, problem
    )
