"""Checks of a valid table against the world around it: does the native app serve its routes?

`check_native_coverage` asks a Starlette or FastAPI app's own router, route by route, whether it
would answer a sample request for every method a `native` or `shadow` route sends it. It makes no
network call and serves nothing. A route the native side answers clients for (mode native, or
shadow with `primary: native`) that the app does not serve is an error, since clients would get
the app's 404; for a shadow route whose primary is legacy it is a warning, since only the
comparison suffers.
"""

from __future__ import annotations

import importlib
from collections.abc import Sequence

from starlette.routing import BaseRoute, Host, Match, Mount
from starlette.types import Scope

from proxy.table import fill
from proxy.table.matcher import METHODS
from proxy.table.model import (
    SAFE_METHODS,
    Mode,
    PathTemplate,
    Problem,
    Route,
    RouteTable,
    SegmentKind,
    Side,
    Writes,
)

# methods tried for a `*` route: the ones an API serves; OPTIONS and TRACE belong to middleware
ANY_METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE")
_SAMPLES = {SegmentKind.STR: "x", SegmentKind.INT: "1", SegmentKind.PATH: "x/y"}
# a path no application serves on purpose: an app that takes it routes every path itself
PROBE_PATH = "/.strangler-coverage-probe/0/x"
_UNWRAP_LIMIT = 16  # middleware wrappers followed through `.app` before giving up


class AppImportError(Exception):
    """`module:attribute` could not be imported; the message says which part failed."""


def import_app(spec: str) -> object:
    """The object named by `module:attribute` (the attribute may be dotted)."""
    module_name, sep, attribute = spec.partition(":")
    if not sep or not module_name or not attribute:
        raise AppImportError(f"{spec!r} is not of the form module:attribute")
    try:
        found: object = importlib.import_module(module_name)
    except ModuleNotFoundError as exc:
        if exc.name is not None and (module_name + ".").startswith(exc.name + "."):
            raise AppImportError(f"no module named {exc.name!r} (from {spec!r})") from exc
        raise AppImportError(f"importing {module_name!r} failed: {exc}") from exc
    except Exception as exc:  # the app's own import-time error, reported rather than raised
        raise AppImportError(
            f"importing {module_name!r} failed: {type(exc).__name__}: {exc}"
        ) from exc
    for name in attribute.split("."):
        try:
            found = getattr(found, name)
        except AttributeError:
            raise AppImportError(f"module {module_name!r} has no attribute {attribute!r}") from None
    return found


def sample_path(template: PathTemplate) -> str:
    """A concrete path the template matches: literals kept, parameters given sample values."""
    return "/" + "/".join(
        segment.value if segment.kind is SegmentKind.LITERAL else _SAMPLES[segment.kind]
        for segment in template.segments
    )


def native_app_problem(table: RouteTable) -> Problem | None:
    """`native.app` that cannot be imported, or is no ASGI app, at the line of `native.app`:
    a gateway cannot start with it, so no check or reload may accept it."""
    spec = table.native.app
    if spec is None or table.native.url is not None:
        return None
    try:
        app = import_app(spec)
    except AppImportError as exc:
        return Problem(table.source, table.native.line, f"native.app: {exc}")
    if not callable(app):
        reason = f"native.app: {spec!r} is not an ASGI app (not callable)"
        return Problem(table.source, table.native.line, reason)
    return None


def check_native_coverage(table: RouteTable, app: object | None = None) -> list[Problem]:
    """Problems for native and shadow routes the native app does not serve.

    `app` defaults to importing `native.app` (which must import whether or not a route uses
    it). With `native.url` there is nothing to import and no network call is made, so the
    check is skipped with a warning.
    """
    if app is None and table.native.app is not None:
        unusable = native_app_problem(table)
        if unusable is not None:
            return [unusable]
        app = import_app(table.native.app)
    routes = [route for route in table.routes if route.mode in (Mode.NATIVE, Mode.SHADOW)]
    if not routes:
        return []
    first = routes[0]
    if app is None:
        url = table.native.url
        reason = f"native.url {url} is not called by check: coverage is not verified"
        return [Problem(table.source, first.line, reason, warning=True)]
    name = table.native.app or type(app).__name__
    app_routes = _routes_of(app)
    if app_routes is None:
        reason = f"{name} is not a Starlette or FastAPI app: coverage cannot be verified"
        return [Problem(table.source, first.line, reason, warning=True)]
    found = [
        problem
        for route in routes
        for problem in _route_coverage(table.source, route, app_routes, name)
    ]
    if len(found) == sum(len(_methods_of([r])) for r in routes) and any(
        _takes(app_routes, _scope(method, PROBE_PATH)) for method in _methods_of(routes)
    ):
        # nothing is served by a declared route and a catch-all takes everything: the app routes
        # by itself, so its router cannot tell which routes it really serves
        reason = (
            f"{name} routes every path to a catch-all (it takes {PROBE_PATH}): its router "
            "cannot tell which routes the app really serves, so coverage cannot be verified"
        )
        return [Problem(table.source, first.line, reason, warning=True)]
    return found


def native_sample(route: Route) -> str | None:
    """A path the native side is sent for this route (its native_path filled with sample
    captures); None for a regex match without a native_path, which has no sample."""
    if route.native_path is not None:
        return fill.render(route.native_path, dict.fromkeys(route.native_path.names, "1"))
    pattern = route.pattern
    if pattern is None:
        return sample_path(route.template)
    if pattern.regexes:
        return None
    return pattern.exact or pattern.prefix


def _route_coverage(
    source: str, route: Route, app_routes: Sequence[BaseRoute], name: str
) -> list[Problem]:
    path = native_sample(route)
    if path is None:
        return []
    methods = _methods_of([route])
    # only a failure the client would see is an error
    warning = route.mode is Mode.SHADOW and (
        route.shadow is None or route.shadow.primary is not Side.NATIVE
    )
    return [
        Problem(source, route.line, f"{method} {path} is not served by {name}", route.id, warning)
        for method in methods
        if not _serves(app_routes, _scope(method, path))
    ]


def _methods_of(routes: list[Route]) -> list[str]:
    methods = {m for r in routes for m in (ANY_METHODS if r.methods is None else r.methods)}
    return sorted(methods, key=METHODS.index)


def _scope(method: str, path: str) -> Scope:
    return {
        "type": "http",
        "method": method,
        "path": path,
        "root_path": "",
        "headers": [],
        "query_string": b"",
        "path_params": {},
    }


def _serves(routes: Sequence[BaseRoute], scope: Scope) -> bool:
    """As Starlette's router decides: the first route with a full match takes the request.

    A route that would also take the probe path is a fallback (say, a catch-all answering 404
    and 405 the way the legacy application does): a request only it takes is not served.
    """
    for route in routes:
        match, child_scope = route.matches(scope)
        if match is not Match.FULL:
            continue
        inner = route.routes if isinstance(route, Mount | Host) else []
        if inner:  # a mounted router: it answers only what one of its own routes matches
            return _serves(inner, {**scope, **child_scope})
        return not _is_fallback(route, scope["method"])
    return False


def _takes(routes: Sequence[BaseRoute], scope: Scope) -> bool:
    return any(route.matches(scope)[0] is Match.FULL for route in routes)


def _is_fallback(route: BaseRoute, method: str) -> bool:
    if isinstance(route, Mount | Host) and route.routes:
        return False  # judged by its own routes when a request reaches them
    match, _ = route.matches(_scope(method, PROBE_PATH))
    return match is Match.FULL


def _routes_of(app: object) -> Sequence[BaseRoute] | None:
    """The route list of a Starlette app, FastAPI app or router, looking through middleware."""
    for _ in range(_UNWRAP_LIMIT):
        for holder in (app, getattr(app, "router", None)):
            routes = getattr(holder, "routes", None)
            if isinstance(routes, list) and all(isinstance(r, BaseRoute) for r in routes):
                return routes
        app = getattr(app, "app", None)
        if app is None:
            return None
    return None


def uncompared_writes(table: RouteTable) -> list[Problem]:
    """Shadow routes whose writes can never be compared: `writes: dry_run` with
    `primary: native`. Only the native side can roll a dry run back, and there it is the side
    that writes for real, so such writes are answered by native alone (a warning: the table
    works, but its parity report will show no writes)."""
    found = []
    for route in table.routes:
        shadow = route.shadow
        if shadow is None or (shadow.writes, shadow.primary) != (Writes.DRY_RUN, Side.NATIVE):
            continue
        methods = ANY_METHODS if route.methods is None else sorted(route.methods)
        if unsafe := [m for m in methods if m not in SAFE_METHODS]:
            reason = (
                f"writes: dry_run with primary: native: {', '.join(unsafe)} requests are answered "
                "by the native side alone and never compared (legacy cannot take a dry run)"
            )
            found.append(Problem(table.source, route.line, reason, route.id, warning=True))
    return found


def inert_blocks(table: RouteTable) -> list[Problem]:
    """Routes that keep blocks their mode does not use (a note: they are kept on purpose, so
    that flipping the route back needs no other edit)."""
    found = []
    for route in table.routes:
        if route.inert:
            blocks = " and ".join(f"{name}:" for name in route.inert)
            verb = "is" if len(route.inert) == 1 else "are"
            reason = f"{blocks} {verb} kept but unused in mode {route.mode.value}"
            found.append(Problem(table.source, route.line, reason, route.id, warning=True))
    return found
