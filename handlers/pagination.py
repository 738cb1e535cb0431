"""Simple pagination (no total count): `page`, `per_page` typed as given, links without nulls."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from handlers import phpish, phpjson
from handlers.model import Row
from handlers.query import ServerError
from handlers.request import ApiRequest

_INTEGER = re.compile(r"^[+-]?\d+$")


@dataclass(frozen=True)
class Window:
    """Which rows to fetch, computed with PHP's arithmetic on `per_page` as given."""

    page: int
    per_page: Any
    number: int | float
    limit: int | None
    offset: int


def current_page(request: ApiRequest) -> int:
    page = request.input("page")
    number = None if isinstance(page, dict | list) else phpish.filter_int(page)
    return number if number is not None and number >= 1 else 1


def requested_per_page(request: ApiRequest) -> Any:
    per_page = request.input("per_page")
    if per_page is None:
        per_page = 15
    return 15 if phpish.empty(per_page) else per_page


def _number(per_page: Any) -> int | float:
    """The arithmetic value of per_page; a non-numeric one fails like PHP's operators (500)."""
    if isinstance(per_page, bool):
        return int(per_page)
    if isinstance(per_page, int | float):
        return per_page
    if isinstance(per_page, str) and phpish.is_numeric(per_page):
        text = per_page.strip()
        return int(text) if _INTEGER.match(text) else float(text)
    raise ServerError("Unsupported operand types for per_page")


def window(request: ApiRequest) -> Window:
    page = current_page(request)
    per_page = requested_per_page(request)
    number = _number(per_page)
    offset = max(0, int((page - 1) * number))
    limit = number + 1
    return Window(page, per_page, number, int(limit) if limit >= 0 else None, offset)


def limit_clause(win: Window, sqlite: bool) -> str:
    if win.limit is not None:
        return f" LIMIT {win.limit}" + (f" OFFSET {win.offset}" if win.offset > 0 else "")
    if win.offset > 0:
        return f" LIMIT {-1 if sqlite else 18446744073709551615} OFFSET {win.offset}"
    return ""


def cut(win: Window, rows: list[Row]) -> tuple[bool, list[Row]]:
    """One row more than a page was fetched: whether there is a next page, and the page."""
    return len(rows) > win.number, rows[: int(win.number)]


def page_url(path: str, page: int) -> str:
    page = max(page, 1)
    return f"{path}{'&' if '?' in path else '?'}page={page}"


def links_and_meta(
    win: Window, count: int, has_more: bool, path: str
) -> tuple[dict[str, str], dict[str, Any]]:
    first_item = (win.page - 1) * win.number + 1 if count > 0 else None
    last_item = first_item + count - 1 if first_item is not None else None
    links = {"first": page_url(path, 1)}
    if win.page > 1:
        links["prev"] = page_url(path, win.page - 1)
    if has_more:
        links["next"] = page_url(path, win.page + 1)
    meta = {
        "current_page": win.page,
        "current_page_url": page_url(path, win.page),
        "from": phpjson.php_floats(first_item),
        "path": path,
        "per_page": win.per_page,
        "to": phpjson.php_floats(last_item),
    }
    return links, meta
