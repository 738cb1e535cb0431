"""Flip gates: each rule on stored data built for it, read back from a real parity store."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from pathlib import Path

import pytest

from shadow.compare import Difference, Kind, Outcome
from shadow.gate import GateRule, Status, format_duration, judge
from shadow.records import RequestInfo, Result, Rows, Sample, Source, fold
from shadow.store import Store, open_store

ROUTE = "users.list"
NOW = 10 * 86400.0  # a round epoch second, so buckets line up with minutes
HOUR = 3600.0
RULE = GateRule(min_samples=100, max_mismatch_rate=0.05, window=24 * HOUR, quiet_for=HOUR)


def diff(field: str) -> Difference:
    return Difference(field.replace("[*]", "[0]"), field, Kind.VALUE)


def compared(at: float, outcome: Outcome, *fields: str, source: Source = Source.PC) -> Result:
    sample = Sample(RequestInfo("GET", "/users", "", f"r{at}"), "{}", "{}") if fields else None
    differences = tuple(diff(f) for f in fields)
    return Result(ROUTE, at, outcome, source, 0.01, 0.02, differences, sample)


def many(n: int, at: float, outcome: Outcome, *fields: str) -> list[Result]:
    return [compared(at, outcome, *fields) for _ in range(n)]


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    opened = open_store(f"sqlite:///{tmp_path}/parity.db")
    yield opened
    opened.close()


def stored(store: Store, results: Iterable[Result]) -> Rows:
    store.write(fold(results, store.bucket_seconds))
    return store.read_rows()


def test_enough_clean_samples_are_ready(store: Store) -> None:
    rows = stored(store, many(120, NOW - 2 * HOUR, Outcome.MATCHED))
    verdict = judge(rows, ROUTE, RULE, NOW)
    assert verdict.status is Status.READY
    assert (verdict.compared, verdict.failed, verdict.mismatch_rate) == (120, 0, 0.0)
    assert verdict.summary == "ready"


def test_too_few_compared_samples_block(store: Store) -> None:
    results = many(99, NOW - 2 * HOUR, Outcome.MATCHED)
    # skipped and shed requests were never compared: they must not make up the number
    results.append(Result(ROUTE, NOW - HOUR, Outcome.SKIPPED, repeat=50))
    results.append(Result(ROUTE, NOW - HOUR, Outcome.SHED, repeat=50))
    verdict = judge(stored(store, results), ROUTE, RULE, NOW)
    assert verdict.status is Status.BLOCKED
    assert verdict.reasons == ("99 of 100 compared samples in the last 24h",)


def test_a_mismatch_rate_over_the_bar_blocks_and_errors_count_as_mismatches(
    store: Store,
) -> None:
    results = many(190, NOW - 3 * HOUR, Outcome.MATCHED)
    results += many(6, NOW - 3 * HOUR, Outcome.MISMATCHED, "body.name")
    results += many(4, NOW - 3 * HOUR, Outcome.ERRORED)
    verdict = judge(stored(store, results), ROUTE, RULE, NOW)
    # 10 of 200 is exactly the bar: allowed; one more failure is over it
    assert (verdict.failed, verdict.mismatch_rate, verdict.reasons) == (10, 0.05, ())
    more = stored(store, [compared(NOW - 3 * HOUR, Outcome.ERRORED)])
    blocked = judge(more, ROUTE, RULE, NOW)
    assert blocked.reasons == ("mismatch rate 5.47% (11 of 201) in the last 24h is above 5.00%",)


def test_ignored_comparisons_count_as_parity(store: Store) -> None:
    rows = stored(store, many(100, NOW - 2 * HOUR, Outcome.IGNORED))
    assert judge(rows, ROUTE, RULE, NOW).ready


def test_only_the_window_counts(store: Store) -> None:
    old_failures = many(500, NOW - 30 * HOUR, Outcome.MISMATCHED, "body.name")
    rows = stored(store, [*old_failures, *many(100, NOW - 2 * HOUR, Outcome.MATCHED)])
    assert judge(rows, ROUTE, RULE, NOW).ready
    wider = GateRule(100, 0.05, window=48 * HOUR, quiet_for=HOUR)
    verdict = judge(rows, ROUTE, wider, NOW)
    assert verdict.compared == 600
    assert verdict.reasons[0].startswith("mismatch rate 83.33% (500 of 600) in the last 48h")


def test_a_field_that_first_differs_within_quiet_for_blocks(store: Store) -> None:
    results = many(1000, NOW - 5 * HOUR, Outcome.MATCHED)
    results += many(2, NOW - 5 * HOUR, Outcome.MISMATCHED, "body.name")  # old: not new
    results += [compared(NOW - 20 * 60, Outcome.MISMATCHED, "body.data[*].email")]
    verdict = judge(stored(store, results), ROUTE, RULE, NOW)
    assert verdict.status is Status.BLOCKED
    assert [n.field for n in verdict.new_fields] == ["body.data[*].email"]
    assert verdict.reasons == (
        "1 new differing field in the last 1h: body.data[*].email (20m ago)",
    )
    # once quiet_for has passed, the same evidence is ready
    assert judge(store.read_rows(), ROUTE, RULE, NOW + HOUR).ready


def test_quiet_for_zero_turns_the_rule_off(store: Store) -> None:
    results = [*many(100, NOW - 2 * HOUR, Outcome.MATCHED)]
    results.append(compared(NOW - 60, Outcome.MISMATCHED, "body.email"))
    rows = stored(store, results)
    assert not judge(rows, ROUTE, RULE, NOW).ready
    assert judge(rows, ROUTE, GateRule(100, 0.05, 24 * HOUR, 0.0), NOW).ready


def test_a_field_seen_before_the_quiet_period_is_not_new(store: Store) -> None:
    results = many(200, NOW - 6 * HOUR, Outcome.MATCHED)
    results.append(compared(NOW - 6 * HOUR, Outcome.MISMATCHED, "body.name"))
    results.append(compared(NOW - 60, Outcome.MISMATCHED, "body.name"))
    verdict = judge(stored(store, results), ROUTE, RULE, NOW)
    assert verdict.new_fields == ()
    assert verdict.ready


def test_fields_learned_as_noise_are_never_new(store: Store) -> None:
    results = many(200, NOW - 2 * HOUR, Outcome.MATCHED)
    # the primary differs from itself at updated_at in half of 40 A/A pairs: noise
    for i in range(40):
        fields = ("body.updated_at",) if i % 2 else ()
        outcome = Outcome.MISMATCHED if fields else Outcome.MATCHED
        results.append(compared(NOW - 2 * HOUR, outcome, *fields, source=Source.AA))
    results += many(20, NOW - 10 * 60, Outcome.IGNORED, "body.updated_at")
    verdict = judge(stored(store, results), ROUTE, RULE, NOW)
    assert verdict.new_fields == ()
    assert verdict.ready


def test_every_failing_rule_gives_its_reason(store: Store) -> None:
    results = many(3, NOW - 60, Outcome.MISMATCHED, "body.a", "body.b", "body.c", "body.d")
    verdict = judge(stored(store, results), ROUTE, RULE, NOW)
    assert verdict.reasons == (
        "3 of 100 compared samples in the last 24h",
        "mismatch rate 100.00% (3 of 3) in the last 24h is above 5.00%",
        "4 new differing fields in the last 1h: body.a (1m ago), body.b (1m ago), "
        "body.c (1m ago) and 1 more",
    )


def test_other_routes_rows_are_left_out(store: Store) -> None:
    other = [Result("invoices.list", NOW - 60, Outcome.MISMATCHED) for _ in range(50)]
    rows = stored(store, [*many(100, NOW - HOUR * 2, Outcome.MATCHED), *other])
    assert judge(rows, ROUTE, RULE, NOW).ready
    assert judge(rows, "invoices.list", RULE, NOW).compared == 50


def test_a_route_never_compared_is_blocked_without_a_rate() -> None:
    verdict = judge(Rows(), ROUTE, RULE, NOW)
    assert (verdict.status, verdict.mismatch_rate) == (Status.BLOCKED, None)
    assert verdict.reasons == ("0 of 100 compared samples in the last 24h",)


def test_rules_copy_any_config_with_the_same_names() -> None:
    class Config:
        min_samples = 7
        max_mismatch_rate = 0.5
        window = 60.0
        quiet_for = 0.0
        unrelated = "x"

    assert GateRule.from_config(Config()) == GateRule(7, 0.5, 60.0, 0.0)


@pytest.mark.parametrize(
    ("seconds", "text"),
    [(86400, "24h"), (5400, "90m"), (3600, "1h"), (45, "45s"), (0.5, "0.5s"), (4000, "1.1h")],
    ids=str,
)
def test_durations_are_written_as_routing_yaml_writes_them(seconds: float, text: str) -> None:
    assert format_duration(seconds) == text
