"""The request path as the gateway matches it, and the spelling it forwards.

`normalise(raw_path)` turns the bytes of the request target (query excluded) into the one path
that is matched and, re-encoded by `encode`, forwarded. A route can therefore never be bypassed
by spelling its path differently: every spelling that survives normalisation is forwarded as the
path that was matched, and spellings that upstreams could read in more than one way are refused.

Decisions:

- Percent-decoding happens once. `%252e%252e` becomes the literal segment `%2e%2e` and is
  forwarded as `%252e%252e`, so the upstream decodes it to the same literal text.
- Encoded `/` (`%2f`), `\\` raw or encoded (`%5c`) and NUL (raw or `%00`) are refused: upstreams
  disagree on whether they separate segments or end strings.
- Invalid UTF-8 after decoding is refused.
- `.` and `..` segments are resolved as RFC 3986 section 5.2.4 does, after decoding (so `%2e%2e`
  is `..`); a `..` above the root is refused. Repeated `/` collapse into one. A trailing `/` is
  kept (`/users/` and `/users` are different paths to the matcher and to the upstream).
- `;` parameters stay part of their segment: `/api;x/v1` matches as the segment `api;x`, and is
  forwarded so. PHP does not strip them, so the upstream sees the same path that was matched.
- Absolute-form targets (`GET http://host/path`) use their path. uvicorn's httptools protocol
  already hands over only the path; other servers may pass the whole target.
"""

from __future__ import annotations

import re
from urllib.parse import quote, unquote_to_bytes

# pchar of RFC 3986 minus "%": what may stay literal in a forwarded path
_PCHAR = "-._~!$&'()*+,;=:@"
_SAFE_PATH = re.compile(r"(?:/[A-Za-z0-9\-_~!$&'()*+,;=:@][A-Za-z0-9\-._~!$&'()*+,;=:@]*)*/?")
_SAFE_RAW = re.compile(rb"(?:/[A-Za-z0-9\-_~!$&'()*+,;=:@][A-Za-z0-9\-._~!$&'()*+,;=:@]*)*/?")
_ABSOLUTE = re.compile(rb"[A-Za-z][A-Za-z0-9+.\-]*://[^/]*")
_REFUSED_ESCAPES = re.compile(rb"%(?:2f|5c|00)", re.IGNORECASE)


class PathRejected(ValueError):
    """The path cannot be matched safely; the client gets 400 with `reason`."""

    def __init__(self, reason: str) -> None:
        self.reason = reason
        super().__init__(reason)


def normalise(raw_path: bytes) -> str:
    """The decoded, normalised path; raises PathRejected for a path that cannot be forwarded."""
    if _SAFE_RAW.fullmatch(raw_path) and raw_path:
        # the common case: nothing to decode, no dot segments, no repeated "/"
        return raw_path.decode("ascii")
    return _normalise_slowly(_strip_absolute_form(raw_path))


def encode(path: str) -> str:
    """The normalised path as sent upstream: percent-encoded where RFC 3986 requires it."""
    if _SAFE_PATH.fullmatch(path):
        return path
    return quote(path, safe="/" + _PCHAR)


def _strip_absolute_form(raw: bytes) -> bytes:
    if raw.startswith(b"/"):
        return raw
    found = _ABSOLUTE.match(raw)
    if found is None:
        raise PathRejected("the path must start with '/'")
    rest = raw[found.end() :]
    return rest or b"/"


def _normalise_slowly(raw: bytes) -> str:
    if b"\x00" in raw:
        raise PathRejected("the path contains a NUL byte")
    if b"\\" in raw:
        raise PathRejected("the path contains a backslash")
    if _REFUSED_ESCAPES.search(raw):
        raise PathRejected("the path contains an encoded '/', '\\' or NUL")
    try:
        decoded = unquote_to_bytes(raw).decode("utf-8")
    except UnicodeDecodeError:
        raise PathRejected("the path is not valid UTF-8 once decoded") from None
    return _resolve(decoded.split("/")[1:])


def _resolve(segments: list[str]) -> str:
    kept: list[str] = []
    for segment in segments:
        if segment == "..":
            if not kept:
                raise PathRejected("the path escapes the root")
            kept.pop()
        elif segment not in ("", "."):
            kept.append(segment)
    # "/a/", "/a/." and "/a/b/.." all name a directory: keep the trailing "/"
    trailing = bool(kept) and segments[-1] in ("", ".", "..")
    return "/" + "/".join(kept) + ("/" if trailing else "")
