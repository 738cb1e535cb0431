"""A replay run for the command line: what `strangler replay` prints when it ends, and what
`strangler report --run ID` prints later (one function, so the two always agree).

    Replay <id>: how it ended, its source, requests read and sent, and each reason some were
                 left out
    the run's parity report (every outcome in its own column, as for live evidence)
    per route, the differing values: the newest stored pair of each field, side by side
    how to turn them into tests: strangler export-tests --run <id>

A run fails (the commands exit 1) when a route differs at a field that is not noise, a
comparison errored, or one failed inside the replay: a replay has no tree-diff budget and no
rate thresholds to wait for, so any difference it found is one to look at.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from rich.console import Console
from rich.text import Text

from shadow.report import Report, build_report, fmt_time, render_table, to_json
from shadow.runs import LeftOut, RunInfo
from shadow.runstore import read_run
from shadow.samples import pick_samples, render_samples_table
from shadow.store import Store

_REASONS = {
    LeftOut.UNREADABLE.value: "not requests",
    LeftOut.OUTSIDE.value: "outside the times or routes asked",
    LeftOut.UNMATCHED.value: "matched no route",
    LeftOut.NOT_COMPARED.value: "on routes with no native side to compare",
    LeftOut.UNKNOWN_ROUTE.value: "under a route the table no longer has",
    LeftOut.BAD_PATH.value: "with a path the gateway refuses",
}


def run_report(store: Store, run: str) -> Report:
    rows = store.read_rows(run=run)
    return build_report(rows, bucket_seconds=store.bucket_seconds)


def failing(report: Report, info: RunInfo | None = None) -> bool:
    """A route differs at a field that is not noise, a comparison errored, or one failed inside
    the replay (a request sent and never compared)."""
    failed = info is not None and info.totals.failed > 0
    return failed or any(r.fields or r.errored for r in report.routes)


def summary(info: RunInfo) -> str:
    t = info.totals
    took = ""
    if info.ended is not None:
        took = f" in {timedelta(seconds=round(info.ended - info.started))}"
    text = (
        f"Replay {info.id}: {info.state.value}{took}, started {fmt_time(info.started)}; "
        f"{info.source}; {t.read:,} requests read, {t.sent:,} sent"
    )
    left = []
    for why, n in sorted(t.left_out.items()):
        part = f"{n:,} {_REASONS.get(why, why)}"
        if why == LeftOut.NOT_COMPARED.value and t.not_compared_routes:
            routes = ", ".join(f"{r}: {k:,}" for r, k in sorted(t.not_compared_routes.items()))
            part += f" ({routes})"
        left.append(part)
    if left:
        text += "; left out: " + ", ".join(left)
    if t.failed:
        text += f"; {t.failed:,} comparisons failed inside the replay, uncompared"
    return text + "."


def render_run(console: Console, store: Store, run: str) -> bool:
    """Print the run; whether it fails (see the module docstring)."""
    info = read_run(store, run)
    if info is None:
        console.print(Text(f"no replay run {run!r} in this store"))
        return True
    report = run_report(store, info.id)
    samples = store.read_rows(run=info.id).samples
    console.print(Text(summary(info)))
    console.print(render_table(report, title=f"Replay {info.id}"))
    for route in report.routes:
        pairs = pick_samples(route, samples)
        if pairs:
            console.print(render_samples_table(pairs, title=f"{route.route}: differing values"))
    if any(r.fields or r.errored for r in report.routes):
        console.print(Text(
            f"Tests for these differences: strangler export-tests --run {info.id} -o tests/parity/"
        ))  # fmt: skip
    elif not report.routes:
        console.print(Text("Nothing was compared."))
    return failing(report, info)


def run_json(store: Store, run: str) -> dict[str, Any] | None:
    info = read_run(store, run)
    if info is None:
        return None
    report = to_json(run_report(store, info.id))
    return {
        "run": {
            "id": info.id, "state": info.state.value, "started": info.started,
            "ended": info.ended, "source": info.source, "options": info.options,
            "totals": info.totals.to_json(),
        },
        **report,
    }  # fmt: skip
