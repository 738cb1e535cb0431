"""An nginx server block → routing.yaml that sends every request where nginx sent it.

`import_server(config, server_name=..., native_upstream=...)` picks the server as nginx would
(servers.pick), orders its locations as routes (plan), decides what each route does (actions),
derives the legacy and native blocks, the body limit and the static cache rules, and writes the
table with a comment citing the nginx file:line of every setting, followed by the report of
every directive (report). Importing no route at all is an error. Pure.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from proxy.table.fill import literal
from proxy.table.nginx import actions, servers
from proxy.table.nginx.actions import Action, Context, Kind
from proxy.table.nginx.emit import RouteText, flow, line, report_lines, scalar
from proxy.table.nginx.errors import NginxError
from proxy.table.nginx.legacy import LegacyBlock, legacy_block
from proxy.table.nginx.model import Config, Directive, Location, Modifier, Server, every_location
from proxy.table.nginx.names import shortened
from proxy.table.nginx.plan import Chosen, Plan, Planned, Redirect, plan
from proxy.table.nginx.report import Entry, Report, Status
from proxy.table.nginx.upstreams import native_address

DIFFERENCES = (
    "a location whose proxy_pass has no URI part: nginx sends the request target as received "
    "(unnormalised); the gateway sends the normalised path it matched, so that no route is "
    "bypassed by spelling a path differently",
    "an encoded '/', an encoded '\\' or a NUL in the path: nginx decodes them; the gateway "
    "answers 400",
    "redirects (return 3xx, and nginx's 301 for a path one '/' short of a location): nginx "
    "sends an absolute Location (absolute_redirect on); the gateway sends the URL as written, "
    "relative when it is a path; browsers resolve both alike",
    "answers the gateway gives itself (403, 404) are its JSON error body, not nginx's HTML page",
)


class ImportError_(NginxError):
    """The server block cannot be imported (nothing to route, or sides the table cannot hold)."""


@dataclass(frozen=True, slots=True)
class ImportedRoute:
    id: str
    planned: Planned
    action: Action
    server_level: bool = False  # the server's own `return`, not a location


@dataclass(frozen=True, slots=True)
class Imported:
    text: str  # routing.yaml
    routes_text: str  # its `routes:` section alone
    server: Server
    routes: tuple[ImportedRoute, ...]
    report: tuple[Entry, ...]
    never_chosen: tuple[tuple[Location, Location], ...]

    def route(self, route_id: str) -> ImportedRoute | None:
        return next((r for r in self.routes if r.id == route_id), None)


def import_server(
    config: Config,
    *,
    server_name: str | None = None,
    port: int | None = None,
    native_upstream: str | None = None,
    legacy_url: str | None = None,
    source: str = "nginx.conf",
) -> Imported:
    config = shortened(config)
    server = servers.pick(config, server_name, port)
    report = Report()
    native = native_address(native_upstream, config) if native_upstream else None
    names = tuple(n for n in server.names if n and not n.startswith(("~", "*", ".")))
    ctx = Context(config, server, native, report, names)
    server_level = _server_return(server, ctx)
    laid = server_level or plan(server.locations)
    parents = _parents(server.locations, ())
    decided: dict[int, Action] = {}
    routes: list[ImportedRoute] = []
    used: set[str] = set()
    for planned in laid.routes:
        action = _action(planned, parents, decided, ctx)
        route_id = "server-return" if server_level else _route_id(planned, used)
        routes.append(ImportedRoute(route_id, planned, action, server_level is not None))
    if not routes:
        raise ImportError_(f"{server.where}: {server.label} has no location to import as a route")
    _mark_locations(server, routes, report)
    for loc, winner in laid.never_chosen:
        note = f"never chosen by nginx: {winner.label} ({winner.where}) always wins"
        for d in loc.directives:
            report.mark(d, Status.NOT_IMPORTED, note)
    whole = any(r.planned.prefix == "/" and not r.planned.regexes for r in routes)
    legacy = legacy_block(config, server, [r.action for r in routes], report, whole, legacy_url)
    entries = report.close(server, config.http)
    routes_text = "\n".join(["routes:", *(line for r in routes for line in _route(r).lines())])
    text = _write(source, server, routes, routes_text, legacy, native is not None, entries)
    return Imported(text, routes_text + "\n", server, tuple(routes), entries, laid.never_chosen)


def _mark_locations(server: Server, routes: list[ImportedRoute], report: Report) -> None:
    ids: dict[int, list[str]] = {}
    for route in routes:
        if route.planned.location is not None:
            ids.setdefault(id(route.planned.location), []).append(route.id)
    for loc in every_location(server.locations):
        d = Directive("location", (loc.label,), loc.file, loc.line)
        if loc.modifier is Modifier.NAMED:
            if not report.has(d):  # reached by a try_files that was imported, or by nothing
                note = "a named location is no route: try_files, error_page and rewrites reach it"
                report.mark(d, Status.NOT_IMPORTED, note)
        elif id(loc) in ids:
            listed = ", ".join(ids[id(loc)])
            routes_text = f"route{'s' if len(ids[id(loc)]) > 1 else ''} {listed}"
            report.mark(d, Status.MAPPED, routes_text)
            report.annotate(d, routes_text)
        else:
            report.mark(d, Status.NOT_IMPORTED, "no path reaches it")


def _server_return(server: Server, ctx: Context) -> Plan | None:
    """A `return` at the server level answers every request before any location is chosen."""
    found = server.find("return")
    if not found:
        return None
    whole = Location(Modifier.PREFIX, "/", found, (), found[0].file, found[0].line)
    for d in server.find("location"):
        ctx.report.mark(d, Status.NOT_IMPORTED, "never reached: the server's return answers")
    return Plan((Planned(None, "/", (), Chosen(whole)),), ())


def _parents(
    locations: tuple[Location, ...], above: tuple[Location, ...]
) -> dict[int, tuple[Location, ...]]:
    found: dict[int, tuple[Location, ...]] = {}
    for loc in locations:
        found[id(loc)] = above
        found.update(_parents(loc.locations, (*above, loc)))
    return found


def _action(
    planned: Planned,
    parents: dict[int, tuple[Location, ...]],
    decided: dict[int, Action],
    ctx: Context,
) -> Action:
    loc = planned.location
    assert loc is not None
    if isinstance(planned.choice, Redirect):
        to = literal(loc.pattern) + "{is_args}{args}"
        why = f"nginx's 301 to location {loc.label} ({loc.where}), which passes requests on"
        return Action(Kind.REDIRECT, status=301, to=to, why=why)
    if id(loc) not in decided:
        decided[id(loc)] = actions.decide(loc, parents.get(id(loc), ()), ctx)
    action = decided[id(loc)]
    if planned.exact is not None:
        return actions.for_path(action, loc, planned.exact)
    return action


def _route_id(planned: Planned, used: set[str]) -> str:
    loc = planned.location
    assert loc is not None
    if planned.exact is not None and isinstance(planned.choice, Redirect):
        base = _slug(loc.pattern) + ".slash"
    elif planned.exact is not None and not (
        loc.modifier is Modifier.EXACT and loc.pattern == planned.exact
    ):
        base = _slug(planned.exact) + ".exact"
    else:
        base = _slug(loc.pattern)
        if planned.scope is not None:
            base += ".in." + _slug(planned.scope.pattern)
    candidate, n = base, 1
    while candidate in used:
        n += 1
        candidate = f"{base}.{n}"
    used.add(candidate)
    return candidate


def _slug(pattern: str) -> str:
    if pattern == "/":
        return "root"
    words = re.findall(r"[A-Za-z0-9]+", pattern)
    text = "-".join(words).lower()[:40].strip("-")
    return text or ("dot-files" if "\\." in pattern else "location")


def _write(
    source: str,
    server: Server,
    routes: list[ImportedRoute],
    routes_text: str,
    legacy: LegacyBlock,
    native: bool,
    entries: tuple[Entry, ...],
) -> str:
    out = [
        f"# Imported by strangler import-nginx from {source}: {server.label}.",
        "# Routes are in the order that makes first-match-wins choose the location nginx chooses;",
        "# check it with: strangler import-nginx --check NGINX_FILE [PATHS... | --access-log LOG]",
        "version: 1",
        "",
        *legacy.lines,
        *legacy.static,
    ]
    native_url = next(
        (
            r.action.proxy.url
            for r in routes
            if r.action.side == "native" and r.action.proxy is not None
        ),
        None,
    )
    if native and native_url is not None:
        out += ["", "native:", line(f"  url: {native_url}", "--native-upstream")]
        out.append(line("  timeout: 60s", "nginx's proxy_read_timeout default"))
    out += legacy.limits
    out += ["", routes_text]
    title = f"What became of each directive of {server.label} and its http level"
    out += report_lines(title, entries, DIFFERENCES)
    return "\n".join(out) + "\n"


def _route(route: ImportedRoute) -> RouteText:
    planned, action = route.planned, route.action
    loc = planned.location
    assert loc is not None
    comments = [f"location {loc.label} ({loc.where})"]
    if route.server_level:
        comments = [f"the server's own return ({loc.where}), before any location"]
    if planned.scope is not None:
        comments[0] += f", for paths under {planned.scope.label} ({planned.scope.where})"
    if planned.exact is not None and planned.exact != loc.pattern:
        comments[0] = f"{planned.exact}: " + comments[0]
    text = RouteText(comments, route.id)
    text.keys.append(("match", _match(planned), ""))
    if action.kind is Kind.RESPOND:
        if action.body is None:
            text.keys.append(("respond", str(action.status), action.why))
        else:
            pairs: list[tuple[str, object]] = [("status", action.status), ("body", action.body)]
            if action.content_type:
                pairs.append(("content_type", action.content_type))
            text.keys.append(("respond", flow(pairs), action.why))
    elif action.kind is Kind.REDIRECT:
        assert action.to is not None
        text.keys.append(
            ("redirect", flow([("status", action.status), ("to", action.to)]), action.why)
        )
    else:
        text.keys.append(("mode", action.side, action.why))
        if action.path is not None:
            text.keys.append((f"{action.side}_path", scalar(action.path), ""))
    for note in action.notes:
        text.comments.append(f"approximated: {note}")
    return text


def _match(planned: Planned) -> str:
    if planned.exact is not None:
        return flow([("exact", planned.exact)])
    pairs: list[tuple[str, object]] = []
    if planned.prefix is not None:
        pairs.append(("prefix", planned.prefix))
    if planned.regexes:
        sources = [r.pattern for r in planned.regexes]
        folded = [r.modifier is Modifier.REGEX_CASELESS for r in planned.regexes]
        pairs.append(("regex", sources[0] if len(sources) == 1 else sources))
        if any(folded):
            pairs.append(("caseless", folded[0] if len(set(folded)) == 1 else folded))
    return flow(pairs)
