"""The operator surface under /_strangler/: health, routes, reload (Starlette).

Access, decided by `authenticate` for every endpoint wrapped in `protect` (all but health, which
is always open for load balancers and orchestrators, and the sign-in pages; health shows the
reasons a table file was refused only to a request `authenticate` lets in):

- With STRANGLER_ADMIN_TOKEN set: `Authorization: Bearer <token>` (compared in constant time)
  from anywhere, for every method; or, for GET and HEAD only, the session cookie a browser gets
  from `POST /_strangler/login` (proxy.signin). The cookie never authorises a POST: a form on
  another site can make a browser send it (SameSite aside), a header it cannot, so `reload` and
  whatever changes state keep needing the bearer. Refused: a browser asking for HTML (GET/HEAD,
  `Accept: text/html`) is sent to the login page (303); anything else gets the JSON 401 with
  `WWW-Authenticate: Bearer`.
- Without a token: loopback clients only (403 otherwise), with no sign-in.

How a request got in is kept on `request.state` (`via(request)`): the dashboard shows "sign
out" only to a cookie session. Later endpoints (parity, metrics, the dashboard) are added with
`protect(...)` around their endpoint and passed to `create_admin(extra_routes=...)`.
"""

from __future__ import annotations

import enum
import hmac
import ipaddress
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from urllib.parse import quote, urlencode

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, RedirectResponse, Response
from starlette.routing import BaseRoute, Route

from proxy.operator import signin
from proxy.table.model import SAFE_METHODS
from proxy.table.model import Route as TableRoute
from proxy.table.reload import Reloader
from proxy.table.snapshot import UNMATCHED, TableHolder
from proxy.table.trust import Trust

PREFIX = "/_strangler"
LOGIN = f"{PREFIX}/login"
Endpoint = Callable[[Request], Awaitable[Response]]


class Via(enum.Enum):
    """How a request to a protected endpoint was let in."""

    BEARER = "bearer"
    COOKIE = "cookie"
    LOOPBACK = "loopback"


@dataclass
class AdminContext:
    holder: TableHolder
    reloader: Reloader
    token: str | None
    clock: Callable[[], float] = time.monotonic
    started: float = field(default_factory=time.monotonic)
    # epoch seconds, for session cookies: every worker and restart must agree on the time
    wall: Callable[[], float] = time.time
    # the parity store's state (open | opening | unavailable | none) and why, for health
    store_state: Callable[[], tuple[str, str | None]] | None = None
    # the native worker pool's state (proxy.sides.workers), with native.workers
    native_workers: Callable[[], dict[str, object]] | None = None
    # a route's effective mode and why (proxy.operator.controls), added to /_strangler/routes
    describe: Callable[[TableRoute], dict[str, object]] | None = None


def is_loopback(host: str | None) -> bool:
    if not host:
        return False
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def bearer_matches(request: Request, token: str) -> bool:
    scheme, _, value = request.headers.get("authorization", "").partition(" ")
    return scheme.lower() == "bearer" and hmac.compare_digest(
        value.strip().encode("utf-8"), token.encode("utf-8")
    )


def authenticate(
    request: Request, token: str | None, now: float, trust: Trust | None = None
) -> Via | None:
    """How the request may be served, or None when it may not.

    Without a token only loopback peers are served, and a trusted proxy (`edge.trusted_proxies`)
    is never one of them: it forwards whoever reached it, from anywhere."""
    if token:
        if bearer_matches(request, token):
            return Via.BEARER
        if request.method in SAFE_METHODS and signin.verify(
            request.cookies.get(signin.COOKIE), token, now
        ):
            return Via.COOKIE
        return None
    client = request.client.host if request.client else None
    if client is not None and trust is not None and trust.trusts(client):
        return None
    return Via.LOOPBACK if is_loopback(client) else None


def wants_html(request: Request) -> bool:
    return "text/html" in request.headers.get("accept", "").lower()


def refusal(request: Request, token: str | None, trust: Trust | None = None) -> Response:
    """What to answer a request `authenticate` did not let in."""
    client = request.client.host if request.client else None
    if not token and client is not None and trust is not None and trust.trusts(client):
        message = (
            "the admin surface is closed to requests through a trusted proxy "
            "(edge.trusted_proxies), which may come from anywhere: set STRANGLER_ADMIN_TOKEN"
        )
        return JSONResponse({"error": message}, status_code=403)
    if not token:
        return JSONResponse(
            {"error": "the admin surface serves loopback clients only (set STRANGLER_ADMIN_TOKEN)"},
            status_code=403,
        )
    if request.method in SAFE_METHODS and wants_html(request):
        return RedirectResponse(
            login_url(request), status_code=303, headers={"Cache-Control": "no-store"}
        )
    return JSONResponse(
        {"error": "a valid bearer token is required"},
        status_code=401,
        headers={"WWW-Authenticate": 'Bearer realm="strangler"'},
    )


def login_url(request: Request) -> str:
    """The login page, to come back to this page (path and query) once signed in."""
    back = quote(request.scope["path"], safe="/:@!$&'()*+,;=-._~")
    if request.url.query:
        back += "?" + request.url.query
    return f"{LOGIN}?{urlencode({'next': back})}"


def via(request: Request) -> Via | None:
    """How a request `protect` let through got in (None outside `protect`)."""
    found = getattr(request.state, "admin_via", None)
    return found if isinstance(found, Via) else None


def protect(ctx: AdminContext, endpoint: Endpoint) -> Endpoint:
    async def guarded(request: Request) -> Response:
        trust = ctx.holder.current.trust
        how = authenticate(request, ctx.token, ctx.wall(), trust)
        if how is None:
            return refusal(request, ctx.token, trust)
        request.state.admin_via = how
        return await endpoint(request)

    return guarded


def create_admin(ctx: AdminContext, extra_routes: Sequence[BaseRoute] = ()) -> Starlette:
    async def health(request: Request) -> Response:
        snapshot = ctx.holder.current
        # open to all: a refused file's state and digest, never its reasons, which quote its
        # text (URLs, store credentials); those only to whom the admin surface lets in
        details = authenticate(request, ctx.token, ctx.wall(), snapshot.trust) is not None
        body = {
            "status": "ok",
            "digest": snapshot.table.digest,
            "generation": snapshot.generation,
            "uptime_s": round(ctx.clock() - ctx.started, 3),
            "routes": len(snapshot.table.routes),
            "config": ctx.reloader.config_state().as_json(details=details),
        }
        if ctx.store_state is not None:
            # the store never makes the gateway unhealthy: it serves without one
            state, error = ctx.store_state()
            body["store"] = {"state": state, **({"error": error} if details and error else {})}
        if ctx.native_workers is not None:
            body["native_workers"] = ctx.native_workers()
        return JSONResponse(body)

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
                        **(ctx.describe(route) if ctx.describe is not None else {}),
                    }
                    for route in snapshot.table.routes
                ],
                "unmatched": {"mode": "legacy", "requests": counts.get(UNMATCHED, 0)},
                "config": ctx.reloader.config_state().as_json(),
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
