"""Reading the parity store for people: the report, and `GET /_strangler/parity`.

`parity_json` is the one function behind both `strangler report --format json` (see
proxy.parity_cli) and the admin endpoint, so the two print the same JSON for the same store,
route and `since`.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from proxy.operator.admin import PREFIX, AdminContext, protect
from proxy.table import units
from shadow.report import Report, build_report, to_json
from shadow.store import Store


def parse_since(text: str | None, now: float) -> float | None:
    """`1h`, `30m`, `2d`... ago, or an ISO 8601 time; raises ValueError."""
    if not text:
        return None
    if text[-1:] == "d" and text[:-1].isdigit():
        return now - int(text[:-1]) * 86400.0
    try:
        return now - units.parse_duration(text)
    except ValueError:
        pass
    try:
        when = datetime.fromisoformat(text)
    except ValueError:
        reason = f"bad since {text!r} (expected e.g. 1h, 30m, 2d, or an ISO 8601 time)"
        raise ValueError(reason) from None
    if when.tzinfo is None:  # the store keeps UTC, and a report must not depend on the machine
        when = when.replace(tzinfo=UTC)
    return when.timestamp()


def read_report(store: Store, since: float | None = None, route: str | None = None) -> Report:
    rows = store.read_rows(since, route)
    return build_report(rows, since=since, route=route, bucket_seconds=store.bucket_seconds)


def parity_json(store: Store, since: float | None = None, route: str | None = None) -> Any:
    """The report as plain JSON types: what `report --format json` prints and /parity answers."""
    return to_json(read_report(store, since, route))


# ---------------------------------------------------------------- the admin endpoint


def parity_route(ctx: AdminContext, store: Callable[[], Store]) -> Route:
    """`GET /_strangler/parity[?route=ID&since=1h]`; `store()` (called in a worker thread, it
    may open the store) gives the Store to read."""

    async def parity(request: Request) -> Response:
        try:
            since = parse_since(request.query_params.get("since"), time.time())
        except ValueError as exc:
            return JSONResponse({"error": str(exc)}, status_code=400)
        route = request.query_params.get("route") or None
        opened: Store = await asyncio.to_thread(store)
        body = await asyncio.to_thread(parity_json, opened, since, route)
        return JSONResponse(body)

    return Route(f"{PREFIX}/parity", protect(ctx, parity), methods=["GET"])
