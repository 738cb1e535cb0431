"""Field paths: parsing DESIGN.md's syntax, matching concrete paths, formatting, generalising."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from shadow.compare import drop_ignored
from shadow.fieldpath import format_path, generalise, parse

keys = st.text(min_size=0, max_size=8)
parts = st.one_of(keys, st.integers(min_value=0, max_value=50))
paths = st.tuples(st.just("body")).flatmap(
    lambda root: st.lists(parts, max_size=6).map(lambda rest: (*root, *rest))
)


@pytest.mark.parametrize(
    ("pattern", "path", "expected"),
    [
        ("status", ("status",), True),
        ("headers.Content-Type", ("headers", "content-type"), True),
        ("body.data[*].updated_at", ("body", "data", 3, "updated_at"), True),
        ("body.data[*].updated_at", ("body", "data", "3", "updated_at"), False),
        ("body.*.id", ("body", "user", "id"), True),
        ("body.*.id", ("body", 0, "id"), False),
        ("body[*]", ("body", 2), True),
        ("body.meta", ("body", "meta", "page"), False),
    ],
    ids=["status", "header-case", "list-items", "index-not-key", "any-key", "any-key-not-index",
         "top-level-list", "exact-only"],
)  # fmt: skip
def test_pattern_matches_concrete_paths(
    pattern: str, path: tuple[str | int, ...], expected: bool
) -> None:
    assert parse(pattern).matches(path) is expected


def test_a_pattern_covers_the_places_inside_it() -> None:
    assert parse("body.meta").covers(("body", "meta", "page", "next"))
    assert not parse("body.meta.page").covers(("body", "meta"))


@pytest.mark.parametrize(
    "text",
    ["", "stat", "body.", "body..a", "body[x]", "headers", "headers.a.b", "status.code", "meta.a"],
)
def test_bad_field_paths_are_rejected_with_a_reason(text: str) -> None:
    with pytest.raises(ValueError, match="bad field path"):
        parse(text)


def test_concrete_paths_format_as_in_the_report() -> None:
    path = ("body", "data", 3, "attributes", "updated_at")
    assert format_path(path) == "body.data[3].attributes.updated_at"
    assert generalise(path) == "body.data[*].attributes.updated_at"
    assert format_path(("body", "a.b", "")) == 'body["a.b"][""]'


@given(paths)
def test_a_generalised_path_parses_and_matches_the_path_it_came_from(
    path: tuple[str | int, ...],
) -> None:
    assert parse(generalise(path)).matches(path)


@given(paths)
def test_a_formatted_concrete_path_parses_back_to_itself(path: tuple[str | int, ...]) -> None:
    assert parse(format_path(path)).matches(path)
    assert parse(format_path(path)).source == format_path(path)


def test_ignore_drops_only_the_named_places_and_leaves_the_input_alone() -> None:
    tree = {"body": {"data": [{"t": 1, "v": 2}, {"t": 3, "v": 4}], "meta": {"url": "x"}}}
    dropped = drop_ignored(tree, [parse("body.data[*].t"), parse("body.meta")])
    assert dropped == {"body": {"data": [{"v": 2}, {"v": 4}]}}
    assert tree["body"]["meta"] == {"url": "x"}  # not mutated


def test_ignore_of_a_header_or_the_status() -> None:
    tree = {"status": 200, "headers": {"date": "x", "content-type": "y"}, "body": None}
    assert drop_ignored(tree, [parse("headers.Date"), parse("status")]) == {
        "headers": {"content-type": "y"},
        "body": None,
    }
