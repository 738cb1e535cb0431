"""The importer's report: every directive of the chosen server and its http level, once, as
mapped (the table does what nginx did), approximated (close; the difference is said) or not
imported (nothing in the table does it; why, and what to do instead), with its file:line.

The importer marks what it reads as it reads it; `Report.close` then gives every directive
left unmarked the verdict of `DEFAULTS` (by name), or "not imported" with a generic reason, so
nothing is ever dropped in silence. Pure.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, replace
from enum import Enum

from proxy.table.nginx.model import Directive, Location, Server, every_location


class Status(Enum):
    MAPPED = "mapped"
    APPROXIMATED = "approximated"
    NOT_IMPORTED = "not imported"


_RANK = {Status.MAPPED: 0, Status.APPROXIMATED: 1, Status.NOT_IMPORTED: 2}


@dataclass(frozen=True, slots=True)
class Entry:
    where: str  # file:line
    text: str  # the directive as written (arguments shortened)
    status: Status
    note: str
    file: str
    line: int


_NOTHING = "the gateway needs no such setting"
_LOGS = "the gateway logs one JSON line a request to stdout (strangler serve); route logs elsewhere"
_VARIABLES = "variables are not carried over"
_RATE = "no rate limiting in the gateway: keep it in front"
_CONNECTIONS = "no connection limiting in the gateway"
_TIMEOUTS = "the server's own timeouts apply"
_BUFFER_RESPONSE = "see limits.buffer_response"
_ADDRESSES = (
    "address rules are not carried over: every client is let through; keep them in front, or "
    "in the application"
)
_CACHE = "the gateway caches nothing"
_HEADERS = (
    "response headers are not added by the gateway: set them in the application (or keep a "
    "server in front that adds them)"
)
DEFAULTS: dict[str, tuple[Status, str]] = {
    "server_name": (Status.MAPPED, "chose the server block imported"),
    "listen": (
        Status.APPROXIMATED,
        "not part of routing.yaml: run strangler serve --host ADDRESS --port PORT",
    ),
    "ssl_certificate": (Status.APPROXIMATED, "run strangler serve --tls-cert FILE"),
    "ssl_certificate_key": (Status.APPROXIMATED, "run strangler serve --tls-key FILE"),
    "ssl_protocols": (Status.NOT_IMPORTED, "the gateway uses Python's TLS defaults (1.2+)"),
    "ssl_ciphers": (Status.NOT_IMPORTED, "the gateway uses Python's TLS defaults"),
    "upstream": (Status.MAPPED, "resolved where a *_pass names it"),
    "include": (Status.MAPPED, "followed: the included directives are listed themselves"),
    "types": (Status.MAPPED, "the gateway's static files use nginx's own mime.types"),
    "default_type": (Status.MAPPED, "the content type of bodies answered by respond routes"),
    "access_log": (Status.NOT_IMPORTED, _LOGS),
    "error_log": (Status.NOT_IMPORTED, _LOGS),
    "log_format": (Status.NOT_IMPORTED, _LOGS),
    "log_not_found": (Status.NOT_IMPORTED, _LOGS),
    "sendfile": (Status.NOT_IMPORTED, _NOTHING),
    "tcp_nopush": (Status.NOT_IMPORTED, _NOTHING),
    "tcp_nodelay": (Status.NOT_IMPORTED, _NOTHING),
    "types_hash_max_size": (Status.NOT_IMPORTED, _NOTHING),
    "server_names_hash_bucket_size": (Status.NOT_IMPORTED, _NOTHING),
    "server_tokens": (Status.NOT_IMPORTED, "the gateway sends no Server header of its own"),
    "keepalive_timeout": (Status.NOT_IMPORTED, "the gateway keeps uvicorn's keep-alive timeout"),
    "gzip": (
        Status.NOT_IMPORTED,
        "the gateway does not compress; compressed upstream answers pass through as they are",
    ),
    "charset": (
        Status.NOT_IMPORTED,
        "no charset is added to Content-Type: set it in the application",
    ),
    "add_header": (Status.NOT_IMPORTED, _HEADERS),
    "more_set_headers": (Status.NOT_IMPORTED, _HEADERS),
    "rewrite": (
        Status.NOT_IMPORTED,
        "rewrites are not carried over: requests go where the "
        "location's route sends them, unrewritten; write a route with legacy_path or "
        "native_path, or a redirect route, for each rewrite you need",
    ),
    "if": (
        Status.NOT_IMPORTED,
        "conditions are not carried over: the gateway routes on method "
        "and path only; move the condition into the application",
    ),
    "set": (Status.NOT_IMPORTED, _VARIABLES),
    "map": (Status.NOT_IMPORTED, _VARIABLES),
    "geo": (Status.NOT_IMPORTED, _VARIABLES),
    "auth_request": (
        Status.NOT_IMPORTED,
        "sub-request authentication is not done by the gateway: authenticate in the application",
    ),
    "auth_basic": (
        Status.NOT_IMPORTED,
        "the gateway asks for no password: authenticate in the application",
    ),
    "auth_basic_user_file": (Status.NOT_IMPORTED, "the gateway asks for no password"),
    "limit_req": (Status.NOT_IMPORTED, _RATE),
    "limit_req_zone": (Status.NOT_IMPORTED, _RATE),
    "limit_conn": (Status.NOT_IMPORTED, _CONNECTIONS),
    "limit_conn_zone": (Status.NOT_IMPORTED, _CONNECTIONS),
    "error_page": (
        Status.NOT_IMPORTED,
        "error pages are the sides' own: a side's error passes "
        "through as it is, and the gateway's own errors are JSON",
    ),
    "satisfy": (Status.NOT_IMPORTED, "address and password rules are not carried over"),
    "expires": (Status.NOT_IMPORTED, "Cache-Control is set only for static files (static.cache)"),
    "proxy_redirect": (
        Status.APPROXIMATED,
        "the gateway rewrites a Location pointing at an upstream to the public host by itself",
    ),
    "proxy_http_version": (Status.MAPPED, "the gateway speaks HTTP/1.1 with keep-alive upstream"),
    "proxy_buffering": (
        Status.APPROXIMATED,
        "the gateway reads up to limits.buffer_response ahead of a slow client, then streams",
    ),
    "proxy_buffers": (Status.APPROXIMATED, _BUFFER_RESPONSE),
    "proxy_buffer_size": (Status.APPROXIMATED, _BUFFER_RESPONSE),
    "proxy_request_buffering": (Status.APPROXIMATED, "see limits.buffer_request"),
    "client_body_buffer_size": (
        Status.APPROXIMATED,
        "request bodies are held in memory up to limits.buffer_request, then spooled to a file",
    ),
    "client_body_timeout": (Status.NOT_IMPORTED, _TIMEOUTS),
    "client_header_timeout": (Status.NOT_IMPORTED, _TIMEOUTS),
    "send_timeout": (Status.NOT_IMPORTED, _TIMEOUTS),
    "fastcgi_index": (Status.MAPPED, "legacy.index"),
    "fastcgi_split_path_info": (Status.MAPPED, "the FastCGI side splits PATH_INFO after .php"),
    "fastcgi_intercept_errors": (
        Status.NOT_IMPORTED,
        "PHP's error answers pass through as they are",
    ),
    "fastcgi_hide_header": (
        Status.NOT_IMPORTED,
        "headers from PHP pass through: remove them in PHP (expose_php = Off for X-Powered-By)",
    ),
    "fastcgi_buffers": (Status.APPROXIMATED, _BUFFER_RESPONSE),
    "fastcgi_buffer_size": (Status.APPROXIMATED, _BUFFER_RESPONSE),
    "allow": (Status.NOT_IMPORTED, _ADDRESSES),
    "deny": (Status.NOT_IMPORTED, _ADDRESSES),
    "index": (Status.APPROXIMATED, "a directory's index is the legacy side's to serve"),
    "alias": (
        Status.APPROXIMATED,
        "the gateway serves files from legacy.root only: these requests go to the legacy side",
    ),
    "autoindex": (Status.NOT_IMPORTED, "no directory listings"),
    "sub_filter": (Status.NOT_IMPORTED, "bodies are not rewritten"),
    "proxy_cache": (Status.NOT_IMPORTED, _CACHE),
    "proxy_cache_path": (Status.NOT_IMPORTED, _CACHE),
    "fastcgi_cache": (Status.NOT_IMPORTED, _CACHE),
    "open_file_cache": (
        Status.MAPPED,
        "the static side keeps small files in memory, checked against their mtime",
    ),
    "etag": (Status.MAPPED, "the static side sends nginx's ETag"),
}
_GENERIC = "no equivalent in the gateway"
# what was written where: two directives may share a line
_Key = tuple[str, int, str, tuple[str, ...]]


def _key(d: Directive) -> _Key:
    return (d.file, d.line, d.name, d.args)


class Report:
    """The verdicts so far, one per directive (a stronger verdict replaces a weaker one)."""

    def __init__(self) -> None:
        self._entries: dict[_Key, Entry] = {}

    def mark(self, d: Directive, status: Status, note: str) -> None:
        key = _key(d)
        old = self._entries.get(key)
        if old is not None and _RANK[old.status] >= _RANK[status]:
            return
        self._entries[key] = Entry(d.where, _written(d), status, note, d.file, d.line)

    def annotate(self, d: Directive, text: str) -> None:
        """Add `text` to the verdict already given (a location's routes to its approximation)."""
        key = _key(d)
        old = self._entries.get(key)
        if old is not None and text not in old.note:
            self._entries[key] = replace(old, note=f"{text}; {old.note}")

    def has(self, d: Directive) -> bool:
        return _key(d) in self._entries

    def close(self, server: Server, http: Iterable[Directive]) -> tuple[Entry, ...]:
        """Every directive of `server` and `http`, each with its verdict, in the order nginx
        reads them (an included file's directives where the include stands)."""
        order: list[_Key] = []
        for d in _directives(server, http):
            if not self.has(d):
                status, note = DEFAULTS.get(d.name, (Status.NOT_IMPORTED, _GENERIC))
                self.mark(d, status, note)
            order.append(_key(d))
        listed = dict.fromkeys(order)
        rest = [key for key in self._entries if key not in listed]
        return tuple(self._entries[key] for key in (*listed, *rest))


def _directives(server: Server, http: Iterable[Directive]) -> list[Directive]:
    found = [d for d in http if d.name != "server"]
    found += server.directives
    found += [d for loc in every_location(server.locations) for d in _located(loc)]
    return found


def _located(loc: Location) -> list[Directive]:
    return [Directive("location", (loc.label,), loc.file, loc.line), *loc.directives]


def _written(d: Directive) -> str:
    if d.name == "location":
        return f"location {d.args[0]}"
    text = " ".join([d.name, *(_quoted(a) for a in d.args)])
    if d.block is not None:
        text += " { ... }"
    return text if len(text) <= 70 else text[:67] + "..."


def _quoted(arg: str) -> str:
    if arg and not any(c in arg for c in " \t\n;{}\"'"):
        return arg
    return '"' + arg.replace("\\", "\\\\").replace('"', '\\"') + '"'
