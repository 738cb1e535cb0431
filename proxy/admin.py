"""The operator surface under /_strangler/: health, routes, reload (Starlette).

Access: with STRANGLER_ADMIN_TOKEN set, every endpoint but health needs `Authorization: Bearer
<token>` (compared in constant time; 401 otherwise). Without a token, only loopback clients are
served (403 otherwise). Health is always open, for load balancers and orchestrators.

Later endpoints (parity, metrics, a dashboard) are added with `protect(...)` around their
endpoint and passed to `create_admin(extra_routes=...)`.
"""

from __future__ import annotations

import hmac
import ipaddress
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from proxy.reload import Reloader
from proxy.state import UNMATCHED, TableHolder

PREFIX = "/_strangler"
Endpoint = Callable[[Request], Awaitable[Response]]


@dataclass
class AdminContext:
    holder: TableHolder
    reloader: Reloader
    token: str | None
    clock: Callable[[], float] = time.monotonic
    started: float = field(default_factory=time.monotonic)


def is_loopback(host: str | None) -> bool:
    if not host:
        return False
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def refusal(request: Request, token: str | None) -> Response | None:
    """None when the request may be served, else the 401 or 403 to answer."""
    if token:
        given = request.headers.get("authorization", "")
        scheme, _, value = given.partition(" ")
        if scheme.lower() == "bearer" and hmac.compare_digest(
            value.strip().encode("utf-8"), token.encode("utf-8")
        ):
            return None
        return JSONResponse(
            {"error": "a valid bearer token is required"},
            status_code=401,
            headers={"WWW-Authenticate": 'Bearer realm="strangler"'},
        )
    client = request.client.host if request.client else None
    if is_loopback(client):
        return None
    return JSONResponse(
        {"error": "the admin surface serves loopback clients only (set STRANGLER_ADMIN_TOKEN)"},
        status_code=403,
    )


def protect(ctx: AdminContext, endpoint: Endpoint) -> Endpoint:
    async def guarded(request: Request) -> Response:
        refused = refusal(request, ctx.token)
        return refused if refused is not None else await endpoint(request)

    return guarded


def create_admin(ctx: AdminContext, extra_routes: Sequence[BaseRoute] = ()) -> Starlette:
    async def health(_request: Request) -> Response:
        snapshot = ctx.holder.current
        return JSONResponse(
            {
                "status": "ok",
                "digest": snapshot.table.digest,
                "generation": snapshot.generation,
                "uptime_s": round(ctx.clock() - ctx.started, 3),
                "routes": len(snapshot.table.routes),
            }
        )

    async def routes(_request: Request) -> Response:
        snapshot = ctx.holder.current
        counts = ctx.holder.counts
        return JSONResponse(
            {
                "digest": snapshot.table.digest,
                "source": snapshot.table.source,
                "routes": [
                    {
                        "id": route.id,
                        "methods": sorted(route.methods) if route.methods is not None else ["*"],
                        "path": route.template.source,
                        "mode": route.mode.value,
                        "line": route.line,
                        "requests": counts.get(route.id, 0),
                    }
                    for route in snapshot.table.routes
                ],
                "unmatched": {"mode": "legacy", "requests": counts.get(UNMATCHED, 0)},
            }
        )

    async def reload(_request: Request) -> Response:
        result = await ctx.reloader.reload("admin")
        return JSONResponse(result.as_json(), status_code=200 if result.ok else 422)

    return Starlette(
        routes=[
            Route(f"{PREFIX}/health", health, methods=["GET"]),
            Route(f"{PREFIX}/routes", protect(ctx, routes), methods=["GET"]),
            Route(f"{PREFIX}/reload", protect(ctx, reload), methods=["POST"]),
            *extra_routes,
        ]
    )
