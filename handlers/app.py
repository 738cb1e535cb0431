"""The native application: `handlers.app:app`, or `create_app(database_url)` for tests.

Each API request is parsed on the event loop, then runs whole (settings, key, query, includes,
document) in one worker thread on one pooled connection; see handlers/db.py for why.
"""

from __future__ import annotations

import os
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from pathlib import Path

import structlog
from sqlalchemy.exc import DBAPIError
from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from handlers import api, errors
from handlers.context import Context, load_settings
from handlers.db import Engines, connect, create_engines, is_unreachable
from handlers.errors import ApiError, DatabaseUnavailable, Reply, ValidationFailed
from handlers.query import ServerError
from handlers.request import ApiRequest
from handlers.resources import all_resources
from handlers.routing import PREFIX, Options, Target, match, preflight

log = structlog.get_logger("handlers")
ROOT = Path(__file__).resolve().parents[1]
DEFAULT_DATABASE = f"sqlite:///{ROOT / 'legacy' / 'var' / 'paymenter.sqlite'}"
DRY_RUN_HEADER = "x-strangler-dry-run"
WRITES = frozenset({"POST", "PUT", "PATCH", "DELETE"})


def render(exc: Exception, request: ApiRequest) -> Reply:
    wants_json = request.expects_json()
    if isinstance(exc, ValidationFailed):
        back = request.header("referer") or request.scheme_and_host()
        return errors.render_validation(exc, wants_json, back)
    if isinstance(exc, DatabaseUnavailable):
        # An outage is reported as JSON whatever the client accepts: it is not a page.
        return errors.render_http(exc.status, exc.message, True, {})
    if isinstance(exc, ApiError):
        return errors.render_http(exc.status, exc.message, wants_json, exc.headers)
    return errors.render_http(500, "Server Error", wants_json, {})


def serve(engines: Engines, request: ApiRequest, target: Target, dry_run: bool) -> Reply:
    """Run one API request to completion, whatever fails; nothing but the rendered error
    (never SQL, never a trace) reaches the client, and the log says what failed."""
    try:
        return _run(engines, request, target, dry_run)
    except DatabaseUnavailable as exc:
        cause = exc.__cause__
        _failed("database unreachable", request, getattr(cause, "orig", cause))
        return render(exc, request)
    except DBAPIError as exc:
        if is_unreachable(exc):
            _failed("database unreachable", request, exc.orig)
            return render(DatabaseUnavailable(), request)
        _failed("database error", request, exc.orig)
        return render(ServerError(), request)
    except Exception as exc:  # a bug: answer like the legacy side's uncaught error
        log.exception("request crashed", method=request.method, path=request.raw_path)
        return render(exc, request)


def _run(engines: Engines, request: ApiRequest, target: Target, dry_run: bool) -> Reply:
    """Errors the legacy side raises halfway through a request still commit what came before
    them (PHP writes in autocommit: the key's last_used_at, an invoice marked paid before its
    renewal failed); anything else that escapes rolls the transaction back."""
    with connect(engines, write=request.method in WRITES, dry_run=dry_run) as db:
        try:
            ctx = Context(request, db, load_settings(db))
            return api.dispatch(ctx, target.resource, target.action, target.key)
        except (ApiError, ValidationFailed) as exc:
            return render(exc, request)
        except ServerError as exc:
            _failed("request failed", request, exc)
            return render(exc, request)


def _failed(event: str, request: ApiRequest, error: object) -> None:
    log.error(event, error=str(error), method=request.method, path=request.raw_path)


def _headers(reply: Reply, request: ApiRequest) -> dict[str, str]:
    headers = dict(reply.headers)
    if reply.status in (204, 304):
        headers.pop("content-type", None)
    headers.setdefault("cache-control", "no-cache, private")
    if request.header("origin") is not None and request.path.startswith("/api/"):
        headers["access-control-allow-origin"] = "*"
    return headers


async def _build_request(request: Request) -> ApiRequest:
    scope = request.scope
    client = scope.get("client")
    headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope["headers"]}
    return ApiRequest(
        method=request.method.upper(),
        raw_path=scope.get("raw_path", b"").decode("latin-1").split("?", 1)[0] or scope["path"],
        query_string=scope.get("query_string", b"").decode("latin-1"),
        headers=headers,
        body_bytes=await request.body(),
        client_ip=client[0] if client else "127.0.0.1",
        scheme=scope.get("scheme", "http"),
    )


def _route(request: ApiRequest) -> Target | Reply:
    """The handler a request goes to, or the answer that needs no database: a CORS preflight,
    OPTIONS, an unknown path or method."""
    cors = preflight(request.method, request.path, request.headers)
    if cors:
        return Reply(204, b"", cors)
    try:
        found = match(request.method, request.path, request.route_path())
    except ApiError as exc:
        return render(exc, request)
    if isinstance(found, Options):
        return Reply(200, b"", (("allow", found.allow),))
    return found


def create_app(database_url: str | None = None, *, engines: Engines | None = None) -> Starlette:
    """The application on `database_url` (default: DATABASE_URL, then the demo's SQLite).
    `app.state.engines` holds the pools; ASGI lifespan shutdown disposes them."""
    url = database_url or os.environ.get("DATABASE_URL") or DEFAULT_DATABASE
    db_engines = engines if engines is not None else create_engines(url)

    async def endpoint(request: Request) -> Response:
        api_request = await _build_request(request)
        found = _route(api_request)
        if isinstance(found, Target):
            dry_run = request.headers.get(DRY_RUN_HEADER) == "1"
            reply = await run_in_threadpool(serve, db_engines, api_request, found, dry_run)
        else:
            reply = found
        body = b"" if api_request.method == "HEAD" or reply.status in (204, 304) else reply.body
        return Response(body, reply.status, _headers(reply, api_request))

    @asynccontextmanager
    async def lifespan(_app: Starlette) -> AsyncIterator[None]:
        yield
        db_engines.dispose()

    app = Starlette(routes=_routes(endpoint), lifespan=lifespan)
    app.state.engines = db_engines
    return app


_ALL_METHODS = ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS")


def _routes(endpoint: Callable[[Request], Awaitable[Response]]) -> list[Route]:
    """Every resource route declared (so a router, `strangler check` included, can see what is
    served), then a catch-all that answers unknown paths and methods as the legacy side does."""
    declared = []
    for resource in all_resources():
        if resource.route is None:
            continue
        base = f"{PREFIX}{resource.route}"
        declared.append(Route(base, endpoint, methods=["GET", "HEAD", "POST"]))
        member_methods = ["GET", "HEAD", "PUT", "PATCH", "DELETE"]
        declared.append(Route(base + "/{key}", endpoint, methods=member_methods))
    return [*declared, Route("/{path:path}", endpoint, methods=list(_ALL_METHODS))]


def __getattr__(name: str) -> Starlette:
    # `handlers.app:app` is built on first use, so importing the module opens nothing.
    if name == "app":
        application = create_app()
        globals()["app"] = application
        return application
    raise AttributeError(name)
