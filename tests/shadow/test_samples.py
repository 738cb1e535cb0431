"""Differing values side by side: the newest pair of each field (as the dashboard picks it), the
value each side had at the place it differed, cut around the difference, rendered for the
terminal and for markdown."""

from __future__ import annotations

import dataclasses
import json

import pytest
from rich.console import Console

from shadow.compare import Difference, Kind, Outcome
from shadow.records import ERRORED_FIELD, RequestInfo, Result, Sample, SampleRow, Source, fold
from shadow.report import RouteReport, build_report
from shadow.samples import (
    ABSENT,
    excerpt,
    newest_per_field,
    pick_samples,
    render_samples_markdown,
    render_samples_table,
    samples_json,
    value_at,
)
from shadow.store import open_store
from tests.test_architecture import test_pure_module_does_no_io as check_pure

ROUTE = "users.list"


def row(field: str, at: float, source: Source = Source.PC, rid: str = "r") -> SampleRow:
    return SampleRow(
        ROUTE, field, 0, at, source, "value", field, "GET", "/u", "", rid, "{}", "{}", None
    )


def test_samples_is_a_pure_module() -> None:
    check_pure("shadow/samples.py")


def test_each_field_gets_its_newest_candidate_pair_and_an_aa_pair_only_without_one() -> None:
    samples = [
        row("body.a", 10.0, rid="old"),
        row("body.a", 20.0, rid="new"),
        row("body.a", 30.0, Source.AA, rid="aa-newer"),
        row("body.t", 5.0, Source.AA, rid="aa-only"),
    ]
    chosen = newest_per_field(samples, ["body.t", "body.a", "body.gone"])
    assert [(s.field, s.request_id) for s in chosen] == [("body.t", "aa-only"), ("body.a", "new")]


TREE = {
    "status": 200,
    "headers": {"content-type": "application/json", "set-cookie": "sid=[redacted]"},
    "body": {"data": [{"id": 1, "name": "Ann"}, {"id": 2, "name": "Bo"}], "a.b": True},
}


@pytest.mark.parametrize(
    ("side", "path", "value"),
    [
        (TREE, "body.data[1].name", '"Bo"'),
        (TREE, "body.data[1]", '{"id":2,"name":"Bo"}'),
        (TREE, 'body["a.b"]', "true"),
        (TREE, "headers.set-cookie", '"sid=[redacted]"'),
        (TREE, "status", "200"),
        (TREE, "body.data[5].name", ABSENT),
        (TREE, "body.missing", ABSENT),
        (TREE, "", "status 200"),
        ({"error": "timed out after 2s"}, "body.x", "error: timed out after 2s"),
    ],
    ids=[
        "list-item-key", "list-item", "quoted-key", "header", "status", "index-past-the-end",
        "missing-key", "errored-comparison", "failed-side",
    ],
)  # fmt: skip
def test_the_value_at_a_concrete_path(side: object, path: str, value: str) -> None:
    assert value_at(json.dumps(side), path) == value


def test_a_side_cut_when_stored_is_shown_as_it_is() -> None:
    assert value_at('{"body": "abc', "body") == '{"body": "abc'


def test_long_values_are_cut_around_their_first_difference() -> None:
    page = "<html>" + "x" * 500 + '<input name="csrf" value="{}">' + "y" * 500 + "</html>"
    left, right = excerpt(page.format("aaaa"), page.format("bbbb"), width=40)
    assert left.startswith("…") and left.endswith("…") and right.startswith("…")
    assert 'value="aaaa' in left and 'value="bbbb' in right
    assert len(left) == len(right) == 42  # 40 and the two marks


@pytest.mark.parametrize(
    ("a", "b"),
    [("short", "other"), ("x" * 10, "x" * 10)],
    ids=["short", "equal-and-short"],
)
def test_short_values_are_not_cut(a: str, b: str) -> None:
    assert excerpt(a, b, width=20) == (a, b)


def test_a_difference_near_the_end_keeps_the_end_in_view() -> None:
    left, right = excerpt("a" * 100 + "1", "a" * 100 + "2", width=20)
    assert left.endswith("1") and right.endswith("2") and left.startswith("…")


def stored_report() -> tuple[RouteReport, tuple[SampleRow, ...]]:
    name = Difference("body.data[1].name", "body.data[*].name", Kind.VALUE)
    cookie = Difference("headers.set-cookie", "headers.set-cookie", Kind.MISSING)

    def sample(rid: str, candidate: dict[str, object]) -> Sample:
        return Sample(RequestInfo("GET", "/api/users", "page=1", rid), json.dumps(TREE),
                      json.dumps(candidate))  # fmt: skip

    lacking = {**TREE, "headers": {"content-type": "application/json"}}
    renamed = {**TREE, "body": {"data": [{"id": 1, "name": "Ann"}, {"id": 2, "name": "Bob"}]}}
    results = [
        Result(ROUTE, 60.0, Outcome.MISMATCHED, differences=(name,), sample=sample("r1", renamed)),
        Result(ROUTE, 61.0, Outcome.MISMATCHED, differences=(name, cookie),
               sample=sample("r2", {**renamed, "headers": lacking["headers"]})),
        Result(ROUTE, 62.0, Outcome.ERRORED, sample=Sample(
            RequestInfo("GET", "/api/users", "", "r3"), json.dumps(TREE),
            json.dumps({"error": "timed out after 2s"}), "candidate: timed out after 2s")),
    ]  # fmt: skip
    store = open_store("sqlite://")
    store.write(fold(results, 60))
    rows = store.read_rows()
    store.close()
    [report] = build_report(rows).routes
    return report, rows.samples


def test_each_differing_field_of_a_route_shows_its_newest_values_in_report_order() -> None:
    report, samples = stored_report()
    pairs = pick_samples(report, samples)
    assert [(p.field, p.request_id, p.primary, p.candidate) for p in pairs] == [
        ("body.data[*].name", "r2", '"Bo"', '"Bob"'),
        ("headers.set-cookie", "r2", '"sid=[redacted]"', ABSENT),
        (ERRORED_FIELD, "r3", "status 200", "error: timed out after 2s"),
    ]
    assert len(pick_samples(report, samples, limit=1)) == 1


def test_markdown_puts_legacy_and_native_side_by_side_and_never_renders_a_sample() -> None:
    report, samples = stored_report()
    text = render_samples_markdown(pick_samples(report, samples))
    lines = text.splitlines()
    assert lines[0] == "| field | request | legacy | native |"
    assert (
        '| `body.data[1].name (value)` | GET /api/users?page=1 (request r2) | `"Bo"` | `"Bob"` |'
    ) in lines
    weird = dataclasses.replace(pick_samples(report, samples)[0], primary="<b>`a|b`</b>")
    assert "| ``<b>`a\\|b`</b>`` |" in render_samples_markdown([weird])


def test_the_terminal_table_shows_both_values_and_names_the_sides() -> None:
    report, samples = stored_report()
    console = Console(record=True, width=200)
    pairs = pick_samples(report, samples)
    console.print(render_samples_table(pairs, primary="native", candidate="legacy"))
    text = console.export_text()
    assert "native" in text and "legacy" in text
    assert '"Bob"' in text and ABSENT in text and "timed out after 2s" in text


def test_no_sample_from_before_the_routes_reset_is_shown() -> None:
    report, samples = stored_report()
    after = dataclasses.replace(report, epoch=61.5)  # reset after r2, before r3
    assert [p.request_id for p in pick_samples(after, samples)] == ["r3"]


def test_the_errored_slot_is_shown_only_when_a_comparison_errored() -> None:
    report, samples = stored_report()
    clean = dataclasses.replace(report, errored=0)
    assert ERRORED_FIELD not in [p.field for p in pick_samples(clean, samples)]


def test_samples_as_json_are_plain() -> None:
    report, samples = stored_report()
    data = samples_json(pick_samples(report, samples, limit=1))
    assert json.loads(json.dumps(data)) == data
    assert (data[0]["field"], data[0]["primary"], data[0]["candidate"]) == (
        "body.data[*].name", '"Bo"', '"Bob"',
    )  # fmt: skip
