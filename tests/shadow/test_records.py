"""Folding results into store increments: pure, so checked without a database."""

from __future__ import annotations

from shadow.compare import Difference, Kind, Outcome
from shadow.records import (
    ERRORED_FIELD,
    RequestInfo,
    Result,
    Sample,
    Source,
    fold,
    latency_slot,
)

SAMPLE = Sample(RequestInfo("GET", "/u", "", "req-1"), "{}", "{}")


def test_a_field_differing_in_two_ways_counts_once_per_comparison() -> None:
    diffs = (
        Difference("body.data[0].x", "body.data[*].x", Kind.VALUE),
        Difference("body.data[1].x", "body.data[*].x", Kind.MISSING),
    )
    batch = fold([Result("r", 61.0, Outcome.MISMATCHED, differences=diffs)], 60)
    assert dict(batch.fields) == {("r", 60, "pc", "body.data[*].x", "value"): 1}


def test_outcomes_aa_and_tallies_land_in_their_columns() -> None:
    batch = fold(
        [
            Result("r", 1.0, Outcome.MATCHED),
            Result("r", 2.0, Outcome.MISMATCHED, Source.AA),
            Result("r", 3.0, Outcome.ERRORED, Source.AA),
            Result("r", 4.0, Outcome.SHED, repeat=7),
            Result("r", 5.0, Outcome.SKIPPED, unsampled=40),
            Result("r", 6.0, Outcome.MISMATCHED, diffed=False),
        ],
        60,
    )
    counts = {column: n for (_, _, column), n in batch.counts.items()}
    assert counts == {
        "matched": 1, "aa_compared": 2, "aa_differed": 1, "aa_errored": 1, "shed": 7,
        "unsampled": 40, "mismatched": 1, "undiffed": 1,
    }  # fmt: skip


def test_latency_goes_to_the_slot_of_its_upper_bound() -> None:
    assert [latency_slot(s) for s in (0.0005, 0.001, 0.0011, 0.02, 99.0)] == [0, 0, 1, 4, 13]
    batch = fold([Result("r", 1.0, Outcome.MATCHED, primary_duration=0.02)], 60)
    assert dict(batch.latency) == {("r", 0, "primary", 4): 1}
    assert batch.seconds["r", 0, "primary"] == 0.02


def test_errored_comparisons_keep_a_sample_under_their_own_name() -> None:
    errored = Result("r", 1.0, Outcome.ERRORED, sample=SAMPLE)
    assert [k[1] for k in fold([errored], 60).samples] == [ERRORED_FIELD]


def test_drops_are_counted_on_the_store_row() -> None:
    batch = fold([], 60, dropped=3, now=125.0)
    assert dict(batch.counts) == {("", 120, "dropped"): 3}
