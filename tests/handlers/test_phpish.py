"""PHP semantics: parse_str, the trim/null middleware, empty(), filter_var and is_numeric."""

from __future__ import annotations

from typing import Any

import pytest

from handlers import phpish


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("filter[email]=a%40b&sort=-id", {"filter": {"email": "a@b"}, "sort": "-id"}),
        ("include[]=a&include[]=b", {"include": {"0": "a", "1": "b"}}),
        ("fields[users]=id,email&fields[roles]=", {"fields": {"users": "id,email", "roles": ""}}),
        ("per.page=3&a+b=1", {"per_page": "3", "a_b": "1"}),
        ("page=1&page=2", {"page": "2"}),
        ("=x&&q", {"q": ""}),
        ("a[b][c]=1", {"a": {"b": {"c": "1"}}}),
    ],
    ids=["nested", "append", "empty-value", "name-mangling", "last-wins", "junk", "deep"],
)
def test_parse_query_reads_like_parse_str(query: str, expected: dict[str, Any]) -> None:
    assert phpish.parse_query(query) == expected


def test_clean_trims_and_nulls_but_keeps_passwords() -> None:
    data = {"name": "  Ann \u200b", "empty": "   ", "password": " secret ", "n": {"x": ""}}
    assert phpish.clean(data) == {
        "name": "Ann",
        "empty": None,
        "password": " secret ",
        "n": {"x": None},
    }


@pytest.mark.parametrize(
    ("value", "expected"),
    [(None, True), ("0", True), ("", True), (0, True), ([], True), ("a", False), ("0.0", False)],
)
def test_empty_is_php_empty(value: Any, expected: bool) -> None:
    assert phpish.empty(value) is expected


@pytest.mark.parametrize(
    ("value", "expected"),
    [("5", 5), (" 7 ", 7), ("05", None), ("5.0", None), (3.0, 3), (True, 1), ("x", None)],
)
def test_filter_int_follows_filter_var(value: Any, expected: int | None) -> None:
    assert phpish.filter_int(value) == expected


@pytest.mark.parametrize(
    ("value", "expected"),
    [("1e3", True), (" 5", True), ("5 ", True), (".5", True), ("abc", False), (True, False)],
)
def test_is_numeric_follows_php(value: Any, expected: bool) -> None:
    assert phpish.is_numeric(value) is expected
