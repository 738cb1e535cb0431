"""simplePaginate: page and per_page parsing, links without nulls, meta typed as given."""

from __future__ import annotations

import pytest

from handlers import pagination
from handlers.query import ServerError
from handlers.request import ApiRequest


def request(query: str) -> ApiRequest:
    return ApiRequest("GET", "/api/v1/admin/users", query, {"host": "h:8080"}, b"", "127.0.0.1")


def test_defaults_are_page_one_and_integer_fifteen() -> None:
    win = pagination.window(request(""))
    assert (win.page, win.per_page, win.limit, win.offset) == (1, 15, 16, 0)


def test_per_page_from_the_query_stays_a_string() -> None:
    win = pagination.window(request("per_page=20&page=3"))
    links, meta = pagination.links_and_meta(win, 20, True, "http://h:8080/api/v1/admin/users")
    assert meta == {
        "current_page": 3,
        "current_page_url": "http://h:8080/api/v1/admin/users?page=3",
        "from": 41,
        "path": "http://h:8080/api/v1/admin/users",
        "per_page": "20",
        "to": 60,
    }
    assert list(links) == ["first", "prev", "next"]


def test_empty_page_has_null_bounds_and_no_next() -> None:
    win = pagination.window(request("page=9"))
    links, meta = pagination.links_and_meta(win, 0, False, "http://h/p")
    assert (meta["from"], meta["to"]) == (None, None)
    assert links == {"first": "http://h/p?page=1", "prev": "http://h/p?page=8"}


@pytest.mark.parametrize("page", ["0", "-1", "abc", "05", "1.5"])
def test_invalid_pages_become_one(page: str) -> None:
    assert pagination.window(request(f"page={page}")).page == 1


def test_zero_per_page_falls_back_to_fifteen() -> None:
    assert pagination.window(request("per_page=0")).per_page == 15


def test_non_numeric_per_page_is_a_server_error() -> None:
    with pytest.raises(ServerError):
        pagination.window(request("per_page=abc"))


def test_fetches_one_more_row_than_a_page() -> None:
    win = pagination.window(request("per_page=2"))
    has_more, rows = pagination.cut(win, [{"id": 1}, {"id": 2}, {"id": 3}])
    assert has_more and rows == [{"id": 1}, {"id": 2}]
    assert pagination.limit_clause(win, True) == " LIMIT 3"
