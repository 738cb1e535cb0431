"""The table's blocks around the routes: `legacy` (an HTTP URL, or PHP-FPM with root, index,
execute and params), `static.cache`, and `limits.request_body`, from the server's directives.

- The legacy side is where every legacy route's `proxy_pass` goes, or the `fastcgi_pass` of
  the PHP locations; one table has one legacy side, so several, or both kinds, are refused.
- FastCGI (PHP-FPM): the block and `static.cache` are `phpfpm`'s.
- `client_max_body_size`: the server's, else the http level's, else nginx's default 1m; `0`
  is no limit. A location's own value is approximated (the table has one limit).
- `proxy_set_header`: Host decides `preserve_host`; the X-Forwarded-* ones are the gateway's
  own work. Pure.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from proxy.table.nginx import phpfpm
from proxy.table.nginx.actions import Action, Kind
from proxy.table.nginx.emit import line, scalar
from proxy.table.nginx.errors import NginxError
from proxy.table.nginx.model import Config, Directive, Location, Server, every_location
from proxy.table.nginx.report import Report, Status

_SIZE = re.compile(r"(\d+)([kKmMgG]?)")
_UNITS = {"": ("", 1), "k": ("KiB", 1024), "m": ("MiB", 1024**2), "g": ("GiB", 1024**3)}


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
            report.mark(
                d,
                Status.APPROXIMATED,
                "not legacy.root: the gateway would answer the "
                "files under it for every legacy route, where nginx proxies; they are asked "
                "of legacy.url",
            )
    else:
        block.lines += phpfpm.fastcgi_lines(config, server, fastcgi[0], report)
        block.static = phpfpm.static_cache(server, report)
        for a in decided:
            if a.fastcgi is not None and a.fastcgi.servers > 1:
                note = (
                    f"upstream {a.fastcgi.upstream} balances {a.fastcgi.servers} servers: "
                    f"the gateway sends to the first, {a.fastcgi.url}"
                )
                for d in config.http:
                    if d.name == "upstream" and d.args == (a.fastcgi.upstream,):
                        report.mark(d, Status.APPROXIMATED, note)
    block.limits = _limits(config, server, report)
    mark_proxy_headers(config, server, report)
    return block


def _everywhere(config: Config, server: Server, name: str) -> list[Directive]:
    found = [d for d in (*config.http, *server.directives) if d.name == name]
    return found + [d for d in _all_directives(server.locations) if d.name == name]


FORWARDED = frozenset(
    {
        "x-forwarded-for",
        "x-forwarded-proto",
        "x-forwarded-host",
        "x-real-ip",
        "x-forwarded-port",
        "forwarded",
    }
)


def mark_proxy_headers(config: Config, server: Server, report: Report) -> None:
    """What becomes of each `proxy_set_header` other than Host."""
    for d in (*config.http, *server.directives, *_all_directives(server.locations)):
        if d.name != "proxy_set_header" or not d.args or d.args[0].lower() == "host":
            continue
        name = d.args[0].lower()
        if name in FORWARDED:
            report.mark(
                d,
                Status.MAPPED,
                "the gateway sets X-Forwarded-For, -Proto, -Host "
                "and X-Real-IP itself (edge.trusted_proxies: whose to believe)",
            )
        elif name in ("connection", "upgrade"):
            report.mark(
                d,
                Status.APPROXIMATED,
                "the gateway keeps upstream connections alive itself; websockets are not proxied",
            )
        else:
            report.mark(
                d,
                Status.NOT_IMPORTED,
                "request headers are not added: send them from "
                "the client or set them in the application",
            )


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


def _limits(config: Config, server: Server, report: Report) -> list[str]:
    found = server.find("client_max_body_size") or tuple(
        d for d in config.http if d.name == "client_max_body_size"
    )
    for loc in every_location(server.locations):
        for d in loc.find("client_max_body_size"):
            report.mark(
                d, Status.APPROXIMATED, "the table has one body limit for every route: the server's"
            )
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


def _all_directives(locations: Iterable[Location]) -> list[Directive]:
    return [d for loc in every_location(locations) for d in loc.directives]


__all__ = ["Kind", "LegacyBlock", "SidesError", "legacy_block"]
