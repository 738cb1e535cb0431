"""The table's blocks around the routes: `legacy` (an HTTP URL, or PHP-FPM with root, index,
execute and params), `static.cache`, and `limits.request_body`, from the server's directives.

- The legacy side is where every legacy route's `proxy_pass` goes, or the `fastcgi_pass` of
  the PHP locations; one table has one legacy side, so several, or both kinds, are refused.
- FastCGI: `root` (the PHP location's, else the server's), `index` (the front controller:
  `try_files ... /index.php?$query_string`'s last entry, else the first `.php` of `index`),
  `execute: any` when a PHP location's regex matches any `.php` file, `index` when it matches
  only the front controller (`^/index\\.php(/|$)`), and the `fastcgi_param`s that the gateway
  does not set itself → `params`.
- `client_max_body_size`: the server's, else the http level's, else nginx's default 1m; `0`
  is no limit. A location's own value is approximated (the table has one limit).
- `expires` / `add_header Cache-Control` of a prefix location that serves files →
  `static.cache` under that prefix (FastCGI only: with an HTTP legacy side the gateway serves
  no files). Pure.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from proxy.table.nginx.actions import Action, Kind
from proxy.table.nginx.emit import line, scalar
from proxy.table.nginx.errors import NginxError
from proxy.table.nginx.model import Config, Directive, Location, Modifier, Server
from proxy.table.nginx.pcre import compile_pcre
from proxy.table.nginx.report import Report, Status

# what the gateway's FastCGI side sets itself (issue 13's CGI set and nginx's fastcgi_params)
STANDARD_PARAMS = frozenset(
    {
        *("SCRIPT_FILENAME", "SCRIPT_NAME", "DOCUMENT_ROOT", "DOCUMENT_URI", "REQUEST_URI"),
        *("QUERY_STRING", "REQUEST_METHOD", "CONTENT_TYPE", "CONTENT_LENGTH", "SERVER_PROTOCOL"),
        *("GATEWAY_INTERFACE", "SERVER_SOFTWARE", "SERVER_NAME", "SERVER_ADDR", "SERVER_PORT"),
        *("REMOTE_ADDR", "REMOTE_PORT", "HTTPS", "PATH_INFO", "REDIRECT_STATUS"),
        *("REQUEST_SCHEME", "PATH_TRANSLATED"),
    }
)
_SIZE = re.compile(r"(\d+)([kKmMgG]?)")
_UNITS = {"": ("", 1), "k": ("KiB", 1024), "m": ("MiB", 1024**2), "g": ("GiB", 1024**3)}
_EXPIRES = re.compile(r"(\d+)(ms|s|m|h|d|w|M|y)?")
_SECONDS = {None: 1, "ms": 0.001, "s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800,
            "M": 2592000, "y": 31536000}  # fmt: skip


class SidesError(NginxError):
    """The server passes to sides one routing.yaml cannot hold."""


@dataclass
class LegacyBlock:
    lines: list[str] = field(default_factory=list)  # legacy:
    static: list[str] = field(default_factory=list)  # static: (or nothing)
    limits: list[str] = field(default_factory=list)  # limits: (or nothing)


def legacy_block(
    config: Config,
    server: Server,
    decided: Sequence[Action],
    report: Report,
    whole: bool,
    legacy_url: str | None = None,
) -> LegacyBlock:
    """The blocks; `whole`: some route takes every path (a prefix route for "/");
    `legacy_url`: the legacy side as the operator names it (--legacy-url), whatever nginx
    passed to."""
    if legacy_url is not None:
        block = LegacyBlock(["legacy:", line(f"  url: {scalar(legacy_url)}", "--legacy-url")])
        block.lines.append(line("  timeout: 60s", "nginx's proxy_read_timeout default"))
        block.limits = _limits(config, server, report)
        return block
    http = sorted({a.proxy.url for a in decided if a.side == "legacy" and a.proxy}, key=str)
    fastcgi = sorted({a.fastcgi.url for a in decided if a.fastcgi is not None})
    first: dict[str, str] = {}
    for a in decided:
        address = a.fastcgi or (a.proxy if a.side == "legacy" else None)
        if address is not None:
            first.setdefault(address.url, a.why)
    whys = sorted(first.values())
    if len(http) + len(fastcgi) > 1:
        listed = "; ".join(f"{url} ({why})" for url, why in sorted(first.items()))
        raise SidesError(
            f"{server.where}: requests go to {len(first)} legacy applications: {listed}; "
            "routing.yaml has one legacy side (name the Python one with --native-upstream)"
        )
    if not http and not fastcgi and all(a.kind is not Kind.SIDE for a in decided) and whole:
        # every request is answered by a route (a server that only redirects): no side is used
        note = "every request is answered by a route; no side is called"
        block = LegacyBlock(["legacy:", line("  url: http://127.0.0.1:9", note)])
        block.limits = _limits(config, server, report)
        return block
    if not http and not fastcgi:
        raise SidesError(
            f"{server.where}: no location passes requests to an application (proxy_pass or "
            "fastcgi_pass): there is no legacy side to put behind the gateway"
        )
    block = LegacyBlock(["legacy:"])
    if http:
        block.lines.append(line(f"  url: {http[0]}", next(iter(sorted(whys)))))
        block.lines.append(line("  timeout: 60s", "nginx's proxy_read_timeout default"))
        preserve = _preserve_host(config, server, report)
        block.lines.append(line(f"  preserve_host: {scalar(preserve[0])}", preserve[1]))
        for d in _everywhere(config, server, "root"):
            report.mark(d, Status.APPROXIMATED, "with an HTTP legacy side the gateway serves "
                        "no files: requests for them go to legacy.url")  # fmt: skip
    else:
        block.lines += _fastcgi(config, server, fastcgi[0], report)
        block.static = _static_cache(server, decided, report)
        for a in decided:
            if a.fastcgi is not None and a.fastcgi.servers > 1:
                note = (f"upstream {a.fastcgi.upstream} balances {a.fastcgi.servers} servers: "
                        f"the gateway sends to the first, {a.fastcgi.url}")  # fmt: skip
                for d in config.http:
                    if d.name == "upstream" and d.args == (a.fastcgi.upstream,):
                        report.mark(d, Status.APPROXIMATED, note)
    block.limits = _limits(config, server, report)
    return block


def _everywhere(config: Config, server: Server, name: str) -> list[Directive]:
    found = [d for d in (*config.http, *server.directives) if d.name == name]
    return found + [d for d in _all_directives(server.locations) if d.name == name]


def _preserve_host(config: Config, server: Server, report: Report) -> tuple[bool, str]:
    found = [
        d
        for d in (*config.http, *server.directives, *_all_directives(server.locations))
        if d.name == "proxy_set_header" and d.args[:1] and d.args[0].lower() == "host"
    ]
    for d in found:
        preserved = d.args[1:] in (("$host",), ("$http_host",))
        status = Status.MAPPED if preserved else Status.APPROXIMATED
        note = "legacy.preserve_host: true" if preserved else "the client's Host is sent"
        report.mark(d, status, note)
    if any(d.args[1:] in (("$host",), ("$http_host",)) for d in found):
        return True, f"proxy_set_header Host ({found[0].where})"
    return False, "nginx sends the upstream's name as Host (no proxy_set_header Host)"


def _fastcgi(config: Config, server: Server, address: str, report: Report) -> list[str]:
    php = [loc for loc in _all_locations(server.locations) if loc.find("fastcgi_pass")]
    out = [line(f"  fastcgi: {scalar(address)}", f"fastcgi_pass ({php[0].where})")]
    root = _nearest(php[0], server, config, "root")
    if root is not None:
        report.mark(root, Status.MAPPED, "legacy.root")
        out.append(line(f"  root: {scalar(root.args[0])}", f"root ({root.where})"))
    index, why = _front_controller(server, config, report)
    out.append(line(f"  index: {scalar(index)}", why))
    execute = "any" if any(_runs_any_php(loc) for loc in php) else "index"
    out.append(line(f"  execute: {execute}", f"location {php[0].label} ({php[0].where})"))
    params = _params(php[0], server, config, report)
    if params:
        out.append("  params:")
        out += [line(f"    {name}: {scalar(value)}", where) for name, value, where in params]
    out.append(line("  timeout: 60s", "nginx's fastcgi_read_timeout default"))
    return out


def _runs_any_php(loc: Location) -> bool:
    if not loc.modifier.is_regex:
        return True
    regex = compile_pcre(loc.pattern, caseless=loc.modifier is Modifier.REGEX_CASELESS)
    return regex.search(b"/some/other.php") is not None


def _front_controller(server: Server, config: Config, report: Report) -> tuple[str, str]:
    for loc in _all_locations(server.locations):
        for d in loc.find("try_files"):
            last = d.args[-1] if d.args else ""
            script = last.split("?", 1)[0].split("$", 1)[0]
            if script.endswith(".php"):
                report.mark(d, Status.MAPPED, "the FastCGI side's own order: file, directory, "
                            f"then the front controller {script.lstrip('/')}")  # fmt: skip
                for index in (*server.directives, *config.http):
                    if index.name == "index":
                        report.mark(index, Status.MAPPED, "a directory's index (legacy side)")
                return script.lstrip("/"), f"try_files ({d.where})"
    indexes = [d for d in (*server.directives, *config.http) if d.name == "index"]
    for d in indexes:
        report.mark(d, Status.MAPPED, "legacy.index: the front controller, and a directory's")
    for d in indexes:
        php = [a for a in d.args if a.endswith(".php")]
        if php:
            return php[0], f"index ({d.where})"
    return "index.php", "nginx's fastcgi_index default"


def _params(
    loc: Location, server: Server, config: Config, report: Report
) -> list[tuple[str, str, str]]:
    out = []
    for level in (loc.directives, server.directives, config.http):
        found = [d for d in level if d.name == "fastcgi_param"]
        if not found:
            continue
        for d in found:
            name, value = (*d.args, "", "")[:2]
            if name in STANDARD_PARAMS:
                report.mark(d, Status.MAPPED, "set by the gateway's FastCGI side itself")
            elif "$" in value:
                report.mark(d, Status.NOT_IMPORTED, "a param built from variables")
            else:
                report.mark(d, Status.MAPPED, f"legacy.params.{name}")
                out.append((name, value, f"fastcgi_param ({d.where})"))
        break  # nginx inherits fastcgi_param only into a level that sets none
    return out


def _static_cache(server: Server, decided: Sequence[Action], report: Report) -> list[str]:
    rules: list[tuple[str, str, str]] = []
    for loc in _all_locations(server.locations):
        if loc.find("fastcgi_pass") or loc.find("proxy_pass"):
            continue
        value, where = _cache_control(loc, report)
        if value is None:
            continue
        if loc.modifier.is_regex:
            for d in (*loc.find("expires"), *loc.find("add_header")):
                report.mark(d, Status.NOT_IMPORTED,
                            "static.cache keys are path prefixes: this regex location's "
                            "Cache-Control is not set")  # fmt: skip
            continue
        rules.append((loc.pattern, value, where))
    if not rules:
        return []
    out = ["", "static:", "  cache:"]
    out += [line(f"    {scalar(prefix)}: {scalar(value)}", w) for prefix, value, w in rules]
    return out


def _cache_control(loc: Location, report: Report) -> tuple[str | None, str]:
    parts: list[str] = []
    where = ""
    for d in loc.find("add_header"):
        if d.args[:1] and d.args[0].lower() == "cache-control":
            parts.append(d.args[1] if len(d.args) > 1 else "")
            report.mark(d, Status.MAPPED, f"static.cache under {loc.pattern}")
            where = d.where
    for d in loc.find("expires"):
        value = _expires(d.args[0] if d.args else "off")
        if value is not None:
            parts.append(value)
            report.mark(d, Status.APPROXIMATED, f"static.cache under {loc.pattern}: "
                        f"Cache-Control {value} (no Expires header)")  # fmt: skip
            where = d.where
    return (", ".join(parts) if parts else None), where


def _expires(arg: str) -> str | None:
    if arg == "off":
        return None
    if arg == "max":
        return "max-age=315360000"
    if arg in ("epoch", "-1") or arg.startswith("-"):
        return "no-cache"
    found = _EXPIRES.fullmatch(arg)
    if found is None:
        return None
    return f"max-age={int(int(found[1]) * _SECONDS[found[2]])}"


def _limits(config: Config, server: Server, report: Report) -> list[str]:
    found = server.find("client_max_body_size") or tuple(
        d for d in config.http if d.name == "client_max_body_size"
    )
    for loc in _all_locations(server.locations):
        for d in loc.find("client_max_body_size"):
            report.mark(d, Status.APPROXIMATED, "the table has one body limit for every route: "
                        "the server's")  # fmt: skip
    if not found:
        return ["", "limits:", line("  request_body: 1MiB", "nginx's client_max_body_size default")]
    d = found[-1]
    size = _size(d.args[0] if d.args else "")
    if size is None:
        report.mark(d, Status.NOT_IMPORTED, "an unreadable size")
        return []
    if size == "0":
        report.mark(d, Status.MAPPED, "no limit: limits.request_body left unset")
        return []
    report.mark(d, Status.MAPPED, f"limits.request_body: {size}")
    return ["", "limits:", line(f"  request_body: {size}", f"client_max_body_size ({d.where})")]


def _size(arg: str) -> str | None:
    found = _SIZE.fullmatch(arg)
    if found is None:
        return None
    number, unit = int(found[1]), found[2].lower()
    if number == 0:
        return "0"
    name, _ = _UNITS[unit]
    return f"{number}{name}" if name else str(number)


def _nearest(loc: Location, server: Server, config: Config, name: str) -> Directive | None:
    for level in (loc.directives, server.directives, config.http):
        found = [d for d in level if d.name == name]
        if found:
            return found[-1]
    return None


def _all_locations(locations: Iterable[Location]) -> list[Location]:
    out: list[Location] = []
    for loc in locations:
        out.append(loc)
        out += _all_locations(loc.locations)
    return out


def _all_directives(locations: Iterable[Location]) -> list[Directive]:
    return [d for loc in _all_locations(locations) for d in loc.directives]


__all__ = ["Kind", "LegacyBlock", "SidesError", "legacy_block"]
