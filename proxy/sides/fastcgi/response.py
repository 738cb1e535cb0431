"""The CGI response head at the start of STDOUT, parsed incrementally; pure.

PHP-FPM answers with a CGI response (RFC 3875 section 6): header lines, a blank line, the body.
`HeadParser.feed` takes STDOUT content in whatever pieces it arrives (a line, even a `\\r\\n`,
may be split anywhere) and returns a `Head` once the blank line has arrived, with the first
bytes of the body; until then it returns None.

- Lines end in `\\r\\n` or `\\n`.
- `Status: 404 Not Found` gives the status and reason and is not passed on as a header; without
  it, a `Location` makes a 302 (as nginx does) and anything else a 200.
- Other headers are kept in order and in the application's spelling, repeats (`Set-Cookie`)
  included.
- A head longer than `limit` bytes, a line that is not `name: value` (a name with spaces, a
  folded continuation line, a control character in a value) or an invalid or repeated Status
  raise `MalformedHead`: such a response is never passed on (a 502 for the client).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

DEFAULT_LIMIT = 64 * 1024

_TOKEN = re.compile(rb"[!#$%&'*+\-.^_`|~0-9A-Za-z]+")
_BAD_VALUE = re.compile(rb"[\x00-\x08\x0a-\x1f\x7f]")
_STATUS = re.compile(rb"([1-9][0-9]{2})(?:[ \t]+(.*))?")
_END = re.compile(rb"\r?\n\r?\n")


class MalformedHead(ValueError):
    """The application's response head cannot be passed on."""


@dataclass(frozen=True, slots=True)
class Head:
    status: int
    reason: bytes  # empty when the application gave none
    headers: list[tuple[bytes, bytes]]
    body: bytes  # the body bytes that arrived with the end of the head


class HeadParser:
    """Collects STDOUT until the end of the CGI head; `feed` returns the head once, then None."""

    __slots__ = ("_buffer", "_done", "_limit", "_scanned")

    def __init__(self, limit: int = DEFAULT_LIMIT) -> None:
        self._buffer = bytearray()
        self._limit = limit
        self._scanned = 0  # the blank line cannot end before this offset
        self._done = False

    def feed(self, data: bytes) -> Head | None:
        if self._done:
            raise RuntimeError("the head is already parsed; the rest is body")
        self._buffer += data
        buffer = self._buffer
        if buffer[:1] == b"\n" or buffer[:2] == b"\r\n":
            return self._finish(0, buffer.index(b"\n") + 1)
        found = _END.search(buffer, self._scanned)
        if found is None:
            if len(buffer) > self._limit:
                raise MalformedHead(f"response head longer than {self._limit} bytes")
            # a blank line found later may start up to 3 bytes back (`\r\n\r`)
            self._scanned = max(0, len(buffer) - 3)
            return None
        if found.start() > self._limit:
            raise MalformedHead(f"response head longer than {self._limit} bytes")
        return self._finish(found.start(), found.end())

    def _finish(self, head_end: int, body_start: int) -> Head:
        self._done = True
        lines = bytes(self._buffer[:head_end]).split(b"\n") if head_end else []
        body = bytes(self._buffer[body_start:])
        self._buffer = bytearray()
        return parse_head(lines, body)


def parse_head(lines: list[bytes], body: bytes = b"") -> Head:
    """A head from its lines (each without `\\n`, a trailing `\\r` allowed)."""
    headers: list[tuple[bytes, bytes]] = []
    status: int | None = None
    reason = b""
    location = False
    for line in lines:
        name, value = _split(line[:-1] if line.endswith(b"\r") else line)
        lowered = name.lower()
        if lowered == b"status":
            if status is not None:
                raise MalformedHead("more than one Status header")
            status, reason = _status(value)
            continue
        if lowered == b"location":
            location = True
        headers.append((name, value))
    if status is None:
        status = 302 if location else 200
    return Head(status, reason, headers, body)


def _split(line: bytes) -> tuple[bytes, bytes]:
    name, colon, value = line.partition(b":")
    if not colon or not _TOKEN.fullmatch(name):
        raise MalformedHead(f"malformed header line {line[:100]!r}")
    value = value.strip(b" \t")
    if _BAD_VALUE.search(value):
        raise MalformedHead(f"control character in header {name[:100]!r}")
    return name, value


def _status(value: bytes) -> tuple[int, bytes]:
    matched = _STATUS.fullmatch(value)
    if matched is None:
        raise MalformedHead(f"invalid Status {value[:100]!r}")
    return int(matched[1]), matched[2] or b""
