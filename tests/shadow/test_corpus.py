"""A labelled corpus of response pairs, each run through the real pipeline (lift → normalise →
compare → classify) with the outcome and the differing field paths it must produce."""

from __future__ import annotations

import dataclasses
import json
from dataclasses import dataclass
from random import Random

import orjson
import pytest
from hypothesis import given
from hypothesis import strategies as st

from shadow import classify as classify_module
from shadow.classify import strict_equal
from shadow.compare import Kind, Outcome, Rules, compare
from shadow.fieldpath import parse_all
from shadow.noise import NoiseLedger
from shadow.observation import Observation
from shadow.records import Source
from tests.shadow.helpers import candidate, primary

scalars = (
    st.none()
    | st.booleans()
    | st.integers(-(2**53), 2**53)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=5)
)
json_values = st.recursive(
    scalars,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=4), inner),
    max_leaves=12,
)
HTML = (("content-type", "text/html; charset=UTF-8"),)
API = (("content-type", "application/vnd.api+json"),)


@dataclass(frozen=True)
class Case:
    primary: Observation
    candidate: Observation
    outcome: Outcome
    differences: tuple[tuple[str, Kind], ...] = ()
    ignore: tuple[str, ...] = ()


CORPUS = {
    "identical": Case(primary('{"a":1}'), candidate('{"a":1}'), Outcome.MATCHED),
    "keys_reordered": Case(
        primary('{"a":1,"b":{"x":1,"y":2}}'),
        candidate('{"b":{"y":2,"x":1},"a":1}'),
        Outcome.MATCHED,
    ),
    "list_reordered": Case(
        primary('{"data":[{"id":1},{"id":2},{"id":3}]}'),
        candidate('{"data":[{"id":3},{"id":1},{"id":2}]}'),
        Outcome.MISMATCHED,
        (("body.data", Kind.ORDER),),
    ),
    "int_vs_string": Case(
        primary('{"data":[{"id":7}]}'),
        candidate('{"data":[{"id":"7"}]}'),
        Outcome.MISMATCHED,
        (("body.data[0].id", Kind.TYPE),),
    ),
    "bool_vs_int": Case(
        primary('{"active":true}'),
        candidate('{"active":1}'),
        Outcome.MISMATCHED,
        (("body.active", Kind.TYPE),),
    ),
    "missing_and_extra": Case(
        primary('{"a":1,"b":2}'),
        candidate('{"a":1,"c":3}'),
        Outcome.MISMATCHED,
        (("body.b", Kind.MISSING), ("body.c", Kind.EXTRA)),
    ),
    "float_one_point_zero": Case(primary('{"n":1.0}'), candidate('{"n":1}'), Outcome.MATCHED),
    "float_exponent": Case(primary('{"n":1e2}'), candidate('{"n":100}'), Outcome.MATCHED),
    "float_different_value": Case(
        primary('{"n":1.5}'), candidate('{"n":1}'), Outcome.MISMATCHED, (("body.n", Kind.VALUE),)
    ),
    "unicode_escape": Case(
        primary('{"s":"caf\\u00e9"}'), candidate('{"s":"café"}'), Outcome.MATCHED
    ),
    "pretty_vs_compact": Case(
        primary('{\n  "a": [\n    1,\n    2\n  ],\n  "b": null\n}\n'),
        candidate('{"a":[1,2],"b":null}'),
        Outcome.MATCHED,
    ),
    "header_name_case": Case(
        primary("{}", (("Content-Type", "application/json"), ("Location", "/x"))),
        candidate("{}", (("content-type", "application/json"), ("LOCATION", "/x"))),
        Outcome.MATCHED,
    ),
    "vnd_api_json_parsed": Case(
        primary('{"data":{"id":"1"}}', API),
        candidate('{ "data" : { "id" : "1" } }', API),
        Outcome.MATCHED,
    ),
    "html_error_vs_json_error": Case(
        primary('{"error":"not found"}', status=404),
        candidate("<html><body>Not Found</body></html>", HTML, status=404),
        Outcome.MISMATCHED,
        (("body", Kind.TYPE), ("headers.content-type", Kind.VALUE)),
    ),
    "empty_vs_null": Case(
        primary('{"note":""}'),
        candidate('{"note":null}'),
        Outcome.MISMATCHED,
        (("body.note", Kind.TYPE),),
    ),
    "status_differs": Case(
        primary("{}", status=200),
        candidate("{}", status=201),
        Outcome.MISMATCHED,
        (("status", Kind.VALUE),),
    ),
    "list_shorter": Case(
        primary('{"a":[1,2,3]}'),
        candidate('{"a":[1,2]}'),
        Outcome.MISMATCHED,
        (("body.a", Kind.LENGTH),),
    ),
    "ignored_field_only": Case(
        primary('{"meta":{"url":"http://a/x"},"a":1}'),
        candidate('{"meta":{"url":"http://b/x"},"a":1}'),
        Outcome.IGNORED,
        ignore=("body.meta.url",),
    ),
    "ignored_beside_a_real_one": Case(
        primary('{"data":[{"t":1,"v":"a"}]}'),
        candidate('{"data":[{"t":2,"v":"b"}]}'),
        Outcome.MISMATCHED,
        (("body.data[0].v", Kind.VALUE),),
        ("body.data[*].t",),
    ),
    "invalid_json_candidate": Case(primary('{"a":1}'), candidate('{"a":'), Outcome.ERRORED),
    "candidate_failed": Case(
        primary('{"a":1}'),
        Observation.failed(candidate("").side, "timed out after 2s"),
        Outcome.ERRORED,
    ),
}


@pytest.mark.parametrize("case", CORPUS.values(), ids=CORPUS.keys())
def test_corpus_pair_has_its_outcome_and_field_paths(case: Case) -> None:
    rules = Rules(headers=("content-type", "location"), ignore=parse_all(case.ignore))
    result = compare(case.primary, case.candidate, rules)
    assert result.outcome is case.outcome
    assert sorted((d.path, d.kind) for d in result.differences) == sorted(case.differences)


TIMESTAMPED = '{{"data":[{{"id":1,"updated_at":"{t}","name":"{n}"}}]}}'


def test_volatile_timestamp_is_learned_as_noise_from_aa_and_a_real_difference_beside_it_stays() -> (
    None
):
    ledger = NoiseLedger()
    rules = Rules()
    for i in range(30):  # the primary, called twice, disagrees with itself on updated_at
        first = primary(TIMESTAMPED.format(t=f"10:00:{i:02}", n="Ann"))
        again = primary(TIMESTAMPED.format(t=f"10:01:{i:02}", n="Ann"))
        ledger.record("users.list", Source.AA, compare(first, again, rules))
    noise = ledger.noise_fields("users.list")
    assert noise == {"body.data[*].updated_at"}

    learned = Rules(noise=noise)
    only_time = compare(
        primary(TIMESTAMPED.format(t="11:00:00", n="Ann")),
        candidate(TIMESTAMPED.format(t="11:00:01", n="Ann")),
        learned,
    )
    assert only_time.outcome is Outcome.IGNORED
    assert [d.field for d in only_time.noise] == ["body.data[*].updated_at"]

    both = compare(
        primary(TIMESTAMPED.format(t="11:00:00", n="Ann")),
        candidate(TIMESTAMPED.format(t="11:00:01", n="Bob")),
        learned,
    )
    assert both.outcome is Outcome.MISMATCHED
    assert [(d.path, d.kind) for d in both.differences] == [("body.data[0].name", Kind.VALUE)]


def test_without_aa_evidence_the_timestamp_is_a_real_difference() -> None:
    result = compare(
        primary(TIMESTAMPED.format(t="11:00:00", n="Ann")),
        candidate(TIMESTAMPED.format(t="11:00:01", n="Ann")),
        Rules(noise=NoiseLedger().noise_fields("users.list")),
    )
    assert result.outcome is Outcome.MISMATCHED
    assert [d.field for d in result.differences] == ["body.data[*].updated_at"]


def test_same_bytes_match_without_parsing() -> None:
    result = compare(primary('{"a":1}'), candidate('{"a":1}'), Rules())
    assert result.outcome is Outcome.MATCHED
    assert result.primary is None  # the fast path never lifted the bodies


def test_binary_bodies_compare_by_hash() -> None:
    png = (("content-type", "image/png"),)
    same = compare(primary(b"\x89PNG\x00\xff", png), candidate(b"\x89PNG\x00\xff", png), Rules())
    other = compare(primary(b"\x89PNG\x00\xff", png), candidate(b"\x89PNG\x00\xfe", png), Rules())
    assert same.outcome is Outcome.MATCHED
    assert [(d.path, d.kind) for d in other.differences] == [("body", Kind.VALUE)]
    assert other.primary is not None and str(other.primary.body).startswith("sha256:")


@pytest.mark.parametrize(
    "name", ["keys_reordered", "float_one_point_zero", "float_exponent", "unicode_escape",
             "pretty_vs_compact", "ignored_field_only"],
)  # fmt: skip
def test_equal_pairs_never_reach_the_tree_diff(name: str, monkeypatch: pytest.MonkeyPatch) -> None:
    def forbidden(*args: object, **kwargs: object) -> object:
        raise AssertionError("deepdiff ran for a pair that `==` settles")

    monkeypatch.setattr(classify_module, "DeepDiff", forbidden)
    case = CORPUS[name]
    result = compare(case.primary, case.candidate, Rules(ignore=parse_all(case.ignore)))
    assert result.outcome is case.outcome


@given(json_values, st.randoms(use_true_random=False))
def test_a_body_reserialised_with_shuffled_keys_matches_itself(value: object, rnd: Random) -> None:
    def shuffled(v: object) -> object:
        if isinstance(v, dict):
            items = list(v.items())
            rnd.shuffle(items)
            return {k: shuffled(x) for k, x in items}
        if isinstance(v, list):
            return [shuffled(x) for x in v]
        return v

    body = {"v": value}
    pretty = json.dumps(shuffled(body), indent=2, ensure_ascii=True)
    result = compare(primary(orjson.dumps(body)), candidate(pretty), Rules())
    assert result.outcome is Outcome.MATCHED


@given(json_values, json_values)
def test_outcome_agrees_with_json_equality(x: object, y: object) -> None:
    result = compare(primary(orjson.dumps({"v": x})), candidate(orjson.dumps({"v": y})), Rules())
    assert (result.outcome is Outcome.MATCHED) == strict_equal(x, y)
    assert (result.outcome is Outcome.MISMATCHED) == (not strict_equal(x, y))
    if result.outcome is Outcome.MISMATCHED:
        assert result.differences


def test_a_removed_list_item_is_one_length_difference_not_a_shift() -> None:
    result = compare(
        primary('{"data":[{"id":1},{"id":2},{"id":3}]}'),
        candidate('{"data":[{"id":1},{"id":3}]}'),
        Rules(),
    )
    assert [(d.path, d.kind) for d in result.differences] == [("body.data", Kind.LENGTH)]


def test_a_latin1_html_page_is_compared_as_text() -> None:
    html = (("content-type", "text/html; charset=ISO-8859-1"),)
    result = compare(primary("<p>caf\xe9</p>".encode("latin-1"), html),
                     candidate("<p>cafe</p>".encode("latin-1"), html), Rules())  # fmt: skip
    assert [(d.path, d.kind) for d in result.differences] == [("body", Kind.VALUE)]
    assert result.primary is not None and result.primary.body == "<p>café</p>"


def test_one_difference_deep_in_a_large_body_is_found() -> None:
    # a JSON:API page of 500 resources (~45 KB): the tree walk must reach the last one
    items = [
        {"id": str(i), "type": "users", "attributes": {"id": i, "email": f"u{i}@example.test"}}
        for i in range(500)
    ]
    changed = json.loads(json.dumps(items))
    changed[-1]["attributes"]["email"] = "other@example.test"
    a, b = json.dumps({"data": items}), json.dumps({"data": changed})
    assert len(a) > 32_000
    result = compare(primary(a), candidate(b), Rules())
    assert result.outcome is Outcome.MISMATCHED
    assert [(d.path, d.kind) for d in result.differences] == [
        ("body.data[499].attributes.email", Kind.VALUE)
    ]


COOKIE_HEADERS = ("content-type", "set-cookie")
SESSION_NOISE = Rules(
    headers=COOKIE_HEADERS,
    noise=frozenset({"headers.set-cookie"}),
    noise_kinds=frozenset({("headers.set-cookie", "value")}),
)


def with_cookie(cookie: str | None, *, of_candidate: bool = False) -> Observation:
    headers = (("content-type", "application/json"),)
    if cookie is not None:
        headers += (("set-cookie", f"sid={cookie}"),)
    return (candidate if of_candidate else primary)('{"ok":true}', headers)


@pytest.mark.parametrize("tree_diff", [True, False], ids=["diffed", "over-the-diff-budget"])
@pytest.mark.parametrize(
    ("other", "outcome"),
    [("b2", Outcome.IGNORED), (None, Outcome.MISMATCHED)],
    ids=["another-session-id", "no-cookie-at-all"],
)
def test_a_cookie_learned_to_vary_excuses_another_value_but_never_its_absence(
    tree_diff: bool, other: str | None, outcome: Outcome
) -> None:
    rules = dataclasses.replace(SESSION_NOISE, tree_diff=tree_diff)
    result = compare(with_cookie("a1"), with_cookie(other, of_candidate=True), rules)
    assert result.outcome is outcome


@pytest.mark.parametrize(
    ("kinds", "candidate_at", "outcome"),
    [
        ({"value"}, '"10:00:05"', Outcome.IGNORED),
        ({"value"}, "null", Outcome.MISMATCHED),
        ({"value", "type"}, "null", Outcome.IGNORED),
        ({"value"}, None, Outcome.MISMATCHED),
        ({"value", "missing"}, None, Outcome.IGNORED),
    ],
    ids=["value", "type-never-seen", "type-seen", "missing-never-seen", "missing-seen"],
)
def test_without_a_tree_diff_noise_excuses_only_the_kinds_aa_showed(
    kinds: set[str], candidate_at: str | None, outcome: Outcome
) -> None:
    field = "body.data[*].updated_at"
    rules = Rules(
        noise=frozenset({field}),
        noise_kinds=frozenset((field, k) for k in kinds),
        tree_diff=False,
    )
    item = '"id":1' + ("" if candidate_at is None else f',"updated_at":{candidate_at}')
    result = compare(primary('{"data":[{"id":1,"updated_at":"10:00:00"}]}'),
                     candidate(f'{{"data":[{{{item}}}]}}'), rules)  # fmt: skip
    assert (result.outcome, result.diffed) == (outcome, False)
