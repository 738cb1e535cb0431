"""A small native app for the native workers' tests: each answer says which process gave it.

GET /n/who          {"pid", "request_id", "dry_run"}: the process, the id the gateway sent
GET /n/slow?s=0.5   the same, after sleeping
GET /n/boom         raises (the gateway's 502 "native handler failed", as in-process)
GET /n/print        print()s to stdout, then answers: a worker's stdout is not its channel
POST /n/echo        the body back
GET /n/dry          {"dry_run": the X-Strangler-Dry-Run header the gateway sent, or null}
"""

from __future__ import annotations

import asyncio
import os

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route


def _who(request: Request) -> dict[str, object]:
    return {
        "pid": os.getpid(),
        "request_id": request.headers.get("x-request-id"),
        "dry_run": request.headers.get("x-strangler-dry-run"),
    }


async def who(request: Request) -> Response:
    return JSONResponse(_who(request))


async def slow(request: Request) -> Response:
    await asyncio.sleep(float(request.query_params.get("s", "0.5")))
    return JSONResponse(_who(request))


async def boom(_request: Request) -> Response:
    raise RuntimeError("the handler broke")


async def printing(request: Request) -> Response:
    print("a line on stdout " * 2000, flush=True)
    return JSONResponse(_who(request))


async def dry(request: Request) -> Response:
    return JSONResponse({"dry_run": request.headers.get("x-strangler-dry-run")})


async def echo(request: Request) -> Response:
    return Response(await request.body(), media_type="application/octet-stream")


app = Starlette(
    routes=[
        Route("/n/who", who),
        Route("/n/slow", slow),
        Route("/n/boom", boom),
        Route("/n/print", printing),
        Route("/n/echo", echo, methods=["POST"]),
        Route("/n/dry", dry),
    ]
)
