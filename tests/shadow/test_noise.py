"""Noise: the thresholds that separate real differences from what A/A shows, and the `ignore:`
entries proposed from that evidence."""

from __future__ import annotations

import json

import pytest
import yaml

from shadow.compare import Comparison, Difference, Kind, Outcome
from shadow.noise import (
    FieldRates,
    NoiseLedger,
    Thresholds,
    is_noise,
    is_real,
    propose_from_rows,
    propose_ignores,
    rates_from_rows,
    render_ignore_yaml,
    withheld_from_rows,
)
from shadow.records import COUNTERS, CountRow, FieldRow, Rows, SampleRow, Source


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


def html_side(token: str) -> str:
    page = f'<!DOCTYPE html><form><input type="hidden" name="_token" value="{token}"></form>'
    return json.dumps({"status": 200, "headers": {"content-type": "text/html"}, "body": page})


def evidence_rows(route: str, aa: list[tuple[str, str, int]], pc: list[tuple[str, str, int]],
                  samples: tuple[SampleRow, ...] = ()) -> Rows:  # fmt: skip
    """100 candidate comparisons (all mismatched) and 50 A/A ones, and where they differed."""
    return Rows(
        counts=(counts(route, mismatched=100, aa_compared=50, aa_differed=50),),
        fields=(
            *(FieldRow(route, 0, Source.AA, f, kind, n) for f, kind, n in aa),
            *(FieldRow(route, 0, Source.PC, f, kind, n) for f, kind, n in pc),
        ),
        samples=samples,
    )


def test_an_html_body_that_varies_is_never_proposed_and_needs_an_html_aware_comparison() -> None:
    # every A/A pair of the login page differs by its CSRF token: text bodies compare whole
    sample = SampleRow(
        "login.page", "body", 0, 1.0, Source.AA, "value", "body", "GET", "/login", "", "r1",
        html_side("a1"), html_side("b2"), None,
    )  # fmt: skip
    rows = evidence_rows("login.page", [("body", "value", 50)], [("body", "value", 100)],
                         (sample,))  # fmt: skip
    assert propose_from_rows(rows) == ()
    [withheld] = withheld_from_rows(rows)
    assert (withheld.route, withheld.field) == ("login.page", "body")
    assert "HTML-aware comparison" in withheld.reason
    text = render_ignore_yaml(propose_from_rows(rows), withheld=withheld_from_rows(rows))
    assert "- body" not in text and "HTML-aware comparison" in text
    assert yaml.safe_load(text) is None  # nothing to paste: comments only


def test_a_json_body_that_varies_as_a_whole_is_never_proposed_either() -> None:
    rows = evidence_rows("feed", [("body", "type", 50)], [("body", "type", 100)])
    assert propose_from_rows(rows) == ()
    [withheld] = withheld_from_rows(rows)
    assert "HTML" not in withheld.reason and "field by field" in withheld.reason


@pytest.mark.parametrize(
    ("candidate_kinds", "proposed"),
    [
        (("value",), True),
        (("missing",), False),
        (("value", "missing"), False),
        (("extra",), False),
    ],
    ids=["varies-like-aa", "candidate-sends-none", "varies-and-sometimes-none", "aa-never-extra"],
)
def test_a_cookie_whose_value_varies_does_not_excuse_a_candidate_without_one(
    candidate_kinds: tuple[str, ...], proposed: bool
) -> None:
    # as often as A/A (60 %): by its rates alone the cookie is noise
    pc = [("headers.set-cookie", kind, 60 // len(candidate_kinds)) for kind in candidate_kinds]
    rows = evidence_rows("users.list", [("headers.set-cookie", "value", 30)], pc)
    fields = [p.field for p in propose_from_rows(rows)]
    assert fields == (["headers.set-cookie"] if proposed else [])
    withheld = withheld_from_rows(rows)
    assert bool(withheld) is not proposed
    if withheld:
        assert "A/A showed value differences there" in withheld[0].reason
        assert "does not excuse" in render_ignore_yaml((), withheld=withheld)


def test_the_report_does_not_call_a_missing_cookie_noise() -> None:
    rows = evidence_rows(
        "users.list", [("headers.set-cookie", "value", 30)], [("headers.set-cookie", "missing", 60)]
    )
    rates = rates_from_rows(rows.counts, rows.fields)["users.list"]["headers.set-cookie"]
    assert rates.unexcused_kinds == {"missing"}
    assert not is_noise(rates)


def ledger_with(route: str, aa: list[Difference], pc: list[Difference], n: int = 30) -> NoiseLedger:
    ledger = NoiseLedger()
    for _ in range(n):
        ledger.record(route, Source.AA, Comparison(Outcome.MISMATCHED, tuple(aa)))
        ledger.record(route, Source.PC, Comparison(Outcome.MISMATCHED, tuple(pc)))
    return ledger


COOKIE_VALUE = Difference("headers.set-cookie", "headers.set-cookie", Kind.VALUE)
COOKIE_MISSING = Difference("headers.set-cookie", "headers.set-cookie", Kind.MISSING)
BODY_TEXT = Difference("body", "body", Kind.VALUE)


@pytest.mark.parametrize(
    ("aa", "pc", "noise"),
    [
        ([COOKIE_VALUE], [COOKIE_VALUE], {"headers.set-cookie"}),
        ([COOKIE_VALUE], [COOKIE_MISSING], set()),
        ([BODY_TEXT], [BODY_TEXT], set()),
    ],
    ids=["cookie-varies", "cookie-missing", "whole-body"],
)
def test_comparisons_learn_noise_by_the_same_rules(
    aa: list[Difference], pc: list[Difference], noise: set[str]
) -> None:
    ledger = ledger_with("r", aa, pc)
    assert ledger.noise_fields("r", Thresholds(min_aa=20)) == noise
