"""Guard verdicts: hold on little evidence, trip over a limit, say why in words."""

from __future__ import annotations

import pytest

from proxy.modes.guard import BOUNDS, SideEvidence, judge, slot_of
from proxy.table.model import GuardConfig


def evidence(n: int, errors: int = 0, seconds: float = 0.01, slow: int = 0) -> SideEvidence:
    e = SideEvidence()
    for i in range(n):
        e.add(2.0 if i < slow else seconds, i < errors)
    return e


RATE = GuardConfig(max_error_rate=0.02, min_requests=100, window=300)
NOTHING = SideEvidence()


def test_no_verdict_on_fewer_than_min_requests_however_bad() -> None:
    v = judge(RATE, evidence(99, errors=99), NOTHING, "5m")
    assert not v.tripped
    assert v.reason == "holding: 99 of 100 requests over 5m"


def test_an_error_rate_over_the_limit_trips_with_the_reason_in_words() -> None:
    v = judge(RATE, evidence(412, errors=29), NOTHING, "5m")
    assert v.tripped
    assert v.reason == "error rate 7 % > 2 % over 5m, 412 requests"


@pytest.mark.parametrize(("errors", "tripped"), [(2, False), (3, True)], ids=["at", "over"])
def test_the_error_limit_is_strict(errors: int, tripped: bool) -> None:
    assert judge(RATE, evidence(100, errors), NOTHING, "5m").tripped is tripped


def test_half_failing_trips_at_exactly_min_requests() -> None:
    assert judge(RATE, evidence(100, errors=50), NOTHING, "5m").tripped


P99 = GuardConfig(max_p99=0.8, min_requests=100)


@pytest.mark.parametrize(
    ("slow", "tripped"), [(1, False), (2, True)], ids=["1-percent", "2-percent"]
)
def test_p99_trips_when_more_than_one_percent_are_slower_than_the_limit(
    slow: int, tripped: bool
) -> None:
    v = judge(P99, evidence(100, slow=slow), NOTHING, "5m")
    assert v.tripped is tripped
    if tripped:
        assert v.reason == "p99 1.5 s to 2 s > 800 ms over 5m, 100 requests"


def test_a_p99_that_might_be_under_the_limit_does_not_trip() -> None:
    # 0.75 s and 0.85 s share the slot (0.8, 1.0]; 0.7 s is below: a limit of 0.9 s is unsure
    guard = GuardConfig(max_p99=0.9, min_requests=10)
    assert not judge(guard, evidence(10, seconds=0.85), NOTHING, "1m").tripped
    assert judge(guard, evidence(10, seconds=1.1), NOTHING, "1m").tripped


RELATIVE = GuardConfig(max_error_rate=0.02, max_p99=0.1, min_requests=100, relative_to_legacy=True)


def test_relative_to_legacy_adds_legacys_own_rate_to_the_limit() -> None:
    legacy = evidence(200, errors=20)  # 10 %
    assert not judge(RELATIVE, evidence(100, errors=11), legacy, "5m").tripped
    v = judge(RELATIVE, evidence(100, errors=13), legacy, "5m")
    assert v.reason == "error rate 13 % > legacy's 10 % + 2 % over 5m, 100 requests"


def test_relative_to_legacy_adds_legacys_p99_to_the_limit() -> None:
    legacy = evidence(200, seconds=0.5)
    assert not judge(RELATIVE, evidence(100, seconds=0.55), legacy, "5m").tripped
    v = judge(RELATIVE, evidence(100, seconds=0.9), legacy, "5m")
    assert v.tripped and v.reason.startswith("p99 800 ms to 1 s > legacy's 500 ms + 100 ms")


def test_relative_without_enough_legacy_evidence_judges_by_the_limits_alone() -> None:
    v = judge(RELATIVE, evidence(100, errors=3), evidence(5, errors=5), "5m")
    assert v.reason == "error rate 3 % > 2 % over 5m, 100 requests"


def test_evidence_of_several_processes_merges() -> None:
    merged = evidence(60, errors=1).merge(evidence(40, errors=2))
    assert (merged.n, merged.errors) == (100, 3)


def test_histogram_bounds_cover_a_millisecond_to_a_minute() -> None:
    assert BOUNDS[0] == 0.001 and BOUNDS[-1] == 60.0 and 0.8 in BOUNDS
    assert slot_of(0.8) == BOUNDS.index(0.8) and slot_of(120) == len(BOUNDS)
    assert evidence(10, seconds=120).p99() == (60.0, float("inf"))
