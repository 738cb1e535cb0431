"""The dashboard and the metrics endpoint under /_strangler/, behind the admin surface's rules.

    GET /_strangler/                               every route: mode, traffic, parity, trend, gate
    GET /_strangler/route/{id}                     one route: gate, trend beside its flips, the
                                                   tree of differing fields, sample pairs
    GET /_strangler/route/{id}/samples?field=F     every stored sample of one field
    GET /_strangler/metrics                        Prometheus text format (proxy.metrics)

(`/_strangler/routes` stays the JSON list of routes.) Reading the store is blocking I/O and
folding rows is CPU work: both run in a worker thread, never on the event loop the requests
share. The pages carry no script, and are served under a content policy that allows none.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass

from starlette.requests import Request
from starlette.responses import HTMLResponse, Response
from starlette.routing import Route

from proxy import pages
from proxy.admin import PREFIX, AdminContext, protect
from proxy.evidence import Evidence, gather
from proxy.history import FlipStore
from proxy.htmlparts import esc
from proxy.metrics import CONTENT_TYPE, Metrics
from proxy.model import RouteTable
from proxy.state import UNMATCHED
from shadow.store import Store

HEADERS = {
    "Content-Security-Policy": (
        "default-src 'none'; style-src 'unsafe-inline'; img-src data:; frame-ancestors 'none'; "
        "base-uri 'none'; form-action 'none'"
    ),
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-store",  # evidence changes by the second, and it is the operator's
}


@dataclass
class Sources:
    """Where the evidence is read from (each callable blocks: it is called in a thread)."""

    store: Callable[[RouteTable], Store]
    flips: Callable[[RouteTable], FlipStore] | None = None
    clock: Callable[[], float] = time.time
    # requests per route; None: this process's counts (TableHolder), else e.g. every worker's
    counts: Callable[[], Mapping[str, int]] | None = None


def dashboard_routes(ctx: AdminContext, sources: Sources) -> list[Route]:
    async def evidence(route: str | None = None) -> Evidence:
        table, flips = ctx.holder.current.table, sources.flips
        counts: Mapping[str, int] = dict(ctx.holder.counts)
        if sources.counts is not None:
            counts = await asyncio.to_thread(sources.counts)
        return await asyncio.to_thread(
            gather,
            table,
            counts,
            lambda: sources.store(table),
            (lambda: flips(table)) if flips is not None else None,
            sources.clock(),
            unmatched_key=UNMATCHED,
            route=route,
        )

    async def overview(_request: Request) -> Response:
        return _html(pages.overview(await evidence()))

    async def route_page(request: Request) -> Response:
        route_id = request.path_params["id"]
        found = await evidence(route_id)
        r = found.route(route_id)
        if r is None:
            return _not_found(route_id)
        field = request.query_params.get("field")
        if request.url.path.endswith("/samples"):
            if not field:
                return _html(pages.page("samples", "<p>Name a field: ?field=…</p>"), 400)
            return _html(pages.samples_page(found, r, field))
        return _html(pages.route_page(found, r))

    return [
        Route(f"{PREFIX}/", protect(ctx, overview), methods=["GET"]),
        Route(f"{PREFIX}/route/{{id}}", protect(ctx, route_page), methods=["GET"]),
        Route(f"{PREFIX}/route/{{id}}/samples", protect(ctx, route_page), methods=["GET"]),
    ]


def metrics_route(ctx: AdminContext, metrics: Metrics, refresh: Callable[[], None]) -> Route:
    """`refresh` brings counters kept elsewhere (store drops) up to date before the scrape."""

    async def scrape(_request: Request) -> Response:
        refresh()
        body = await asyncio.to_thread(metrics.exposition)
        return Response(body, media_type=CONTENT_TYPE)

    return Route(f"{PREFIX}/metrics", protect(ctx, scrape), methods=["GET"])


def _html(text: str, status: int = 200) -> HTMLResponse:
    return HTMLResponse(text, status_code=status, headers=HEADERS)


def _not_found(route_id: str) -> HTMLResponse:
    body = (
        f'<p><a href="{PREFIX}/">all routes</a></p><h1>No route {esc(route_id)}</h1>'
        "<p>It is not in the table, and nothing about it is stored.</p>"
    )
    return _html(pages.page("not found", body), 404)
