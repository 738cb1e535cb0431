"""Replay runs on the dashboard, behind the admin surface's rules:

    GET /_strangler/runs          every run in the parity store, newest first
    GET /_strangler/runs/{id}     one run: its routes, differing fields and pairs (`latest` too)

The store is the dashboard's own (the table's `shadow.store`); reading it and folding the rows
run in a worker thread, never on the event loop the requests share.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable

from starlette.requests import Request
from starlette.responses import HTMLResponse, Response
from starlette.routing import Route

from proxy.operator import runpages
from proxy.operator.admin import PREFIX, AdminContext, Via, protect, via
from proxy.operator.htmlparts import esc
from proxy.operator.pages import page
from proxy.table.model import RouteTable
from shadow.report import build_report
from shadow.runstore import read_run, read_runs
from shadow.store import Store


def run_routes(
    ctx: AdminContext, store: Callable[[RouteTable], Store], headers: dict[str, str]
) -> list[Route]:
    def opened() -> Store:
        return store(ctx.holder.current.table)

    async def runs(request: Request) -> Response:
        found = await asyncio.to_thread(lambda: read_runs(opened()))
        text = runpages.runs_page(found, signed_in=via(request) is Via.COOKIE)
        return HTMLResponse(text, headers=headers)

    async def one(request: Request) -> Response:
        signed_in = via(request) is Via.COOKIE
        wanted = request.path_params["id"]

        def read() -> str | None:
            s = opened()
            info = read_run(s, wanted)
            if info is None:
                return None
            rows = s.read_rows(run=info.id)
            report = build_report(rows, bucket_seconds=s.bucket_seconds)
            return runpages.run_page(info, report, rows.samples, signed_in=signed_in)

        text = await asyncio.to_thread(read)
        if text is None:
            body = f"<h1>No replay run {esc(wanted)}</h1>" + (
                f'<p><a href="{PREFIX}/runs">the runs in this store</a></p>'
            )
            return HTMLResponse(page("not found", body), 404, headers=headers)
        return HTMLResponse(text, headers=headers)

    return [
        Route(f"{PREFIX}/runs", protect(ctx, runs), methods=["GET"]),
        Route(f"{PREFIX}/runs/{{id}}", protect(ctx, one), methods=["GET"]),
    ]
