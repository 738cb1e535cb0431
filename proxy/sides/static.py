"""The legacy side's static files: a file under the document root answered as nginx answers it.

The resolver has decided the request is for an existing regular file and stat'ed it;
`serve_file` answers in raw ASGI messages, with nginx 1.22's static module and filters
(`gzip_static on; gzip_vary on;`) as the model, so browser and CDN caches survive the cut-over:

- GET and HEAD; any other method is refused with 405 (`Allow: GET, HEAD`). `Content-Type` from
  nginx's `mime.types` (proxy.sides.mime), `Content-Length`, `Last-Modified`, nginx's `ETag`,
  `Accept-Ranges: bytes`, and `Cache-Control` for the longest matching prefix of the URL path.
- Preconditions (412, 304) and `Range` (206, multipart/byteranges, 416) as in
  proxy.sides.conditions. A 304 keeps `Last-Modified`, `ETag`, `Vary` and `Cache-Control`.
- A precompressed sibling (`app.js.br`, `app.js.gz`; `app.js.zst` where the rules name zstd)
  answers when the client takes its coding, with `Content-Encoding` and the sibling's own
  validators; whenever a sibling exists the answer carries `Vary: Accept-Encoding`. As nginx's
  gzip_static, HTTP/1.0 clients get the file itself and a precompressed answer ignores `Range`.

`redirect_to_directory` answers a directory asked for without its trailing slash: nginx's 301
to the absolute URL. The gateway's own refusals (405, 412, 416, 404, 403) are its JSON errors.
"""

from __future__ import annotations

import os
import stat as modes
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from starlette.types import Receive, Scope, Send

from proxy.sides import conditions as cond
from proxy.sides.filecache import FileCache, Loaded, Opened, Piece, open_file, stream_file
from proxy.sides.mime import content_type
from proxy.sides.replies import (
    Header,
    common_headers,
    moved_permanently,
    multipart,
    refuse,
    respond,
)

KiB = 1024
SUFFIXES = {"br": ".br", "zstd": ".zst", "gzip": ".gz"}  # a coding's sibling: app.js.br
_VARY = (b"vary", b"Accept-Encoding")
_ALLOW = [(b"allow", b"GET, HEAD")]


@dataclass(frozen=True, slots=True)
class StaticRules:
    """How static files are answered: `Cache-Control` by URL path prefix; the codings whose
    precompressed siblings are looked for, in the server's order of preference (empty: none, as
    nginx without gzip_static); and the bounds of the file cache (files up to `small_file` bytes
    are kept, at most `cache_entries` of them and `cache_bytes` in all). Larger files are
    streamed in `chunk_size` reads."""

    cache_control: tuple[tuple[str, bytes], ...] = ()  # longest prefix first
    precompressed: tuple[str, ...] = ("br", "gzip")
    small_file: int = 64 * KiB
    cache_entries: int = 1024
    cache_bytes: int = 32 * KiB * KiB
    chunk_size: int = 256 * KiB

    @classmethod
    def build(
        cls,
        cache_control: Mapping[str, str] | None = None,
        *,
        precompressed: Sequence[str] = ("br", "gzip"),
        small_file: int = 64 * KiB,
        cache_entries: int = 1024,
        cache_bytes: int = 32 * KiB * KiB,
        chunk_size: int = 256 * KiB,
    ) -> StaticRules:
        """Rules from the table's `static: {cache: {prefix: value}}`; ValueError says what is
        wrong with a prefix, a value, a coding or a bound."""
        prefixes = []
        for prefix, value in (cache_control or {}).items():
            if not prefix.startswith("/"):
                raise ValueError(f"cache prefix {prefix!r} must start with '/'")
            if not value or not value.isascii() or not value.isprintable():
                raise ValueError(f"cache value for {prefix!r} is not a header value: {value!r}")
            prefixes.append((prefix, value.encode("ascii")))
        prefixes.sort(key=lambda item: len(item[0]), reverse=True)
        unknown = [coding for coding in precompressed if coding not in SUFFIXES]
        if unknown:
            raise ValueError(f"unknown precompressed codings {unknown} (known: {list(SUFFIXES)})")
        if min(small_file, cache_entries, cache_bytes) < 0 or chunk_size < 1:
            raise ValueError("static cache bounds must not be negative, nor the chunk size 0")
        codings = tuple(dict.fromkeys(precompressed))
        bounds = (small_file, cache_entries, cache_bytes, chunk_size)
        return cls(tuple(prefixes), codings, *bounds)

    def cache_control_for(self, url_path: str) -> bytes | None:
        for prefix, value in self.cache_control:
            if url_path.startswith(prefix):
                return value
        return None

    def new_cache(self) -> FileCache:
        return FileCache(self.cache_entries, self.cache_bytes)


async def serve_file(
    scope: Scope,
    receive: Receive,
    send: Send,
    path: str,
    stat: os.stat_result,
    rules: StaticRules,
    *,
    cache: FileCache | None = None,
    url_path: str | None = None,
    request_id: str = "",
) -> int:
    """Answer the request for the regular file at `path` (absolute, as `stat` found it);
    returns the status sent. `url_path` (default: the scope's path) picks the Cache-Control."""
    method = scope["method"]
    if method != "GET" and method != "HEAD":
        return await refuse(send, 405, "method not allowed", request_id, False, _ALLOW)
    head_only = method == "HEAD"
    if not modes.S_ISREG(stat.st_mode):
        return await refuse(send, 404, "not a file", request_id, head_only)
    asked = cond.read_asked(scope["headers"])
    siblings = _siblings(path, rules.precompressed)
    coding = None
    if siblings and scope.get("http_version") != "1.0":
        coding = cond.choose_coding(asked.accept_encoding, tuple(siblings))
    try:
        opened, coding = _open(path, stat, siblings, coding, rules, cache)
    except OSError as exc:
        status = 403 if isinstance(exc, PermissionError) else 404
        return await refuse(send, status, "cannot open the file", request_id, head_only)
    try:
        common = common_headers(request_id)
        if siblings:
            common.append(_VARY)
        where = url_path if url_path is not None else scope["path"]
        cache_control = rules.cache_control_for(where)
        if cache_control is not None:
            common.append((b"cache-control", cache_control))
        answer = _Answer(opened, coding, content_type(path), common, head_only)
        return await answer.send(receive, send, asked, rules.chunk_size, request_id)
    finally:
        opened.close()


def _siblings(path: str, codings: tuple[str, ...]) -> dict[str, tuple[str, os.stat_result]]:
    """The precompressed siblings of `path` that exist now, by coding, in preference order."""
    found = {}
    for coding in codings:
        candidate = path + SUFFIXES[coding]
        if not os.access(candidate, os.F_OK):  # most files have none; no exception to raise
            continue
        try:
            sibling = os.stat(candidate)
        except OSError:
            continue
        if modes.S_ISREG(sibling.st_mode):
            found[coding] = (candidate, sibling)
    return found


def _open(
    path: str,
    stat: os.stat_result,
    siblings: dict[str, tuple[str, os.stat_result]],
    coding: str | None,
    rules: StaticRules,
    cache: FileCache | None,
) -> tuple[Opened, str | None]:
    if coding is not None:
        sibling_path, sibling_stat = siblings[coding]
        try:
            return open_file(sibling_path, sibling_stat, rules.small_file, cache), coding
        except OSError:
            pass  # gone since it was stat'ed: the file itself answers
    return open_file(path, stat, rules.small_file, cache), None


@dataclass(slots=True)
class _Answer:
    """One file's answer to one request, once the file is open."""

    opened: Opened
    coding: str | None
    kind: bytes  # Content-Type
    common: list[Header]  # Date, request id, Vary, Cache-Control
    head_only: bool

    async def send(
        self, receive: Receive, send: Send, asked: cond.Asked, chunk_size: int, request_id: str
    ) -> int:
        meta = self.opened.meta
        verdict = cond.evaluate(asked, meta.etag, meta.mtime) if asked.conditional else None
        if verdict is cond.Verdict.PRECONDITION_FAILED:
            return await refuse(send, 412, "precondition failed", request_id, self.head_only)
        validators = [(b"last-modified", meta.last_modified), (b"etag", meta.etag)]
        if verdict is cond.Verdict.NOT_MODIFIED:
            await respond(send, 304, validators + self.common)
            return 304
        spans = None
        if self.coding is None:  # as gzip_static: no ranges of a precompressed answer
            spans = cond.requested_spans(asked, meta.size, meta.etag, meta.mtime)
        if spans is cond.UNSATISFIABLE:
            content_range = [(b"content-range", b"bytes */%d" % meta.size)]
            return await refuse(
                send, 416, "range not satisfiable", request_id, self.head_only, content_range
            )
        status, headers, pieces = self._framed(validators, spans)
        opened = self.opened
        if self.head_only:
            await respond(send, status, headers)
        elif isinstance(opened, Loaded):
            body = opened.body
            if pieces != [(0, len(body))]:
                body = b"".join(p if isinstance(p, bytes) else body[p[0] : p[1]] for p in pieces)
            await respond(send, status, headers, body)
        else:
            await send({"type": "http.response.start", "status": status, "headers": headers})
            await stream_file(receive, send, opened.fd, pieces, chunk_size)
        return status

    def _framed(
        self, validators: list[Header], spans: list[cond.Span] | None
    ) -> tuple[int, list[Header], list[Piece]]:
        """The status, headers and body pieces of the whole file, one range or several."""
        size = self.opened.meta.size
        if spans is None:
            headers = [(b"content-type", self.kind), (b"content-length", b"%d" % size)]
            headers += validators
            if self.coding is not None:
                headers.append((b"content-encoding", self.coding.encode("ascii")))
            else:
                headers.append((b"accept-ranges", b"bytes"))
            return 200, headers + self.common, [(0, size)]
        if len(spans) == 1:
            (start, end) = spans[0]
            headers = [(b"content-type", self.kind), (b"content-length", b"%d" % (end - start))]
            headers += validators
            headers.append((b"content-range", b"bytes %d-%d/%d" % (start, end - 1, size)))
            return 206, headers + self.common, list(spans)
        kind, pieces, length = multipart(self.kind, size, spans)
        headers = [(b"content-type", kind), (b"content-length", b"%d" % length)]
        return 206, headers + validators + self.common, pieces


async def redirect_to_directory(
    scope: Scope,
    send: Send,
    location_path: str,
    *,
    rules: StaticRules | None = None,
    request_id: str = "",
) -> int:
    """nginx's answer to a directory asked for without its trailing slash: 301 to the absolute
    URL of `location_path` (decoded, the slash added), the query kept; returns the status.
    As nginx's static module, methods other than GET, HEAD and POST get 405; the Cache-Control
    of the path asked for is sent, as nginx's `add_header` does on a 301."""
    if scope["method"] not in ("GET", "HEAD", "POST"):
        return await refuse(send, 405, "method not allowed", request_id, False, _ALLOW)
    asked_for = location_path[:-1] if location_path.endswith("/") else location_path
    cache_control = rules.cache_control_for(asked_for) if rules is not None else None
    return await moved_permanently(scope, send, location_path, cache_control, request_id)
