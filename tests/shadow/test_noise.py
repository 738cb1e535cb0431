"""Noise: the thresholds that separate real differences from what A/A shows, and the `ignore:`
entries proposed from that evidence."""

from __future__ import annotations

import pytest
import yaml

from shadow.noise import (
    FieldRates,
    Thresholds,
    is_noise,
    is_real,
    propose_ignores,
    rates_from_rows,
    render_ignore_yaml,
)
from shadow.records import COUNTERS, CountRow, FieldRow, SampleRow, Source


@pytest.mark.parametrize(
    ("pc", "aa", "real"),
    [
        ((42, 100), (40, 100), False),  # noise explains 95 % of it
        ((1, 1000), (0, 0), True),  # no noise at all, 0.1 % ≥ 0.03 %
        ((2, 10_000), (0, 100), False),  # 0.02 % < the absolute threshold
        ((50, 100), (45, 100), False),  # (0.50 - 0.45) / 0.50 = 10 % < 20 %
        ((50, 100), (35, 100), True),  # 30 % ≥ 20 %
        ((30, 100), (40, 100), False),  # the candidate differs less than the primary does
    ],
    ids=[
        "timestamp",
        "rare-but-real",
        "below-absolute",
        "below-relative",
        "above-relative",
        "less",
    ],
)
def test_a_field_is_real_only_above_noise_and_both_thresholds(
    pc: tuple[int, int], aa: tuple[int, int], real: bool
) -> None:
    rates = FieldRates("body.x", pc[1], pc[0], aa[1], aa[0])
    assert is_real(rates) is real


def test_thresholds_are_configurable() -> None:
    rates = FieldRates("body.x", 100, 50, 100, 45)
    assert not is_real(rates)
    assert is_real(rates, Thresholds(relative=0.05, absolute=0.0003))
    assert not is_real(FieldRates("body.x", 100, 1, 0, 0), Thresholds(absolute=0.05))


def test_noise_needs_enough_aa_evidence() -> None:
    assert is_noise(FieldRates("body.t", 100, 40, 100, 40))
    assert not is_noise(FieldRates("body.t", 100, 0, 0, 0))
    assert not is_noise(FieldRates("body.t", 100, 40, 19, 19))  # under min_aa
    assert is_noise(FieldRates("body.t", 100, 40, 19, 19), Thresholds(min_aa=10))


def counts(route: str, **values: int) -> CountRow:
    return CountRow(route, 0, {c: values.get(c, 0) for c in COUNTERS}, 0.0, 0.0)


ROWS = (
    [counts("users.list", matched=60, mismatched=40, aa_compared=50), counts("other", matched=5)],
    [
        FieldRow("users.list", 0, Source.AA, "body.data[*].updated_at", "value", 20),
        FieldRow("users.list", 0, Source.PC, "body.data[*].updated_at", "value", 41),
        FieldRow("users.list", 0, Source.PC, "body.data[*].name", "value", 10),
    ],
)


def test_rates_fold_over_rows() -> None:
    rates = rates_from_rows(*ROWS)
    ts = rates["users.list"]["body.data[*].updated_at"]
    assert (ts.pc_compared, ts.pc_differed, ts.aa_compared, ts.aa_differed) == (100, 41, 50, 20)
    assert ts.noise_rate == 0.4 and ts.candidate_rate == 0.41


def test_proposals_carry_evidence_and_render_as_yaml_to_paste() -> None:
    sample = SampleRow(
        "users.list", "body.data[*].updated_at", 0, 1.0, Source.AA, "value",
        "body.data[2].updated_at", "GET", "/u", "", "r1", "{}", "{}", None,
    )  # fmt: skip
    proposals = propose_ignores(rates_from_rows(*ROWS), samples=[sample])
    assert [(p.route, p.field) for p in proposals] == [("users.list", "body.data[*].updated_at")]
    text = render_ignore_yaml(proposals, {"users.list": ["body.meta.url"]})
    assert "A/A 20/50 (40.0%), candidate 41/100 (41.0%), e.g. body.data[2].updated_at" in text
    parsed = yaml.safe_load(text)
    assert parsed == {
        "routes": [
            {
                "id": "users.list",
                "shadow": {"ignore": ["body.meta.url", "body.data[*].updated_at"]},
            }
        ]
    }


def test_too_little_aa_evidence_proposes_nothing() -> None:
    assert propose_ignores(rates_from_rows(*ROWS), Thresholds(min_aa=51)) == ()
    assert render_ignore_yaml(()).startswith("# no noise found")


def test_unusual_keys_are_quoted_in_yaml() -> None:
    rates = {"r": {'body["a b"]': FieldRates('body["a b"]', 10, 2, 30, 10)}}
    text = render_ignore_yaml(propose_ignores(rates, Thresholds(min_aa=10)))
    assert yaml.safe_load(text)["routes"][0]["shadow"]["ignore"] == ['body["a b"]']


def test_field_counts_are_scaled_up_for_mismatches_left_undiffed() -> None:
    rows = [counts("r", matched=60, mismatched=40, undiffed=30)]
    fields = [FieldRow("r", 0, Source.PC, "body.name", "value", 10)]
    rates = rates_from_rows(rows, fields)["r"]["body.name"]
    # 10 of the 10 diffed mismatches differ at body.name: all 40 mismatches are estimated to
    assert rates.scale == 4.0 and rates.candidate_rate == 0.4
