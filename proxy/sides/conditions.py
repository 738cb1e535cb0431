"""What a request's headers ask of a static file, read with nginx's semantics. Pure: no I/O.

- Validators: an `ETag` in nginx's format, `"<mtime hex>-<size hex>"`, and HTTP dates parsed as
  nginx parses them (RFC 1123, RFC 850 and asctime forms; whatever follows the time is ignored).
- Preconditions, in nginx's order (its not-modified filter): `If-Unmodified-Since` (a date not
  before `Last-Modified`, an unparsable one fails) and `If-Match` (a strong comparison; `*`)
  fail with 412; then `If-Modified-Since` and `If-None-Match` answer 304 only when every one of
  them that is present says "not modified": the date must equal `Last-Modified` exactly
  (`if_modified_since exact`), the tag list is compared weakly (`W/` ignored), `*` matches.
- `Range`: `bytes=` ranges as nginx's range filter reads them. Syntax it cannot read makes it
  answer 416, not 200; ranges wholly past the end are dropped; ranges that together ask for more
  than the file (overlaps) get the whole file; an `If-Range` tag must equal the `ETag`
  byte for byte, an `If-Range` date must equal `Last-Modified`.
- `Accept-Encoding`: which precompressed coding to send, by q-value; ties go to the server's
  order; an explicit `identity` with a higher q-value wins; `*` stands for codings not named.

Each header is read from its first occurrence, as nginx 1.22 does.
"""

from __future__ import annotations

import calendar
import enum
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

Header = tuple[bytes, bytes]
Span = tuple[int, int]  # [start, end) of a file


@dataclass(frozen=True, slots=True)
class Asked:
    """The request headers a static answer depends on, each its first occurrence (or None)."""

    if_match: bytes | None = None
    if_none_match: bytes | None = None
    if_modified_since: bytes | None = None
    if_unmodified_since: bytes | None = None
    range: bytes | None = None
    if_range: bytes | None = None
    accept_encoding: bytes | None = None

    @property
    def conditional(self) -> bool:
        return (
            self.if_match is not None
            or self.if_none_match is not None
            or self.if_modified_since is not None
            or self.if_unmodified_since is not None
        )


_FIELDS = {
    b"if-match": "if_match",
    b"if-none-match": "if_none_match",
    b"if-modified-since": "if_modified_since",
    b"if-unmodified-since": "if_unmodified_since",
    b"range": "range",
    b"if-range": "if_range",
    b"accept-encoding": "accept_encoding",
}
NOTHING_ASKED = Asked()


def read_asked(headers: Iterable[Header]) -> Asked:
    found: dict[str, bytes] = {}
    for name, value in headers:
        field = _FIELDS.get(name.lower())
        if field is not None and field not in found:
            found[field] = value.strip(b" \t")
    return Asked(**found) if found else NOTHING_ASKED


def etag(mtime: int, size: int) -> bytes:
    return b'"%x-%x"' % (mtime, size)


class Verdict(enum.Enum):
    SEND = "send"
    NOT_MODIFIED = "not modified"
    PRECONDITION_FAILED = "precondition failed"


def evaluate(asked: Asked, tag: bytes, mtime: int) -> Verdict:
    """What the preconditions of `asked` make of a file with this `ETag` and `Last-Modified`."""
    if asked.if_unmodified_since is not None:
        since = parse_http_date(asked.if_unmodified_since)
        if since is None or since < mtime:
            return Verdict.PRECONDITION_FAILED
    if asked.if_match is not None and not _tag_listed(asked.if_match, tag, weak=False):
        return Verdict.PRECONDITION_FAILED
    if asked.if_modified_since is None and asked.if_none_match is None:
        return Verdict.SEND
    if asked.if_modified_since is not None and parse_http_date(asked.if_modified_since) != mtime:
        return Verdict.SEND
    if asked.if_none_match is not None and not _tag_listed(asked.if_none_match, tag, weak=True):
        return Verdict.SEND
    return Verdict.NOT_MODIFIED


def _tag_listed(listed: bytes, tag: bytes, *, weak: bool) -> bool:
    if listed == b"*":
        return True
    for item in listed.split(b","):
        candidate = item.strip(b" \t")
        if weak and len(candidate) > 2 and candidate.startswith(b"W/"):
            candidate = candidate[2:]
        if candidate == tag:
            return True
    return False


_MONTHS = {name: number for number, name in enumerate(calendar.month_abbr) if name}
_TIME = r"(\d\d):(\d\d):(\d\d)"
_RFC1123 = re.compile(rb"[^, ]*, *(\d\d) ([A-Z][a-z]{2}) (\d{4}) " + _TIME.encode())
_RFC850 = re.compile(rb"[^, ]*, *(\d\d)-([A-Z][a-z]{2})-(\d\d) " + _TIME.encode())
_ASCTIME = re.compile(rb"[^, ]* ([A-Z][a-z]{2}) +(\d\d?) " + _TIME.encode() + rb" (\d{4})")


def parse_http_date(value: bytes) -> int | None:
    """Seconds since the epoch, or None where nginx's parser would give up."""
    if found := _RFC1123.match(value):
        day, month, year, hour, minute, second = found.groups()
    elif found := _RFC850.match(value):
        day, month, short_year, hour, minute, second = found.groups()
        year = b"%d" % (int(short_year) + (2000 if int(short_year) < 70 else 1900))
    elif found := _ASCTIME.match(value):
        month, day, hour, minute, second, year = found.groups()
    else:
        return None
    number = _MONTHS.get(month.decode("ascii"))
    fields = (int(year), number or 0, int(day), int(hour), int(minute), int(second))
    if number is None or fields[0] < 1 or fields[3] > 23 or fields[4] > 59 or fields[5] > 59:
        return None
    if fields[2] < 1 or fields[2] > calendar.monthrange(fields[0], number)[1]:
        return None
    return calendar.timegm(fields)


class Unsatisfiable(enum.Enum):
    """A `Range` nginx answers with 416."""

    RANGE = "range"


UNSATISFIABLE = Unsatisfiable.RANGE
_RANGE_SPEC = re.compile(rb" *(\d*) *- *(\d*) *")
_MAX_OFFSET = 2**63 - 1  # nginx's off_t: a bigger number is unsatisfiable, not clamped


def requested_spans(
    asked: Asked, size: int, tag: bytes, mtime: int
) -> list[Span] | Unsatisfiable | None:
    """The spans a `Range` asks for (206), UNSATISFIABLE (416), or None: send the whole file."""
    value = asked.range
    if value is None or len(value) < 7 or value[:6].lower() != b"bytes=":
        return None
    if asked.if_range is not None and not _if_range_holds(asked.if_range, tag, mtime):
        return None
    spans: list[Span] = []
    for spec in value[6:].split(b","):
        found = _RANGE_SPEC.fullmatch(spec)
        if found is None or not (found[1] or found[2]):
            return UNSATISFIABLE
        first, last = found[1], found[2]
        if _too_big(first) or _too_big(last):
            return UNSATISFIABLE
        if not first:  # a suffix: the last `last` bytes
            start, end = max(size - int(last), 0), size
        else:
            start = int(first)
            end = min(int(last) + 1, size) if last else size
        if start < end:
            spans.append((start, end))
        elif start == 0:  # only an empty file gets here: nginx sends it whole
            return None
    if not spans:
        return UNSATISFIABLE
    if sum(end - start for start, end in spans) > size:
        return None
    return spans


def _too_big(digits: bytes) -> bool:
    significant = digits.lstrip(b"0")
    # the length first: int() of thousands of digits is slow, and refused past 4300
    return len(significant) > 19 or (bool(significant) and int(significant) > _MAX_OFFSET)


def _if_range_holds(if_range: bytes, tag: bytes, mtime: int) -> bool:
    if len(if_range) >= 2 and if_range.endswith(b'"'):
        return if_range == tag
    return parse_http_date(if_range) == mtime


_CODING = re.compile(rb" *([A-Za-z0-9!#$%&'*+.^_`|~-]+) *(?:; *[qQ] *= *([0-9.]+) *)?")


def choose_coding(accept: bytes | None, available: Sequence[str]) -> str | None:
    """The coding of `available` (in the server's order of preference) the client's
    `Accept-Encoding` takes best, or None for the file itself."""
    if not accept or not available:
        return None
    weights: dict[str, float] = {}
    for item in accept.split(b","):
        found = _CODING.fullmatch(item)
        if found is None:
            continue
        name = found[1].decode("ascii").lower()
        weights.setdefault(name, _qvalue(found[2]))
    wildcard = weights.get("*", 0.0)
    best, best_weight = None, 0.0
    for coding in available:
        weight = weights.get(coding, wildcard)
        if weight > best_weight:
            best, best_weight = coding, weight
    if best is not None and weights.get("identity", 0.0) > best_weight:
        return None
    return best


def _qvalue(raw: bytes | None) -> float:
    if raw is None:
        return 1.0
    try:
        weight = float(raw)
    except ValueError:
        return 0.0
    return weight if 0.0 <= weight <= 1.0 else 0.0
