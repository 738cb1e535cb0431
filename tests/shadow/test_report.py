"""Reports: rows folded per route (counts, parity, top fields with an example, noise fields,
latency percentiles, trend), filtered by time and route, rendered three ways."""

from __future__ import annotations

from pathlib import Path

import orjson
import pytest
from rich.console import Console

from shadow.compare import Difference, Kind, Outcome
from shadow.noise import Thresholds
from shadow.records import RequestInfo, Result, Rows, Sample, Source, fold, percentile
from shadow.report import (
    Report,
    build_report,
    render_markdown,
    render_table,
    to_json,
)
from shadow.store import Store, open_store

NAME = Difference("body.data[0].name", "body.data[*].name", Kind.VALUE)
STAMP = Difference("body.data[0].updated_at", "body.data[*].updated_at", Kind.VALUE)


def traffic() -> list[Result]:
    def sample(i: int) -> Sample:
        return Sample(RequestInfo("GET", "/api/users", "page=1", f"req-{i}"), "{}", "{}")

    results = []
    for i in range(100):  # minute 0: 100 compared, every one with a noisy timestamp
        at = 60.0 + i * 0.1
        diffs = (STAMP, NAME) if i % 10 == 0 else (STAMP,)
        outcome = Outcome.MISMATCHED if i % 10 == 0 else Outcome.IGNORED
        results.append(Result("users.list", at, outcome, Source.PC, 0.004, 0.03, diffs, sample(i)))
        results.append(
            Result("users.list", at, Outcome.MISMATCHED, Source.AA, None, None, (STAMP,))
        )
    results += [
        Result(
            "users.list",
            130.0,
            Outcome.ERRORED,
            Source.PC,
            0.004,
            None,
            (),
            Sample(
                RequestInfo("GET", "/api/users", "", "req-e"),
                "{}",
                "{}",
                "candidate: timed out after 2s",
            ),
        ),
        Result("users.list", 130.0, Outcome.SHED),
        Result("users.list", 130.0, Outcome.SKIPPED),
        Result("users.list", 130.0, Outcome.SKIPPED, unsampled=1),
        Result("orders.list", 200.0, Outcome.MATCHED, Source.PC, 0.2, 0.3),
    ]
    return results


@pytest.fixture
def rows(tmp_path: Path) -> Rows:
    store: Store = open_store(f"sqlite:///{tmp_path}/parity.db")
    store.write(fold(traffic(), 60, dropped=2, now=200.0))
    read = store.read_rows()
    store.close()
    return read


def test_a_route_is_folded_into_its_counts_fields_noise_and_latency(rows: Rows) -> None:
    report = build_report(rows)
    users = next(r for r in report.routes if r.route == "users.list")
    assert (users.requests, users.compared) == (104, 101)
    assert (users.matched, users.ignored, users.mismatched, users.errored) == (0, 90, 10, 1)
    assert (users.skipped, users.shed, users.unsampled) == (1, 1, 1)
    assert users.parity == pytest.approx(90 / 101)
    assert [(f.field, f.count, f.kinds) for f in users.fields] == [
        ("body.data[*].name", 10, ("value",))
    ]
    assert users.fields[0].example is not None
    assert users.fields[0].example.path == "body.data[0].name"
    assert [n.field for n in users.noise] == ["body.data[*].updated_at"]
    assert (users.primary.p50, users.primary.p99) == (0.005, 0.005)
    assert (users.candidate.p50, users.candidate.p99) == (0.05, 0.05)
    assert [(t.bucket, t.compared) for t in users.trend] == [(60, 100), (120, 1)]
    assert users.error == "candidate: timed out after 2s"
    assert report.dropped == 2
    assert build_report(rows, route="users.list").dropped == 2  # drops belong to the store


def test_since_and_route_filter_the_report(rows: Rows) -> None:
    late = build_report(rows, since=125.0)
    assert [(r.route, r.compared) for r in late.routes] == [("orders.list", 1), ("users.list", 1)]
    only = build_report(rows, route="orders.list")
    assert [r.route for r in only.routes] == ["orders.list"]


def test_percentiles_read_the_histogram_slots() -> None:
    assert percentile([0] * 14, 0.5) is None
    assert percentile([90, 0, 0, 10] + [0] * 10, 0.5) == 0.001
    assert percentile([90, 0, 0, 10] + [0] * 10, 0.99) == 0.01
    assert percentile([0] * 13 + [1], 0.5) == float("inf")


def test_json_is_plain_and_carries_what_the_dashboard_needs(rows: Rows) -> None:
    data = to_json(build_report(rows))
    orjson.dumps(data)  # raises on anything that is not plain JSON
    users = data["routes"][1] if data["routes"][0]["route"] != "users.list" else data["routes"][0]
    assert users["fields"][0]["field"] == "body.data[*].name"
    assert users["noise"][0]["noise_rate"] == 1.0
    assert users["trend"][0] == {
        "bucket": 60, "compared": 100, "matched": 0, "ignored": 90, "mismatched": 10, "errored": 0,
    }  # fmt: skip


def test_markdown_lists_routes_and_fields(rows: Rows) -> None:
    text = render_markdown(build_report(rows))
    assert (
        "| users.list | 104 | 0 | 90 | 10 | 1 | 1 | 1 | 1 | 101 | 89.1% | ≤5ms / ≤5ms "
        "| ≤50ms / ≤50ms |"
    ) in text
    assert "| body.data[*].name | value | 10 | 10.0% | body.data[0].name (request req-" in text
    assert "| body.data[*].updated_at | value | 100 | 100.0% | noise (A/A 100.0%) |" in text
    assert "| (errored) |   | 1 |   | candidate: timed out after 2s |" in text


def test_a_field_below_the_thresholds_is_shown_and_marked(rows: Rows) -> None:
    strict = build_report(rows, thresholds=Thresholds(relative=0.2, absolute=0.5))
    users = next(r for r in strict.routes if r.route == "users.list")
    assert [(f.field, f.real) for f in users.fields] == [("body.data[*].name", False)]
    assert "below thresholds" in render_markdown(strict)


def test_terminal_table_renders_the_same_numbers(rows: Rows) -> None:
    console = Console(record=True, width=200)
    console.print(render_table(build_report(rows)))
    text = console.export_text()
    assert "users.list" in text and "89.1%" in text and "body.data[*].name" in text
    assert "2 results dropped" in text


def test_an_empty_store_renders_an_empty_report() -> None:
    report = build_report(Rows())
    assert report == Report(None, (), 0)
    assert render_markdown(report).startswith("# Shadow parity")


OUTCOMES = ("matched", "ignored", "mismatched", "errored", "skipped", "shed", "unsampled")


def summary_line(text: str, route: str) -> dict[str, str]:
    lines = [ln for ln in text.splitlines() if ln.startswith("| ")]
    headings = [c.strip() for c in lines[0].strip("|").split("|")]
    row = next(ln for ln in lines if ln.startswith(f"| {route} |"))
    return dict(zip(headings, (c.strip() for c in row.strip("|").split("|")), strict=True))


def test_every_outcome_has_a_column_and_the_columns_add_up_to_the_requests(rows: Rows) -> None:
    cells = summary_line(render_markdown(build_report(rows)), "users.list")
    assert int(cells["requests"]) == sum(int(cells[o]) for o in OUTCOMES) == 104
    compared = ("matched", "ignored", "mismatched", "errored")
    assert int(cells["compared"]) == sum(int(cells[o]) for o in compared)
    assert "requests = matched + ignored + mismatched + errored + skipped + shed + unsampled" in (
        render_markdown(build_report(rows))
    )


def budgeted() -> list[Result]:
    """40 mismatches at one field, of which the tree-diff budget let 38 be diffed."""
    name = Difference("body.name", "body.name", Kind.VALUE)
    diffed = [Result("r", 60.0, Outcome.MISMATCHED, differences=(name,)) for _ in range(38)]
    undiffed = [Result("r", 60.0, Outcome.MISMATCHED, diffed=False) for _ in range(2)]
    return diffed + undiffed


def test_mismatches_left_undiffed_are_labelled_never_shown_as_a_full_rate() -> None:
    report = build_report(_stored(budgeted()))
    [r] = report.routes
    assert (r.mismatched, r.undiffed, r.diffed) == (40, 2, 38)
    assert (r.fields[0].count, r.fields[0].estimated) == (38, True)
    text = render_markdown(report)
    assert summary_line(text, "r")["mismatched"] == "40 (38 diffed)"
    assert "38 of 40 mismatches diffed" in text
    assert "| body.name | value | 38 | ≈100.0% |" in text
    assert "| 38 | 100.0% |" not in text


def test_a_route_with_every_mismatch_diffed_has_no_label() -> None:
    name = Difference("body.name", "body.name", Kind.VALUE)
    report = build_report(_stored([Result("r", 60.0, Outcome.MISMATCHED, differences=(name,))]))
    text = render_markdown(report)
    assert "diffed" not in text and "≈" not in text
    assert report.routes[0].fields[0].estimated is False


def test_json_carries_every_outcome_and_the_undiffed_count() -> None:
    data = to_json(build_report(_stored(budgeted())))
    route = data["routes"][0]
    assert {o: route[o] for o in (*OUTCOMES, "undiffed")} == {
        "matched": 0, "ignored": 0, "mismatched": 40, "errored": 0, "skipped": 0, "shed": 0,
        "unsampled": 0, "undiffed": 2,
    }  # fmt: skip
    assert route["fields"][0]["estimated"] is True


def test_the_terminal_table_shows_every_outcome_and_the_diffed_label() -> None:
    console = Console(record=True, width=250)
    console.print(render_table(build_report(_stored(budgeted()))))
    text = console.export_text()
    for heading in (*OUTCOMES, "requests", "compared"):
        assert heading in text
    assert "40 (38 diffed)" in text and "38 of 40 mismatches diffed" in text


def _stored(results: list[Result]) -> Rows:
    store = open_store("sqlite://")
    store.write(fold(results, 60))
    rows = store.read_rows()
    store.close()
    return rows
