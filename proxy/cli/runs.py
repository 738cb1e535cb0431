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

from typing import Any

from rich.console import Console
from rich.text import Text

from shadow.report import Report, build_report, render_table, to_json
from shadow.runs import RunInfo, describe
from shadow.runstore import read_run
from shadow.samples import pick_samples, render_samples_table
from shadow.store import Store


def run_report(store: Store, run: str) -> Report:
    rows = store.read_rows(run=run)
    return build_report(rows, bucket_seconds=store.bucket_seconds)


def failing(report: Report, info: RunInfo | None = None) -> bool:
    """A route differs at a field that is not noise, a comparison errored, or one failed inside
    the replay (a request sent and never compared)."""
    failed = info is not None and info.totals.failed > 0
    return failed or any(r.fields or r.errored for r in report.routes)


def render_run(console: Console, store: Store, run: str) -> bool:
    """Print the run; whether it fails (see the module docstring)."""
    info = read_run(store, run)
    if info is None:
        console.print(Text(f"no replay run {run!r} in this store"))
        return True
    report = run_report(store, info.id)
    samples = store.read_rows(run=info.id).samples
    console.print(Text(describe(info)))
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
