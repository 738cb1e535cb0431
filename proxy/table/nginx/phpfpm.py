"""The legacy side as PHP-FPM: routing.yaml's `legacy` FastCGI keys and `static.cache`.

- `fastcgi` (the PHP location's `fastcgi_pass`), `root` (the PHP location's, else the
  server's), `index` (the front controller: `try_files ... /index.php?$query_string`'s last
  entry, else the first `.php` of `index`), `execute: any` when a PHP location's regex matches
  any `.php` file, `index` when it matches only the front controller (`^/index\\.php(/|$)`),
  and the `fastcgi_param`s the gateway does not set itself → `params`.
- `expires` / `add_header Cache-Control` of a prefix location that serves files →
  `static.cache` under that prefix (with an HTTP legacy side the gateway serves no files, so
  this is for PHP-FPM only). Pure.
"""

from __future__ import annotations

import re

from proxy.table.nginx.emit import line, scalar
from proxy.table.nginx.model import (
    Config,
    Directive,
    Location,
    Modifier,
    Server,
    every_location,
)
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
_EXPIRES = re.compile(r"(\d+)(ms|s|m|h|d|w|M|y)?")
_SECONDS = {
    None: 1,
    "ms": 0.001,
    "s": 1,
    "m": 60,
    "h": 3600,
    "d": 86400,
    "w": 604800,
    "M": 2592000,
    "y": 31536000,
}


def fastcgi_lines(config: Config, server: Server, address: str, report: Report) -> list[str]:
    php = [loc for loc in every_location(server.locations) if loc.find("fastcgi_pass")]
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
    for loc in every_location(server.locations):
        for d in loc.find("try_files"):
            last = d.args[-1] if d.args else ""
            script = last.split("?", 1)[0].split("$", 1)[0]
            if script.endswith(".php"):
                report.mark(
                    d,
                    Status.MAPPED,
                    "the FastCGI side's own order: file, directory, "
                    f"then the front controller {script.lstrip('/')}",
                )
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


def static_cache(server: Server, report: Report) -> list[str]:
    rules: list[tuple[str, str, str]] = []
    for loc in every_location(server.locations):
        if loc.find("fastcgi_pass") or loc.find("proxy_pass"):
            continue
        value, where = _cache_control(loc, report)
        if value is None:
            continue
        if loc.modifier.is_regex:
            for d in (*loc.find("expires"), *loc.find("add_header")):
                report.mark(
                    d,
                    Status.NOT_IMPORTED,
                    "static.cache keys are path prefixes: this regex location's "
                    "Cache-Control is not set",
                )
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
            report.mark(
                d,
                Status.APPROXIMATED,
                f"static.cache under {loc.pattern}: Cache-Control {value} (no Expires header)",
            )
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


def _nearest(loc: Location, server: Server, config: Config, name: str) -> Directive | None:
    for level in (loc.directives, server.directives, config.http):
        found = [d for d in level if d.name == name]
        if found:
            return found[-1]
    return None
