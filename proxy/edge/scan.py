"""Where a request head or a chunked body ends in a byte stream, and whether it broke a limit.

The parser (llhttp, through httptools) validates requests but has no size limits, and copies a
header value that arrives in pieces once per piece, so its cost grows with the square of the
line's length. These scanners run on the raw bytes before the parser sees them: they find the
end of each head (and of each chunked body, so that the next head is found too) and the first
byte past a limit, so the server feeds the parser only bytes within the limits and stops
reading at the first byte over. They decode nothing and validate nothing the parser validates.

Pure: no I/O, no clock. Every method takes bytes in any split and gives the same answer.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from proxy.edge.limits import Refusal

_CR = 13
_CHUNK_SIZE = re.compile(rb"([0-9A-Fa-f]{1,16})(?:;[^\r\n]*)?\r\n")


@dataclass(frozen=True, slots=True)
class Overflow:
    """The first byte of `data` past a limit (`at`), and the refusal it earns."""

    at: int
    refusal: Refusal


class HeadScanner:
    """Finds the CRLF CRLF that ends a head, counting line and head sizes on the way.

    Blank lines before a request line (which parsers skip) count toward the head's size, so an
    endless stream of CRLF is refused like any other oversized head. As a trailer scanner
    (`trailers=True`) the first line is a field line and may be the empty line itself.
    """

    __slots__ = (
        "_fast",
        "_first",
        "_line",
        "_partial",
        "_partial_cr",
        "_prev_crlf",
        "_started",
        "_total",
        "_trailers",
        "lines",
        "size",
    )

    def __init__(
        self, max_first_line: int, max_line: int, max_total: int, *, trailers: bool = False
    ) -> None:
        self._first = max_first_line
        self._line = max_line
        self._total = max_total
        self._trailers = trailers
        self._fast = min(max_first_line, max_line, max_total)
        self.reset()

    def reset(self) -> None:
        self.size = 0  # bytes of this head so far
        self.lines = 1 if self._trailers else 0  # complete lines (the request line is line 0)
        self._started = self._trailers
        self._partial = 0  # bytes of the line under way
        self._partial_cr = False  # the line under way ends with "\r"
        self._prev_crlf = True  # the line before the one under way ended with CRLF

    def scan(self, data: bytes) -> tuple[int, Overflow | None]:
        """Consume `data`: (offset just past the head, or -1 while it goes on; an overflow).

        After an end the scanner is reset for the next head; after an overflow it is spent.
        """
        if not self.size and not self._started:
            # the usual case: a whole small head in one read, every line short by construction
            end = data.find(b"\r\n\r\n")
            if 0 <= end <= self._fast - 4 and data[0] != _CR and data[0] != 10:
                return end + 4, None
        return self._scan_lines(data)

    def _scan_lines(self, data: bytes) -> tuple[int, Overflow | None]:
        n = len(data)
        i = 0
        if not self._started:
            i = n - len(data.lstrip(b"\r\n"))
            if self.size + i > self._total:
                return -1, Overflow(self._total - self.size, Refusal.HEAD_TOO_LARGE)
            self.size += i
            if i == n:
                return -1, None
            self._started = True
        while True:
            lf = data.find(b"\n", i)
            stop = n if lf < 0 else lf + 1
            taken = stop - i
            if self.lines == 0:
                limit, refusal = self._first, Refusal.REQUEST_LINE_TOO_LONG
            else:
                limit, refusal = self._line, Refusal.HEADER_TOO_LARGE
            over_line = i + limit - self._partial if self._partial + taken > limit else n + 1
            over_head = i + self._total - self.size if self.size + taken > self._total else n + 1
            if over_line <= n or over_head <= n:
                if over_head < over_line:
                    return -1, Overflow(over_head, Refusal.HEAD_TOO_LARGE)
                return -1, Overflow(over_line, refusal)
            self.size += taken
            if lf < 0:
                self._partial_cr = data[n - 1] == _CR
                self._partial += taken
                return -1, None
            crlf = data[lf - 1] == _CR if lf > i else self._partial_cr
            if crlf and self._partial + taken == 2 and self._prev_crlf and self.lines > 0:
                self.reset()  # the empty line: CRLF CRLF
                return stop, None
            self.lines += 1
            self._partial = 0
            self._partial_cr = False
            self._prev_crlf = crlf
            i = stop


class ChunkedScanner:
    """Finds the end of a chunked body: size lines, chunk data, trailers, the empty line.

    Size lines are bounded by `max_line`; trailers by the head limits. A size line the parser
    would refuse is reported as BAD_REQUEST after the line, so the parser's own error (same
    refusal) comes first when it has one.
    """

    __slots__ = ("_in_trailers", "_line", "_max_line", "_remaining", "_trailers")

    def __init__(self, max_line: int, trailers: HeadScanner) -> None:
        self._max_line = max_line
        self._trailers = trailers
        self._remaining = 0  # bytes of chunk data and its CRLF still to come
        self._line = b""  # the size line under way
        self._in_trailers = False

    def scan(self, data: bytes) -> tuple[int, Overflow | None]:
        """Consume `data`: (offset just past the body, or -1 while it goes on; an overflow)."""
        n = len(data)
        i = 0
        while i < n:
            if self._in_trailers:
                end, over = self._trailers.scan(data[i:] if i else data)
                if over is not None:
                    return -1, Overflow(i + over.at, over.refusal)
                return (i + end, None) if end >= 0 else (-1, None)
            if self._remaining:
                taken = min(self._remaining, n - i)
                self._remaining -= taken
                i += taken
                continue
            lf = data.find(b"\n", i)
            stop = n if lf < 0 else lf + 1
            if len(self._line) + stop - i > self._max_line:
                return -1, Overflow(
                    i + self._max_line - len(self._line), Refusal.CHUNK_LINE_TOO_LONG
                )
            self._line += data[i:stop]
            i = stop
            if lf < 0:
                return -1, None
            found = _CHUNK_SIZE.fullmatch(self._line)
            self._line = b""
            if found is None:
                return -1, Overflow(i, Refusal.BAD_REQUEST)
            size = int(found.group(1), 16)
            if size:
                self._remaining = size + 2
            else:
                self._in_trailers = True
        return -1, None
