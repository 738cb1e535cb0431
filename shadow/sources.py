"""Where a replay's requests come from: access logs, or the requests routes recorded.

    read_access_log(path)   nginx's `combined` format, or the gateway's own JSON access log,
                            a line at a time (the format is told per line); gzip-compressed
                            (rotated) logs are read as they are, known by their first bytes
    from_recorded(rows)     the requests a route's `record:` kept in the parity store

Each gives `Request`s (what to send, and what the source knows of the answer it got then) or
`Unreadable` (a line that is not a request, counted by the replay). Access logs carry no
headers and no bodies: a replayed log line is the method and the target alone, plus the
operator's `--header`s. Lines of the gateway's log other than access lines, and its admin
surface's, are not the application's requests and are skipped without a count. The side that
answered: nginx's upstream is the legacy side; in the gateway's log, mode legacy or shadow
(whose primary is legacy unless the route says otherwise) is legacy, native is native.

Parsing is pure (`parse_line`); reading a file is the only I/O here.
"""

from __future__ import annotations

import gzip
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import IO, cast
from urllib.parse import quote

import orjson

from shadow.records import Recorded

_GZIP_MAGIC = b"\x1f\x8b"
# $remote_addr - $remote_user [$time_local] "$request" $status $body_bytes_sent "$http_referer"
# "$http_user_agent"; nginx writes `"` and bytes outside printable ASCII as \xHH
_COMBINED = re.compile(
    r'(?P<addr>\S+) \S+ (?P<user>\S+) \[(?P<time>[^\]]+)\] "(?P<request>(?:[^"\\]|\\.)*)" '
    r"(?P<status>\d{3}) (?P<bytes>\d+|-)"
)
_REQUEST = re.compile(r"(?P<method>[A-Z][A-Z-]*) (?P<target>\S+)(?: HTTP/\d(?:\.\d)?)?")
_ESCAPE = re.compile(r"\\x([0-9A-Fa-f]{2})")
_MONTHS = {m: i for i, m in enumerate(
    ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"), 1
)}  # fmt: skip
_TIME_LOCAL = re.compile(r"(\d{2})/(\w{3})/(\d{4}):(\d{2}):(\d{2}):(\d{2}) ([+-])(\d{2})(\d{2})")
# what proxy.paths.encode leaves as it is in a normalised path (RFC 3986 pchar and "/")
_PATH_SAFE = "/!$&'()*+,;=:@-._~"


@dataclass(frozen=True, slots=True)
class Request:
    """One request to replay, and what its source knows of it."""

    method: str
    target: str  # path and query, percent-encoded as sent on the wire
    origin: str  # where it was read: "access.log:12", "recorded #45"
    at: float | None = None  # when it was served (epoch seconds)
    headers: tuple[tuple[str, str], ...] = ()  # names lower-cased; never credentials
    body: bytes = b""
    status: int | None = None  # the status the client got then
    side: str | None = None  # legacy | native: the side that gave that answer, when known
    route: str | None = None  # the route the source says it took, when it says
    recorded: int | None = None  # the recorded request's row number, when it is one


@dataclass(frozen=True, slots=True)
class Unreadable:
    origin: str
    why: str


Line = Request | Unreadable


def read_access_log(path: str | Path) -> Iterator[Line]:
    """Every request line of an access log, plain or gzip-compressed."""
    name = Path(path).name
    with _open(Path(path)) as lines:
        for number, raw in enumerate(lines, 1):
            text = raw.decode("utf-8", "replace").strip()
            if text:
                found = parse_line(text, f"{name}:{number}")
                if found is not None:
                    yield found


def _open(path: Path) -> IO[bytes]:
    with path.open("rb") as probe:
        compressed = probe.read(2) == _GZIP_MAGIC
    if compressed:
        return cast(IO[bytes], gzip.open(path, "rb"))
    return path.open("rb")


def parse_line(text: str, origin: str) -> Line | None:
    """A request, an unreadable line, or None for a gateway log line that is not an access."""
    if text.startswith("{"):
        return _json_line(text, origin)
    return _combined_line(text, origin)


def _combined_line(text: str, origin: str) -> Line:
    found = _COMBINED.match(text)
    if found is None:
        return Unreadable(origin, "not nginx's combined format")
    request = _ESCAPE.sub(lambda m: chr(int(m[1], 16)), found["request"])
    parts = _REQUEST.fullmatch(request)
    if parts is None or not parts["target"].startswith("/"):
        return Unreadable(origin, f"not a request line: {request[:80]!r}")
    at = _time_local(found["time"])
    if at is None:
        return Unreadable(origin, f"bad time {found['time']!r}")
    status = int(found["status"])
    return Request(parts["method"], parts["target"], origin, at, status=status, side="legacy")


def _time_local(text: str) -> float | None:
    found = _TIME_LOCAL.fullmatch(text)
    if found is None or found[2] not in _MONTHS:
        return None
    day, _, year, hour, minute, second, sign, off_h, off_m = found.groups()
    offset = timedelta(hours=int(off_h), minutes=int(off_m)) * (1 if sign == "+" else -1)
    try:
        when = datetime(
            int(year), _MONTHS[found[2]], int(day), int(hour), int(minute), int(second),
            tzinfo=timezone(offset),
        )  # fmt: skip
    except ValueError:
        return None
    return when.timestamp()


def _json_line(text: str, origin: str) -> Line | None:
    try:
        line = orjson.loads(text)
    except orjson.JSONDecodeError:
        return Unreadable(origin, "not JSON")
    if not isinstance(line, dict) or line.get("event") != "access" or line.get("mode") == "admin":
        return None  # another line of the gateway's log, or its own admin surface
    method, path, query = line.get("method"), line.get("path"), line.get("query") or ""
    if not (isinstance(method, str) and isinstance(path, str) and path.startswith("/")):
        return Unreadable(origin, "an access line without method and path")
    if line.get("mode") == "-" or not isinstance(query, str):  # refused before any side saw it
        return Unreadable(origin, "a request the gateway refused")
    target = quote(path, safe=_PATH_SAFE) + (f"?{query}" if query else "")
    mode, route = line.get("mode"), line.get("route")
    status = line.get("status") if isinstance(line.get("status"), int) else None
    return Request(
        method, target, origin, _iso(line.get("timestamp")), status=status,
        side={"legacy": "legacy", "shadow": "legacy", "native": "native"}.get(str(mode)),
        route=route if isinstance(route, str) and route not in ("-", "(unmatched)") else None,
    )  # fmt: skip


def _iso(value: object) -> float | None:
    if not isinstance(value, str):
        return None
    try:
        when = datetime.fromisoformat(value)
    except ValueError:
        return None
    return (when if when.tzinfo else when.replace(tzinfo=UTC)).timestamp()


def from_recorded(rows: Iterable[Recorded]) -> Iterator[Request]:
    for r in rows:
        yield Request(
            r.method, r.target, f"recorded #{r.id}", r.at, r.headers, r.body, r.status, r.side,
            r.route, r.id,
        )  # fmt: skip
