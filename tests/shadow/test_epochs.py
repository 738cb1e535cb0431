"""Evidence epochs: a reset starts a route's evidence over for reports and gates, the rows
before it stay, and a store made before epochs existed gains their table when opened."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import inspect

from shadow.compare import Difference, Kind, Outcome
from shadow.gate import GateRule, judge
from shadow.records import Epoch, RequestInfo, Result, Rows, Sample, epoch_starts, fold, in_epoch
from shadow.report import build_report, render_markdown
from shadow.store import Store, open_store
from shadow.tables import epochs

ROUTE = "users.list"
DAY = 86400.0
NOW = 10 * DAY
RESET = NOW - 2 * 3600.0  # on a bucket boundary
NAME = Difference("body.name", "body.name", Kind.VALUE)
RULE = GateRule(min_samples=50, max_mismatch_rate=0.01, window=DAY, quiet_for=0)


def mismatch(at: float, route: str = ROUTE) -> Result:
    sample = Sample(RequestInfo("GET", "/users", "", f"r{at}"), "{}", "{}")
    return Result(route, at, Outcome.MISMATCHED, differences=(NAME,), sample=sample)


def matched(at: float, route: str = ROUTE) -> Result:
    return Result(route, at, Outcome.MATCHED)


def before_and_after() -> list[Result]:
    """A route blocked by mismatches before its handler was fixed, clean since."""
    old = [mismatch(RESET - 3600.0 + i) for i in range(30)]
    new = [matched(RESET + 60.0 + i) for i in range(60)]
    return [*old, *new, mismatch(RESET - 60.0, route="other.route")]


def test_a_reset_is_recorded_and_the_rows_before_it_stay(store: Store) -> None:
    store.write(fold(before_and_after(), store.bucket_seconds))
    assert store.reset(ROUTE, RESET) == Epoch(ROUTE, RESET)
    store.reset(ROUTE, RESET)  # the same reset twice is one
    rows = store.read_rows()
    assert rows.epochs == (Epoch(ROUTE, RESET),) == store.epochs(ROUTE)
    assert sum(c.counts["mismatched"] for c in rows.counts if c.route == ROUTE) == 30
    assert store.read_rows(route="other.route").epochs == ()


def test_the_report_counts_a_route_from_its_latest_reset(store: Store) -> None:
    store.write(fold(before_and_after(), store.bucket_seconds))
    store.reset(ROUTE, RESET - DAY)
    store.reset(ROUTE, RESET)
    report = build_report(store.read_rows())
    users = next(r for r in report.routes if r.route == ROUTE)
    other = next(r for r in report.routes if r.route == "other.route")
    assert (users.matched, users.mismatched, users.fields, users.epoch) == (60, 0, (), RESET)
    assert (other.mismatched, other.epoch) == (1, None)  # another route's reset is not its own
    assert "Evidence counted since its reset at" in render_markdown(report)
    history = build_report(store.read_rows(), epochs={})  # the whole history, when asked
    assert next(r for r in history.routes if r.route == ROUTE).mismatched == 30


def test_the_gate_counts_from_the_reset_and_says_so(store: Store) -> None:
    store.write(fold(before_and_after(), store.bucket_seconds))
    assert not judge(store.read_rows(), ROUTE, RULE, NOW).ready
    store.reset(ROUTE, RESET)
    rows = store.read_rows()
    verdict = judge(rows, ROUTE, RULE, NOW)
    assert (verdict.ready, verdict.compared, verdict.epoch) == (True, 60, RESET)
    stricter = GateRule(min_samples=100, max_mismatch_rate=0.01, window=DAY, quiet_for=0)
    assert judge(rows, ROUTE, stricter, NOW).reasons == (
        "60 of 100 compared samples since the reset 2h ago",
    )


def test_a_reset_older_than_the_window_changes_nothing() -> None:
    rows = Rows(epochs=(Epoch(ROUTE, NOW - 3 * DAY),))
    verdict = judge(rows, ROUTE, RULE, NOW)
    assert verdict.epoch is None
    assert verdict.reasons == ("0 of 50 compared samples in the last 24h",)


def test_what_arrived_in_the_rest_of_the_reset_bucket_is_left_out_with_the_old() -> None:
    results = [mismatch(RESET + 10.0), matched(RESET + 30.0), matched(RESET + 70.0)]
    batch = fold(results, 60)
    store = open_store("sqlite://")
    store.write(batch)
    rows = in_epoch(store.read_rows(), {ROUTE: RESET + 20.0})
    store.close()
    assert [(c.bucket, c.counts["matched"]) for c in rows.counts] == [(RESET + 60.0, 1)]
    assert rows.fields == () and rows.samples == ()


@pytest.mark.parametrize(
    ("resets", "expected"),
    [
        ((), {}),
        ((Epoch("a", 5.0), Epoch("a", 9.0), Epoch("b", 1.0)), {"a": 9.0, "b": 1.0}),
        ((Epoch("a", 9.0), Epoch("a", 5.0)), {"a": 9.0}),
    ],
    ids=["none", "latest-per-route", "any-order"],
)
def test_the_latest_reset_of_each_route_starts_its_epoch(
    resets: tuple[Epoch, ...], expected: dict[str, float]
) -> None:
    assert epoch_starts(resets) == expected


def test_a_store_made_before_epochs_gains_their_table_when_opened(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path}/parity.db"
    old = open_store(url)
    old.write(fold([matched(RESET)], 60))
    epochs.drop(old.engine)  # as an older version left it
    old.close()
    reader = open_store(url, create=False)  # a reader creates nothing, and reads no resets
    assert reader.read_rows().epochs == ()
    assert not inspect(reader.engine).has_table("shadow_epochs")
    reader.close()
    store = open_store(url)
    assert inspect(store.engine).has_table("shadow_epochs")
    store.reset(ROUTE, RESET)
    assert store.epochs() == (Epoch(ROUTE, RESET),)
    assert [c.counts["matched"] for c in store.read_rows().counts] == [1]
    store.close()
