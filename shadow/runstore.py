"""Replay runs and recorded requests in the parity store (the tables are in shadow.tables).

A run's row is written when it starts and again when it ends (`begin`, `end`); its evidence goes
through `Store.write(batch, run=ID)` like live evidence, to tables of its own. `RunSink` is what a
`StoreWriter` writes a run's batches to. Recorded requests are written by the gateway's writer
(they ride in its batches) and read here, oldest first, a page at a time, so a day of them never
sits in memory at once.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from typing import Any

from sqlalchemy import inspect, select, update

from shadow.records import Batch, Recorded
from shadow.runs import RunInfo, RunState, Totals, run_from_row
from shadow.store import Store
from shadow.tables import recorded, runs

PAGE = 500  # recorded requests read at once


class RunSink:
    """A run's evidence, for a StoreWriter: each batch goes to the run's tables."""

    def __init__(self, store: Store, run: str) -> None:
        self.store = store
        self.run = run
        self.bucket_seconds = store.bucket_seconds

    def write(self, batch: Batch, /) -> None:
        self.store.write(batch, run=self.run)


def begin(store: Store, info: RunInfo) -> None:
    with store.engine.begin() as conn:
        conn.execute(
            runs.insert(),
            [{
                "id": info.id, "started": info.started, "ended": info.ended,
                "state": info.state.value, "source": info.source,
                "options": info.options_text(), "totals": info.totals_text(),
            }],
        )  # fmt: skip


def end(store: Store, run: str, state: RunState, ended: float, totals: Totals) -> None:
    values = {"state": state.value, "ended": ended, "totals": json.dumps(totals.to_json())}
    with store.engine.begin() as conn:
        conn.execute(update(runs).where(runs.c.id == run).values(**values))


def read_runs(store: Store) -> tuple[RunInfo, ...]:
    """Every run, newest first (none in a store no replay has written to)."""
    with store.engine.connect() as conn:
        if not inspect(conn).has_table(runs.name):
            return ()
        rows = conn.execute(select(runs).order_by(runs.c.started.desc(), runs.c.id.desc()))
        return tuple(_run(r) for r in rows)


def read_run(store: Store, run: str) -> RunInfo | None:
    """One run by its id; `latest` names the newest."""
    if run == "latest":
        found = read_runs(store)
        return found[0] if found else None
    with store.engine.connect() as conn:
        if not inspect(conn).has_table(runs.name):
            return None
        row = conn.execute(select(runs).where(runs.c.id == run)).first()
        return None if row is None else _run(row)


def _run(r: Any) -> RunInfo:
    return run_from_row(r.id, r.started, r.ended, r.state, r.source, r.options, r.totals)


def read_recorded(
    store: Store,
    *,
    since: float | None = None,
    until: float | None = None,
    routes: Sequence[str] = (),
    page: int = PAGE,
) -> Iterator[Recorded]:
    """Recorded requests, oldest first, within the times and routes asked."""
    after = 0
    while True:
        query = select(recorded).where(recorded.c.id > after).order_by(recorded.c.id).limit(page)
        if since is not None:
            query = query.where(recorded.c.at >= since)
        if until is not None:
            query = query.where(recorded.c.at <= until)
        if routes:
            query = query.where(recorded.c.route.in_(list(routes)))
        with store.engine.connect() as conn:
            if not inspect(conn).has_table(recorded.name):
                return
            rows = [_recorded(r) for r in conn.execute(query)]
        yield from rows
        if len(rows) < page:
            return
        after = rows[-1].id or after


def recorded_by_id(store: Store, ids: Sequence[int]) -> dict[int, Recorded]:
    """The recorded requests of these row numbers (those still stored)."""
    if not ids:
        return {}
    with store.engine.connect() as conn:
        if not inspect(conn).has_table(recorded.name):
            return {}
        rows = conn.execute(select(recorded).where(recorded.c.id.in_(list(ids))))
        found = (_recorded(r) for r in rows)
        return {r.id: r for r in found if r.id is not None}


def _recorded(r: Any) -> Recorded:
    headers = tuple((str(k), str(v)) for k, v in json.loads(r.headers))
    return Recorded(
        r.route, float(r.at), r.request_id, r.method, r.target, headers, bytes(r.body),
        r.status, r.side, int(r.id),
    )  # fmt: skip
