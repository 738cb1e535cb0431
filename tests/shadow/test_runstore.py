"""Replay runs and recorded requests in the parity store, on every dialect: a run's evidence
stays behind its id (never in live reports), runs are listed newest first, recorded requests
come back as they were kept, a page at a time, and prune forgets both."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import create_engine, text

from shadow.compare import Difference, Kind, Outcome
from shadow.records import Recorded, RequestInfo, Result, Sample, Source, fold
from shadow.runs import LeftOut, RunInfo, RunState, Totals, run_id
from shadow.runstore import begin, end, read_recorded, read_run, read_runs, recorded_by_id
from shadow.store import Store, open_store

DIFF = Difference("body.data[0].email", "body.data[*].email", Kind.VALUE)


def mismatch(at: float, rid: str = "r-1", route: str = "users.list") -> Result:
    sample = Sample(RequestInfo("GET", "/api/users", "", rid), '{"a":1}', '{"a":2}')
    return Result(route, at, Outcome.MISMATCHED, Source.PC, 0.01, 0.02, (DIFF,), sample)


def matched(at: float, route: str = "users.list") -> Result:
    return Result(route, at, Outcome.MATCHED, Source.PC, 0.01, 0.02)


def kept(at: float, route: str = "users.list", n: int = 0) -> Recorded:
    return Recorded(
        route, at, f"req-{n}", "POST", f"/api/users?page={n}", (("accept", "application/json"),),
        b'{"name": "ann"}', 201, "legacy",
    )  # fmt: skip


def test_a_runs_evidence_stays_behind_its_id(store: Store) -> None:
    store.write(fold([mismatch(120.0), matched(121.0)]), run="run-a")
    store.write(fold([matched(125.0)]), run="run-b")
    store.write(fold([matched(130.0, "orders.list")]))  # live

    live = store.read_rows()
    assert {c.route for c in live.counts} == {"orders.list"}
    assert live.samples == () and live.fields == ()

    a = store.read_rows(run="run-a")
    assert [(c.counts["matched"], c.counts["mismatched"]) for c in a.counts] == [(1, 1)]
    assert [(f.field, f.n) for f in a.fields] == [("body.data[*].email", 1)]
    assert [s.path for s in a.samples] == ["body.data[0].email"]
    assert sum(x.n for x in a.latency) == 4  # two results, two sides each
    b = store.read_rows(run="run-b")
    assert [c.counts["matched"] for c in b.counts] == [1] and b.samples == ()
    assert store.read_rows(run="run-a", route="orders.list").counts == ()


def test_writing_a_run_twice_adds_up_as_live_evidence_does(store: Store) -> None:
    batch = fold([mismatch(120.0)])
    store.write(batch, run="r")
    store.write(batch, run="r")
    [row] = store.read_rows(run="r").counts
    assert row.counts["mismatched"] == 2


def test_runs_are_listed_newest_first_and_latest_names_the_newest(store: Store) -> None:
    first = RunInfo(run_id(1000.0, "aaaa"), 1000.0, "access log a.log", {"limit": 10})
    second = RunInfo(run_id(2000.0, "bbbb"), 2000.0, "recorded requests", {"routes": ["x"]})
    begin(store, first)
    begin(store, second)
    totals = Totals(read=12, sent=9)
    totals.leave_out(LeftOut.UNMATCHED)
    totals.leave_out(LeftOut.NOT_COMPARED, "legacy.only")
    end(store, first.id, RunState.STOPPED, 1500.0, totals)

    assert [r.id for r in read_runs(store)] == [second.id, first.id]
    assert read_run(store, "latest") == second
    got = read_run(store, first.id)
    assert got is not None
    assert (got.state, got.ended, got.options) == (RunState.STOPPED, 1500.0, {"limit": 10})
    assert got.totals.to_json() == {
        "read": 12, "sent": 9, "left_out": {"not_compared": 1, "unmatched": 1},
        "not_compared_routes": {"legacy.only": 1}, "failed": 0,
    }  # fmt: skip
    assert read_run(store, "no-such-run") is None
    assert first.id == "19700101-001640-aaaa"


def test_recorded_requests_come_back_as_kept_oldest_first_a_page_at_a_time(store: Store) -> None:
    store.write(
        fold([kept(100.0 + i, "users.list" if i % 2 else "orders.list", i) for i in range(7)])
    )
    found = list(read_recorded(store, page=2))
    assert [r.request_id for r in found] == [f"req-{i}" for i in range(7)]
    first = found[0]
    assert (first.method, first.target, first.body, first.status, first.side) == (
        "POST", "/api/users?page=0", b'{"name": "ann"}', 201, "legacy",
    )  # fmt: skip
    assert first.headers == (("accept", "application/json"),)

    users = list(read_recorded(store, routes=["users.list"], since=102.0, until=105.0, page=1))
    assert [r.request_id for r in users] == ["req-3", "req-5"]
    ids = [r.id for r in found if r.id is not None]
    assert set(recorded_by_id(store, ids[:2])) == set(ids[:2])


def test_prune_forgets_old_runs_with_their_evidence_and_old_recorded_requests(
    store: Store,
) -> None:
    begin(store, RunInfo("old", 100.0, "recorded requests", {}))
    begin(store, RunInfo("new", 5000.0, "recorded requests", {}))
    store.write(fold([mismatch(120.0)]), run="old")
    store.write(fold([mismatch(5020.0)]), run="new")
    store.write(fold([kept(100.0), kept(5000.0, n=1)]))

    assert store.prune(1000.0) > 0

    assert [r.id for r in read_runs(store)] == ["new"]
    assert store.read_rows(run="old").counts == ()
    assert len(store.read_rows(run="new").counts) == 1
    assert [r.request_id for r in read_recorded(store)] == ["req-1"]


def test_a_store_from_before_replay_reads_as_one_without_runs(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path}/old.db"
    engine = create_engine(url)
    with engine.begin() as conn:  # a store that only ever had the live tables
        conn.execute(text("CREATE TABLE shadow_counts (route VARCHAR(200))"))
    engine.dispose()
    store = open_store(url, create=False)
    try:
        assert read_runs(store) == ()
        assert read_run(store, "latest") is None
        assert store.read_rows(run="anything").counts == ()
        assert list(read_recorded(store)) == []
    finally:
        store.close()
