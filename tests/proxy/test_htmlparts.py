"""The dashboard's HTML pieces: differences marked in a sample pair, the field tree, the trend."""

from __future__ import annotations

import json
import re

import pytest

from proxy.operator.htmlparts import Marker, field_tree, render_pair, segments, sparkline
from shadow.report import FieldLine, TrendPoint


def marked(text: str) -> list[str]:
    return re.findall(r"<mark[^>]*>(.*?)</mark>", text, re.S)


@pytest.mark.parametrize(
    ("primary", "candidate", "left", "right"),
    [
        ({"a": 1, "b": 2}, {"a": 1, "b": 3}, ["2"], ["3"]),
        ({"a": 1}, {"a": "1"}, ["1"], ["&quot;1&quot;"]),
        ({"a": 1}, {"a": 1.0}, ["1"], ["1.0"]),
        ({"a": True}, {"a": 1}, ["true"], ["1"]),
        ({"a": 1, "gone": 2}, {"a": 1}, ["2"], []),
        ({"a": 1}, {"a": 1, "new": [1]}, [], ["[\n    1\n  ]"]),
        ({"l": [1, 2]}, {"l": [1, 2, 3]}, [], ["3"]),
        ({"l": []}, {"l": [1]}, ["[]"], ["1"]),
        ({"o": {"k": None}}, {"o": []}, ['{\n    &quot;k&quot;: null\n  }'], ["[]"]),
        ({"same": {"x": [1]}}, {"same": {"x": [1]}}, [], []),
    ],
    ids=["value", "type", "int_float", "bool_int", "missing", "extra", "longer", "empty",
         "dict_list", "equal"],
)  # fmt: skip
def test_the_differing_parts_of_a_pair_are_marked(
    primary: object, candidate: object, left: list[str], right: list[str]
) -> None:
    got_left, got_right = render_pair(json.dumps(primary), json.dumps(candidate))
    assert (marked(got_left), marked(got_right)) == (left, right)


def test_a_missing_key_is_marked_as_only_on_one_side() -> None:
    left, _ = render_pair('{"a": 1, "gone": 2}', '{"a": 1}')
    assert '<mark class="only">2</mark>' in left


def test_stored_text_is_escaped_never_markup() -> None:
    hostile = json.dumps({"name": "<script>alert(1)</script>", "<b>": "x"})
    left, right = render_pair(hostile, json.dumps({"name": "ok", "<b>": "x"}))
    assert "<script>" not in left and "&lt;script&gt;" in left
    assert "&quot;&lt;b&gt;&quot;" in right


def test_sides_that_are_not_json_are_shown_as_text() -> None:
    left, right = render_pair("<html>oops</html>", '{"a": 1}')
    assert left == "<mark>&lt;html&gt;oops&lt;/html&gt;</mark>"
    assert right == "<mark>{&quot;a&quot;: 1}</mark>"


@pytest.mark.parametrize(
    ("path", "parts"),
    [
        ("status", ["status"]),
        ("headers.content-type", ["headers", "content-type"]),
        ("body.data[*].attributes.email", ["body", "data[*]", "attributes", "email"]),
        ('body["a.b"].c', ["body", "a.b", "c"]),
        ("body.*.id", ["body", "*", "id"]),
        ("(errored)", ["(errored)"]),
    ],
    ids=["status", "header", "list", "quoted", "any_key", "not_a_path"],
)
def test_segments(path: str, parts: list[str]) -> None:
    assert segments(path) == parts


def line(field: str, count: int, real: bool = True) -> FieldLine:
    return FieldLine(field, ("value",), count, count / 100, 0.5, None, real)


def test_the_field_tree_nests_paths_and_marks_noise() -> None:
    tree = field_tree(
        [line("body.data[*].name", 7), line("body.data[*].id", 2, real=False)],
        [line("body.meta.at", 40)],
        {"body.data[*].name": "#sample-0"},
    )
    assert tree.count('<span class="seg">body</span>') == 1  # one root for three fields
    assert tree.count('<span class="seg">data[*]</span>') == 1
    assert re.search(r'data-field="body.data\[\*\].name"><b class="count">7</b>.*?#sample-0', tree)
    assert re.search(r'data-field="body.data\[\*\].id">.*?below thresholds', tree)
    assert re.search(r'data-field="body.meta.at">.*?noise \(A/A 50.0%\)', tree)


def test_an_empty_tree_says_so() -> None:
    assert "No differing fields" in field_tree([], [], {})


def point(bucket: int, compared: int, matched: int) -> TrendPoint:
    return TrendPoint(bucket, compared, matched, 0, compared - matched, 0)


def test_the_sparkline_puts_full_parity_at_the_top_and_flips_upright() -> None:
    svg = sparkline(
        [point(0, 10, 10), point(50, 10, 0), point(100, 0, 0)],
        0,
        100,
        width=102,
        height=24,
        markers=[Marker(50, "shadow → native <file>"), Marker(500, "outside")],
    )
    # 100 % then 0 %, right of the 30-pixel scale, 5 pixels inside the top and the bottom
    assert '<polyline class="parity" points="31.0,5.0 66.0,19.0"/>' in svg
    assert '<line class="flip" x1="66.0"' in svg and "outside" not in svg
    assert "&lt;file&gt;" in svg


def test_the_sparkline_has_a_labelled_scale_and_a_route_at_zero_sits_on_its_rule() -> None:
    svg = sparkline([point(0, 10, 0), point(100, 10, 0)], 0, 100, width=130, height=36)
    assert '<line class="axis" x1="30" y1="5.0" x2="129" y2="5.0"/>' in svg
    assert ">100%</text>" in svg and ">0%</text>" in svg
    assert '<line class="axis" x1="30" y1="31.0" x2="129" y2="31.0"/>' in svg
    assert '<polyline class="parity" points="31.0,31.0 129.0,31.0"/>' in svg
    assert 'aria-label="parity over 2 buckets, latest 0.0%"' in svg


def test_a_sparkline_without_comparisons_draws_no_line() -> None:
    svg = sparkline([point(0, 0, 0)], 0, 100)
    assert "<polyline" not in svg and "no comparisons" in svg


def test_a_single_bucket_at_the_right_edge_is_still_a_line() -> None:
    svg = sparkline([point(100, 5, 0)], 0, 100, width=130, height=36)
    assert '<polyline class="parity" points="121.0,31.0 129.0,31.0"/>' in svg
    assert '<circle class="point" cx="129.0" cy="31.0" r="2"/>' in svg
