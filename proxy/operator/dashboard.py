"""The dashboard and the metrics endpoint under /_strangler/, behind the admin surface's rules.

    GET /_strangler/                               every route: mode, traffic, parity, trend, gate
    GET /_strangler/route/{id}                     one route: gate, trend beside its flips, the
                                                   tree of differing fields, sample pairs
    GET /_strangler/route/{id}/samples?field=F     every stored sample of one field
    GET /_strangler/runs[/{id}]                    replay runs, and one run (proxy.runs)
    POST /_strangler/route/{id}/reset              start the route's evidence over
    GET /_strangler/metrics                        Prometheus text format (proxy.metrics)
    GET|POST /_strangler/login                     sign in with the admin token (a cookie)
    POST /_strangler/logout                        sign out (the cookie is cleared)

(`/_strangler/routes` stays the JSON list of routes.) Reading the store is blocking I/O and
folding rows is CPU work: both run in a worker thread, never on the event loop the requests
share. The pages carry no script, and are served under a content policy that allows none; it
allows forms to post to this origin only on the pages that carry one (the login page, and the
"sign out" button a cookie session sees), and to nowhere on the rest.
"""

from __future__ import annotations

import asyncio
import dataclasses
import hmac
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from urllib.parse import parse_qs, urlsplit

from sqlalchemy.exc import SQLAlchemyError
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from starlette.routing import Route

from proxy.logs import get_logger
from proxy.operator import pages, signin
from proxy.operator.admin import (
    LOGIN,
    PREFIX,
    AdminContext,
    Via,
    authenticate,
    protect,
    refusal,
    via,
    wants_html,
)
from proxy.operator.evidence import Evidence, gather
from proxy.operator.history import FlipStore
from proxy.operator.htmlparts import esc
from proxy.operator.metrics import CONTENT_TYPE, Metrics
from proxy.operator.resets import describe, reset_evidence
from proxy.operator.runs import run_routes
from proxy.operator.stages import RouteStatus
from proxy.table.model import RouteTable
from proxy.table.snapshot import UNMATCHED
from shadow.store import Store

log = get_logger("proxy.operator.dashboard")


def _policy(form_action: str) -> dict[str, str]:
    return {
        "Content-Security-Policy": (
            "default-src 'none'; style-src 'unsafe-inline'; img-src data:; "
            f"frame-ancestors 'none'; base-uri 'none'; form-action {form_action}"
        ),
        "X-Content-Type-Options": "nosniff",
        "Referrer-Policy": "no-referrer",
        "Cache-Control": "no-store",  # evidence changes by the second, and it is the operator's
    }


HEADERS = _policy("'none'")
FORM_HEADERS = _policy("'self'")  # a page with a form (login, sign out) posts to this origin
FORM_LIMIT = 8192  # bytes of a login form: a token and a path
HOME = f"{PREFIX}/"


@dataclass
class Sources:
    """Where the evidence is read from (each callable blocks: it is called in a thread)."""

    store: Callable[[RouteTable], Store]
    flips: Callable[[RouteTable], FlipStore] | None = None
    clock: Callable[[], float] = time.time
    # requests per route; None: this process's counts (TableHolder), else e.g. every worker's
    counts: Callable[[], Mapping[str, int]] | None = None
    # every route's stage and its evidence (proxy.operator.status); None: not shown
    status: Callable[[RouteTable, float], Sequence[RouteStatus]] | None = None


def dashboard_routes(ctx: AdminContext, sources: Sources) -> list[Route]:
    async def evidence(route: str | None = None) -> Evidence:
        table, flips = ctx.holder.current.table, sources.flips
        counts: Mapping[str, int] = dict(ctx.holder.counts)
        if sources.counts is not None:
            counts = await asyncio.to_thread(sources.counts)
        now = sources.clock()
        found = await asyncio.to_thread(
            gather,
            table,
            counts,
            lambda: sources.store(table),
            (lambda: flips(table)) if flips is not None else None,
            now,
            unmatched_key=UNMATCHED,
            route=route,
        )
        if sources.status is None:
            return found
        try:
            stages = await asyncio.to_thread(sources.status, table, now)
        except (SQLAlchemyError, OSError) as exc:
            log.warning("stages_unreadable", error=repr(exc))
            return found
        return dataclasses.replace(found, statuses={s.id: s for s in stages})

    async def overview(request: Request) -> Response:
        signed_in = via(request) is Via.COOKIE
        config = ctx.reloader.config_state()
        workers = ctx.native_workers() if ctx.native_workers is not None else None
        text = pages.overview(await evidence(), signed_in=signed_in, config=config, workers=workers)
        return _html(text, form=signed_in)

    async def route_page(request: Request) -> Response:
        signed_in = via(request) is Via.COOKIE
        route_id = request.path_params["id"]
        found = await evidence(route_id)
        r = found.route(route_id)
        if r is None:
            return _not_found(route_id, signed_in)
        field = request.query_params.get("field")
        if request.url.path.endswith("/samples"):
            if not field:
                text = pages.page("samples", "<p>Name a field: ?field=…</p>", signed_in=signed_in)
                return _html(text, 400, form=signed_in)
            return _html(pages.samples_page(found, r, field, signed_in=signed_in), form=signed_in)
        form = _reset_field(ctx, request, route_id) if r.route is not None else None
        text = pages.route_page(found, r, signed_in=signed_in, reset=form)
        return _html(text, form=signed_in or form is not None)

    async def reset(request: Request) -> Response:
        """Start a route's evidence over (the route page's button, or an API client)."""
        route_id = request.path_params["id"]
        allowed = await _may_post(ctx, request)
        if isinstance(allowed, Response):
            return allowed
        table = ctx.holder.current.table
        route = next((r for r in table.routes if r.id == route_id), None)
        if route is None:
            return JSONResponse({"error": f"no such route {route_id!r}"}, status_code=404)
        store = await asyncio.to_thread(sources.store, table)
        epoch = await asyncio.to_thread(
            reset_evidence, store, route.id, route.mode.value, sources.clock(), table.digest
        )
        log.info("evidence_reset", route=route.id, via=allowed.value)
        if wants_html(request) or allowed is Via.COOKIE:
            headers = {"Cache-Control": "no-store"}
            return RedirectResponse(pages.route_url(route.id), status_code=303, headers=headers)
        return JSONResponse(
            {"route": epoch.route, "reset_at": epoch.started, "message": describe(epoch)}
        )

    return [
        Route(HOME, protect(ctx, overview), methods=["GET"]),
        Route(f"{PREFIX}/route/{{id}}", protect(ctx, route_page), methods=["GET"]),
        Route(f"{PREFIX}/route/{{id}}/samples", protect(ctx, route_page), methods=["GET"]),
        Route(f"{PREFIX}/route/{{id}}/reset", reset, methods=["POST"]),
        *run_routes(ctx, sources.store, HEADERS),
        *signin_routes(ctx),
    ]


def _reset_field(ctx: AdminContext, request: Request, route_id: str) -> str | None:
    """The reset form's hidden field for this viewer: a MAC of the session for a signed-in
    browser, "" on a loopback gateway without a token, None for an API client (no form)."""
    how = via(request)
    if how is Via.LOOPBACK:
        return ""
    session = request.cookies.get(signin.COOKIE)
    if how is Via.COOKIE and ctx.token and session:
        return signin.form_mac(ctx.token, session, pages.route_url(route_id, "/reset"))
    return None


async def _may_post(ctx: AdminContext, request: Request) -> Via | Response:
    """How a POST from the dashboard or an API client may act, or the refusal to answer.

    A bearer, or a loopback client without a token, as every POST of the admin surface; or a
    signed-in browser whose form carries its session's MAC for this action. A post that a page
    of another origin made (its Origin names another host) is refused whatever it carries."""
    origin = request.headers.get("origin")
    if origin is not None and urlsplit(origin).netloc != request.headers.get("host", ""):
        return JSONResponse({"error": "a post from another origin"}, status_code=403)
    trust = ctx.holder.current.trust
    how = authenticate(request, ctx.token, ctx.wall(), trust)
    session = request.cookies.get(signin.COOKIE)
    if how is not None or not ctx.token or not session:
        return how if how is not None else refusal(request, ctx.token, trust)
    fields = await _read_form(request)
    if isinstance(fields, Response):  # no form to carry the MAC: the cookie alone
        return refusal(request, ctx.token, trust)
    action = request.url.path
    if signin.verify(session, ctx.token, ctx.wall()) and signin.form_verified(
        ctx.token, session, action, fields.get("form")
    ):
        return Via.COOKIE
    return refusal(request, ctx.token, trust)


def signin_routes(ctx: AdminContext) -> list[Route]:
    """The login form, what it posts to, and sign-out: open to all, as a login page must be."""

    async def form(request: Request) -> Response:
        if not ctx.token:
            return _html(pages.no_login_page(), form=False)
        held = request.cookies.get(signin.COOKIE)
        ended = held is not None and not signin.verify(held, ctx.token, ctx.wall())
        back = _next(request.query_params.get("next"))
        return _html(pages.login_page(back, signin.LIFETIME, ended=ended), form=True)

    async def login(request: Request) -> Response:
        if not ctx.token:
            return _html(pages.no_login_page(), 409, form=False)
        fields = await _read_form(request)
        if isinstance(fields, Response):
            return fields
        back = _next(fields.get("next"))
        given = fields.get("token", "").strip().encode("utf-8")
        client = request.client.host if request.client else ""
        if not hmac.compare_digest(given, ctx.token.encode("utf-8")):
            log.warning("admin_sign_in_refused", client=client)
            error = "That is not this gateway's admin token (STRANGLER_ADMIN_TOKEN)."
            text = pages.login_page(back, signin.LIFETIME, error=error)
            refused = _html(text, 401, form=True)
            refused.headers["WWW-Authenticate"] = 'Bearer realm="strangler"'
            return refused
        log.info("admin_signed_in", client=client)
        response = RedirectResponse(back, status_code=303, headers={"Cache-Control": "no-store"})
        response.set_cookie(
            signin.COOKIE,
            signin.issue(ctx.token, ctx.wall()),
            max_age=signin.LIFETIME,
            path=PREFIX,
            secure=_over_https(request),
            httponly=True,
            samesite="strict",
        )
        return response

    async def logout(request: Request) -> Response:
        response = RedirectResponse(LOGIN, status_code=303, headers={"Cache-Control": "no-store"})
        # only when the cookie came along: SameSite=Strict keeps it off a post from another
        # site, so such a post cannot sign the operator out
        if signin.COOKIE in request.cookies:
            response.delete_cookie(
                signin.COOKIE,
                path=PREFIX,
                secure=_over_https(request),
                httponly=True,
                samesite="strict",
            )
        return response

    return [
        Route(LOGIN, form, methods=["GET"]),
        Route(LOGIN, login, methods=["POST"]),
        Route(f"{PREFIX}/logout", logout, methods=["POST"]),
    ]


def _next(raw: str | None) -> str:
    back = signin.safe_next(raw, PREFIX, HOME)
    return HOME if back.split("?")[0] in (LOGIN, f"{PREFIX}/logout") else back


def _over_https(request: Request) -> bool:
    # X-Forwarded-Proto from a TLS terminator in front; trusting it can only make the cookie
    # stricter (a browser on plain http drops a Secure cookie), never looser
    forwarded = request.headers.get("x-forwarded-proto", "").split(",")[0].strip().lower()
    return request.url.scheme == "https" or forwarded == "https"


async def _read_form(request: Request) -> dict[str, str] | Response:
    """The login form's fields (first value of each), or the 400/413/415 page to answer."""
    kind = request.headers.get("content-type", "").partition(";")[0].strip().lower()
    if kind != "application/x-www-form-urlencoded":
        return _html(pages.page("sign in", "<p>Post the login form.</p>"), 415)
    body = b""
    async for chunk in request.stream():
        body += chunk
        if len(body) > FORM_LIMIT:
            return _html(pages.page("sign in", "<p>That form is too large.</p>"), 413)
    try:
        parsed = parse_qs(
            body.decode("ascii"), keep_blank_values=True, max_num_fields=8, errors="strict"
        )
    except ValueError:  # UnicodeDecodeError too: a form is ASCII, percent-encoded
        return _html(pages.page("sign in", "<p>That form could not be read.</p>"), 400)
    return {name: values[0] for name, values in parsed.items()}


def metrics_route(ctx: AdminContext, metrics: Metrics, refresh: Callable[[], None]) -> Route:
    """`refresh` brings counters kept elsewhere (store drops) up to date before the scrape."""

    async def scrape(_request: Request) -> Response:
        refresh()
        body = await asyncio.to_thread(metrics.exposition)
        return Response(body, media_type=CONTENT_TYPE)

    return Route(f"{PREFIX}/metrics", protect(ctx, scrape), methods=["GET"])


def _html(text: str, status: int = 200, *, form: bool = False) -> HTMLResponse:
    return HTMLResponse(text, status_code=status, headers=FORM_HEADERS if form else HEADERS)


def _not_found(route_id: str, signed_in: bool) -> HTMLResponse:
    body = (
        f'<p><a href="{PREFIX}/">all routes</a></p><h1>No route {esc(route_id)}</h1>'
        "<p>It is not in the table, and nothing about it is stored.</p>"
    )
    return _html(pages.page("not found", body, signed_in=signed_in), 404, form=signed_in)
