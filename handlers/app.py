"""The native application: `handlers.app:app`, or `create_app(database_url)` for tests.

Each API request is parsed on the event loop, then runs whole (settings, key, query, includes,
document) in one worker thread on one pooled connection; see handlers/db.py for why.
"""

from __future__ import annotations

import asyncio
import contextvars
import os
from collections.abc import AsyncIterator, Callable
from concurrent.futures import ThreadPoolExecutor
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any, TypeVar

import structlog
from sqlalchemy.exc import DBAPIError
from starlette.applications import Starlette
from starlette.requests import ClientDisconnect
from starlette.responses import PlainTextResponse
from starlette.routing import Route
from starlette.types import ASGIApp, Receive, Scope, Send

from handlers import api, errors
from handlers.context import Context, load_settings
from handlers.db import WORKERS, Engines, connect, create_engines, is_unreachable
from handlers.errors import ApiError, DatabaseUnavailable, Reply, ValidationFailed
from handlers.query import ServerError
from handlers.request import ApiRequest
from handlers.resources import all_resources
from handlers.routing import PREFIX, Options, Target, match, preflight

log = structlog.get_logger("handlers")
ROOT = Path(__file__).resolve().parents[1]
DEFAULT_DATABASE = f"sqlite:///{ROOT / 'legacy' / 'var' / 'paymenter.sqlite'}"
DRY_RUN_HEADER = b"x-strangler-dry-run"
WRITES = frozenset({"POST", "PUT", "PATCH", "DELETE"})
T = TypeVar("T")


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


_workers: ThreadPoolExecutor | None = None


def _executor() -> ThreadPoolExecutor:
    global _workers
    if _workers is None:
        _workers = ThreadPoolExecutor(WORKERS, thread_name_prefix="handlers")
    return _workers


async def in_worker(fn: Callable[..., T], *args: Any) -> T:
    """`fn(*args)` in one of the WORKERS threads (shared by every app of the process), in a
    copy of the caller's context, as Starlette's run_in_threadpool runs it.

    Why not run_in_threadpool: anyio's limiter lets 40 threads in, and 40 threads holding
    requests half done convoy on the GIL (p99 several times p50), with a pool as large to
    keep; and its hop (limiter, cancel scope, run vars) costs the event loop more than
    run_in_executor's."""
    context = contextvars.copy_context()
    return await asyncio.get_running_loop().run_in_executor(_executor(), context.run, fn, *args)


async def _read_body(receive: Receive) -> bytes:
    chunks = []
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            raise ClientDisconnect()
        chunks.append(message.get("body", b""))
        if not message.get("more_body", False):
            return b"".join(chunks)


async def _build_request(scope: Scope, receive: Receive) -> ApiRequest:
    client = scope.get("client")
    headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope["headers"]}
    return ApiRequest(
        method=scope["method"].upper(),
        raw_path=scope.get("raw_path", b"").decode("latin-1").split("?", 1)[0] or scope["path"],
        query_string=scope.get("query_string", b"").decode("latin-1"),
        headers=headers,
        body_bytes=await _read_body(receive),
        client_ip=client[0] if client else "127.0.0.1",
        scheme=scope.get("scheme", "http"),
    )


def _dry_run(scope: Scope) -> bool:
    # the first such header, as Starlette's Headers.get reads it
    found = next((v for k, v in scope["headers"] if k == DRY_RUN_HEADER), None)
    return found == b"1"


def raw_headers(status: int, headers: dict[str, str], body: bytes) -> list[tuple[bytes, bytes]]:
    """The header list `starlette.responses.Response(body, status, headers)` sends."""
    raw = [(k.lower().encode("latin-1"), v.encode("latin-1")) for k, v in headers.items()]
    sized = any(name == b"content-length" for name, _ in raw)
    if not (sized or status < 200 or status in (204, 304)):
        raw.append((b"content-length", str(len(body)).encode("latin-1")))
    return raw


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


class Endpoint:
    """The one ASGI endpoint every route leads to: the request is parsed on the event loop,
    served in a worker thread, and answered with the bytes Starlette's Response would send.
    A bug before the answer starts is answered as Starlette's ServerErrorMiddleware answers
    it (a plain 500, then re-raised for the server or the gateway to report)."""

    def __init__(self, engines: Engines):
        self.engines = engines

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        try:
            status, headers, body = await self._answer(scope, receive)
        except Exception:
            await PlainTextResponse("Internal Server Error", 500)(scope, receive, send)
            raise
        await send({"type": "http.response.start", "status": status, "headers": headers})
        await send({"type": "http.response.body", "body": body})

    async def _answer(
        self, scope: Scope, receive: Receive
    ) -> tuple[int, list[tuple[bytes, bytes]], bytes]:
        api_request = await _build_request(scope, receive)
        found = _route(api_request)
        if isinstance(found, Target):
            dry_run = _dry_run(scope)
            reply = await in_worker(serve, self.engines, api_request, found, dry_run)
        else:
            reply = found
        body = b"" if api_request.method == "HEAD" or reply.status in (204, 304) else reply.body
        return reply.status, raw_headers(reply.status, _headers(reply, api_request), body), body


def create_app(database_url: str | None = None, *, engines: Engines | None = None) -> Starlette:
    """The application on `database_url` (default: DATABASE_URL, then the demo's SQLite; on
    MariaDB through HANDLERS_MYSQL_DRIVER, by default the fastest driver installed).
    `app.state.engines` holds the pools; ASGI lifespan shutdown disposes them."""
    url = database_url or os.environ.get("DATABASE_URL") or DEFAULT_DATABASE
    driver = os.environ.get("HANDLERS_MYSQL_DRIVER")
    db_engines = engines if engines is not None else create_engines(url, mysql_driver=driver)

    @asynccontextmanager
    async def lifespan(_app: Starlette) -> AsyncIterator[None]:
        yield
        db_engines.dispose()

    endpoint = Endpoint(db_engines)
    app = NativeApp(endpoint, routes=_routes(endpoint), lifespan=lifespan)
    app.state.engines = db_engines
    return app


class NativeApp(Starlette):
    """Starlette with its routes declared (a router, `strangler check` included, reads them)
    and its lifespan, but HTTP requests go straight to the one endpoint every route leads to:
    the middleware stack, the router's scan and the Request/Response objects cost the event
    loop more than the endpoint's own work there."""

    def __init__(self, endpoint: ASGIApp, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.endpoint = endpoint

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            await self.endpoint(scope, receive, send)
        else:
            await super().__call__(scope, receive, send)


_ALL_METHODS = ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS")


def _routes(endpoint: ASGIApp) -> list[Route]:
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
