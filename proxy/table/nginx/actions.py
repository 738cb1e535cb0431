"""What nginx does with a request once it has chosen a location, as a route's keys.

In nginx's phase order: a `return` answers first (rewrite phase); then the access rules
(`deny all`, inherited from the enclosing levels when the location has none) answer 403, and
an `internal` location 404; then the location's handler: `proxy_pass` sends the request to the
legacy or the native side (a URI part replaces the location's name: `legacy_path` /
`native_path`), `fastcgi_pass` to the legacy side's FastCGI, anything else (files from root,
`try_files`) to the legacy side. Whatever cannot be carried over is marked on the report. Pure.
"""

from __future__ import annotations

import re
from collections.abc import Sequence, Set
from dataclasses import dataclass, field, replace
from enum import Enum

from proxy.table.fill import literal, parse_fill
from proxy.table.nginx import upstreams
from proxy.table.nginx.model import Config, Directive, Location, Modifier, Server
from proxy.table.nginx.pcre import compile_pcre
from proxy.table.nginx.report import Report, Status
from proxy.table.nginx.upstreams import Address

REDIRECTS = (301, 302, 303, 307, 308)
# nginx's variables a redirect can carry over, and the gateway's names for them
VARIABLES = {
    "request_uri": "request_uri",
    "uri": "uri",
    "document_uri": "uri",
    "args": "args",
    "query_string": "args",
    "is_args": "is_args",
    "host": "host",
    "scheme": "scheme",
}
_VARIABLE = re.compile(r"\$(?:\{([A-Za-z0-9_]+)\}|([A-Za-z0-9_]+))")
_OTHER_PASSES = ("uwsgi_pass", "scgi_pass", "grpc_pass", "memcached_pass")


class Kind(Enum):
    SIDE = "side"
    RESPOND = "respond"
    REDIRECT = "redirect"


@dataclass(frozen=True, slots=True)
class Action:
    kind: Kind
    side: str = "legacy"  # legacy | native (Kind.SIDE)
    path: str | None = None  # a fill: the path the side is sent; None: the path matched
    unparsed: bool = False  # nginx sends the target as received (proxy_pass without a URI)
    status: int = 0
    body: str | None = None
    content_type: str | None = None
    to: str | None = None  # a fill: the Location of a redirect
    why: str = ""  # the directive that decided, as written, with its file:line
    fastcgi: Address | None = None
    proxy: Address | None = None
    notes: tuple[str, ...] = field(default=())


@dataclass
class Context:
    """What deciding an action needs beyond the location: the configuration, the server, the
    native side's address, and the report to mark."""

    config: Config
    server: Server
    native: Address | None
    report: Report
    server_names: tuple[str, ...] = ()


def decide(loc: Location, parents: Sequence[Location], ctx: Context) -> Action:
    """The action of `loc` (nested in `parents`, outermost first)."""
    for d in loc.find("return"):
        return _return(d, loc, ctx)
    rules = _access(loc, parents, ctx)
    if rules is not None:
        return rules
    internal = next((d for x in (loc, *reversed(parents)) for d in x.find("internal")), None)
    if internal is not None:
        ctx.report.mark(internal, Status.MAPPED, "a route answering 404 (internal)")
        return Action(Kind.RESPOND, status=404, why=_why(internal))
    for d in loc.find("proxy_pass"):
        return _proxy(d, loc, ctx)
    for d in loc.find("fastcgi_pass"):
        address = upstreams.fastcgi_pass(d, ctx.config)
        notes = _php_notes(loc)
        status = Status.APPROXIMATED if notes else Status.MAPPED
        ctx.report.mark(d, status, "; ".join([f"legacy.fastcgi {address.url}", *notes]))
        return Action(Kind.SIDE, fastcgi=address, why=_why(d), notes=tuple(notes))
    fallback = _named_fallback(loc, ctx)
    if fallback is not None:
        return fallback
    for name in _OTHER_PASSES:
        for d in loc.find(name):
            note = f"{name} is not a side the gateway speaks: requests go to the legacy side"
            ctx.report.mark(d, Status.NOT_IMPORTED, note)
            return Action(Kind.SIDE, why=_why(d), notes=(note,))
    why = f"location {loc.label} ({loc.where}): files and try_files"
    if loc.find("try_files"):
        return Action(Kind.SIDE, why=why)
    note = (
        "nginx answers files alone here (404 for a missing one); through the gateway a "
        "missing file is the legacy application's to answer"
    )
    ctx.report.mark(_location(loc), Status.APPROXIMATED, note)
    return Action(Kind.SIDE, why=why, notes=(note,))


def _location(loc: Location) -> Directive:
    """The report's entry for a location itself."""
    return Directive("location", (loc.label,), loc.file, loc.line)


def _php_notes(loc: Location) -> list[str]:
    """How the gateway's FastCGI side runs scripts where this PHP location would not."""
    if not loc.modifier.is_regex:
        return []
    regex = compile_pcre(loc.pattern, caseless=loc.modifier is Modifier.REGEX_CASELESS)
    if regex.search(b"/a.php/rest") is not None or loc.find("fastcgi_split_path_info"):
        return []
    return [
        "the gateway runs /a.php/rest as /a.php with PATH_INFO /rest (as Debian's "
        "snippets/fastcgi-php.conf); this location's regex sends /a.php/rest elsewhere"
    ]


def _named_fallback(loc: Location, ctx: Context) -> Action | None:
    """`try_files $uri ... @app` whose named location proxies: the request goes where that
    location sends it (the files nginx would answer first are the legacy side's then)."""
    for d in loc.find("try_files"):
        last = d.args[-1] if d.args else ""
        named = next((x for x in ctx.server.locations if x.pattern == last), None)
        if not last.startswith("@") or named is None:
            continue
        for passed in named.find("proxy_pass"):
            action = _proxy(passed, named, ctx)
            note = (
                f"try_files answers files under root before {last}: the gateway asks the "
                f"{action.side} side for them too"
            )
            ctx.report.mark(d, Status.APPROXIMATED, note)
            ctx.report.mark(_location(named), Status.MAPPED, f"reached by try_files ({d.where})")
            return replace(action, notes=(*action.notes, note))
    return None


def for_path(action: Action, loc: Location, path: str) -> Action:
    """`action` for one known path: captures filled in at import (an exact route has none)."""
    values: dict[str, str] = {}
    if loc.modifier.is_prefix:
        values["rest"] = path[len(loc.pattern) :]
    elif loc.modifier.is_regex:
        found = compile_pcre(loc.pattern, caseless=loc.modifier is Modifier.REGEX_CASELESS)
        match = found.search(path.encode("utf-8", "surrogateescape"))
        if match is not None:
            groups = {str(i): v for i, v in enumerate(match.groups(), start=1)}
            for name, value in {**groups, **match.groupdict()}.items():
                values[name] = (value or b"").decode("utf-8", "surrogateescape")
    return replace(
        action,
        path=_filled(action.path, values),
        to=_filled(action.to, values, keep=set(VARIABLES.values())),
    )


def _filled(text: str | None, values: dict[str, str], keep: Set[str] = frozenset()) -> str | None:
    """The fill `text` with the names in `values` (but not those in `keep`) written in."""
    if text is None:
        return None
    parts = parse_fill(text, path=False).parts
    out = [literal(parts[0])]
    for i in range(1, len(parts), 2):
        name = parts[i]
        known = name in values and name not in keep
        out.append(literal(values[name]) if known else "{" + name + "}")
        out.append(literal(parts[i + 1]))
    return "".join(out)


def _why(d: Directive) -> str:
    return f"{' '.join([d.name, *d.args])} ({d.where})"


def _return(d: Directive, loc: Location, ctx: Context) -> Action:
    args = d.args
    text: str | None
    if len(args) == 1 and not args[0].isdigit():
        code, text = 302, args[0]
    else:
        code, text = int(args[0]), (args[1] if len(args) > 1 else None)
    if code in REDIRECTS and text is not None:
        to, notes = _translate(text, loc, ctx)
        ctx.report.mark(
            d,
            Status.APPROXIMATED if notes else Status.MAPPED,
            "; ".join(notes) or f"a redirect route ({code})",
        )
        return Action(Kind.REDIRECT, status=code, to=to, why=_why(d), notes=tuple(notes))
    notes = []
    if text is not None and "$" in text:
        notes.append("the body's variables are sent as written")
    if code == 444:
        notes.append("444 closes the connection in nginx; the gateway answers 444, empty")
    if code < 200:
        notes.append(f"{code} is not a final status: the gateway answers 500")
        code = 500
    ctx.report.mark(
        d,
        Status.APPROXIMATED if notes else Status.MAPPED,
        "; ".join(notes) or f"a route answering {code}",
    )
    content_type = _inherited(loc, "default_type", ctx)
    return Action(
        Kind.RESPOND,
        status=code,
        body=text,
        content_type=content_type.args[0] if content_type and text is not None else None,
        why=_why(d),
        notes=tuple(notes),
    )


def _translate(text: str, loc: Location, ctx: Context) -> tuple[str, list[str]]:
    """An nginx URL with variables as a fill; notes for what is not carried over."""
    notes: list[str] = []
    captures = _captures(loc)
    out: list[str] = []
    end = 0
    for found in _VARIABLE.finditer(text):
        out.append(literal(text[end : found.start()]))
        end = found.end()
        name = found.group(1) or found.group(2)
        if name in VARIABLES:
            out.append("{" + VARIABLES[name] + "}")
        elif name == "server_name" and ctx.server_names:
            out.append(literal(ctx.server_names[0]))
        elif name == "http_host":
            out.append("{host}")
            notes.append("$http_host becomes {host}: the Host without its port")
        elif name in captures:
            out.append("{" + name + "}")
        else:
            out.append(literal(found.group()))
            notes.append(f"${name} is not a variable the gateway fills: sent as written")
    out.append(literal(text[end:]))
    return "".join(out), notes


def _captures(loc: Location) -> set[str]:
    if not loc.modifier.is_regex:
        return set()
    found = compile_pcre(loc.pattern, caseless=loc.modifier is Modifier.REGEX_CASELESS)
    return set(found.compiled.groupindex) | {str(i) for i in range(1, found.compiled.groups + 1)}


def _access(loc: Location, parents: Sequence[Location], ctx: Context) -> Action | None:
    """`deny all` in force (the nearest level with allow/deny rules decides)."""
    levels: list[Sequence[Directive]] = [x.directives for x in (loc, *reversed(parents))]
    levels += [ctx.server.directives, ctx.config.http]
    for level in levels:
        rules = [d for d in level if d.name in ("allow", "deny")]
        if not rules:
            continue
        first = rules[0]
        if first.args == ("all",):
            if first.name == "allow":
                ctx.report.mark(first, Status.MAPPED, "every client is let through, as here")
                return None
            ctx.report.mark(first, Status.MAPPED, "a route answering 403")
            return Action(Kind.RESPOND, status=403, why=_why(first))
        return None  # address rules: reported as not imported by their defaults
    return None


def _inherited(loc: Location, name: str, ctx: Context) -> Directive | None:
    for level in (loc.directives, ctx.server.directives, ctx.config.http):
        found = [d for d in level if d.name == name]
        if found:
            return found[-1]
    return None


def _proxy(d: Directive, loc: Location, ctx: Context) -> Action:
    passed = upstreams.proxy_pass(d, ctx.config)
    native = ctx.native is not None and upstreams.same_side(passed.address, ctx.native)
    side = "native" if native else "legacy"
    notes: list[str] = []
    path = None
    if passed.uri is not None:
        # nginx replaces the location's name with the URI part (an exact location: all of it)
        rest = "{rest}" if loc.modifier.is_prefix else ""
        path = literal(passed.uri) + rest
    if passed.address.servers > 1:
        notes.append(
            f"upstream {passed.address.upstream} balances {passed.address.servers} servers: "
            f"the gateway sends to the first, {passed.address.url}"
        )
    where = f"{side}.url" if not native else "native.url"
    mapped = f"a {side} route ({where} {passed.address.url})"
    if path is not None:
        mapped += f", {side}_path {path}"
    ctx.report.mark(d, Status.APPROXIMATED if notes else Status.MAPPED, "; ".join([mapped, *notes]))
    return Action(
        Kind.SIDE,
        side=side,
        path=path,
        unparsed=passed.uri is None,
        proxy=passed.address,
        why=_why(d),
        notes=tuple(notes),
    )
