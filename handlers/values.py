"""Value formats of the API: UTC ISO dates with `.000000Z`, date casts at start of day in the
application timezone, decimals as two-place strings, and the raw types of write echoes.

Naive database datetimes are read in the application timezone (the `timezone` setting).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import UTC, date, datetime, time, timedelta, timezone, tzinfo
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from functools import lru_cache
from typing import Any

import orjson

from handlers import phpish, phpjson

_DATE_ONLY = re.compile(r"^(\d{4})-(\d{1,2})-(\d{1,2})$")
_DATETIME = re.compile(r"^(\d{4})-(\d{1,2})-(\d{1,2}) (\d{1,2}):(\d{1,2}):(\d{1,2})$")
_ISO = re.compile(
    r"^(\d{4})-(\d{2})-(\d{2})[T ](\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,6})\d*)?)?"
    r"\s*(Z|UTC|GMT|[+-]\d{2}:?\d{2})?$",
    re.IGNORECASE,
)
_SPELLINGS = (
    (re.compile(r"^(\d{4})/(\d{1,2})/(\d{1,2})$"), (1, 2, 3)),
    (re.compile(r"^(\d{1,2})/(\d{1,2})/(\d{4})$"), (3, 1, 2)),
    (re.compile(r"^(\d{1,2})\.(\d{1,2})\.(\d{4})$"), (3, 2, 1)),
    (re.compile(r"^(\d{4})(\d{2})(\d{2})$"), (1, 2, 3)),
)
_NAMED = re.compile(r"^(?P<day>\d{1,2}) (?P<month>[A-Za-z]+) (?P<year>\d{4})$")
_NAMED_US = re.compile(r"^(?P<month>[A-Za-z]+) (?P<day>\d{1,2}),? (?P<year>\d{4})$")
_MONTHS = {name: i for i, name in enumerate(
    ["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"], 1
)}  # fmt: skip
_DECIMAL = re.compile(r"^(-?)(\d*)(?:\.(\d*))?$")

# Attribute kinds that go through a model cast even in write echoes.
CAST_KINDS = frozenset({"datetime", "date", "decimal_cast", "json", "int_cast"})


def _build(parts: tuple[str | None, ...], tz: tzinfo) -> datetime | None:
    numbers = [int(p) if p else 0 for p in parts[:6]] + [0] * (6 - len(parts[:6]))
    try:
        year, month, day, hour, minute, second = numbers[:6]
        return datetime(year, month, day, hour, minute, second, tzinfo=tz)
    except ValueError:
        # Not a calendar date or time (Feb 30, hour 25): PHP's date check refuses it too.
        return None


def _other_spelling(text: str, tz: tzinfo) -> datetime | None:
    """The other date spellings PHP's parser reads: 2025/06/01, 06/01/2025, 01.06.2025,
    20250601, "1 June 2025", "June 1, 2025"."""
    for pattern, order in _SPELLINGS:
        match = pattern.match(text)
        if match:
            y, m, d = (match.group(i) for i in order)
            return _build((y, m, d), tz)
    match = _NAMED.match(text) or _NAMED_US.match(text)
    if match is None:
        return None
    month = _MONTHS.get(match.group("month").lower()[:3])
    if month is None:
        return None
    return _build((match.group("year"), str(month), match.group("day")), tz)


def parse_datetime(value: Any, tz: tzinfo) -> datetime | None:
    """A stored or client-sent date/time; naive values are in the application timezone."""
    if value is None:
        return None
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=tz)
    if isinstance(value, date):
        return datetime.combine(value, time(), tz)
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        return datetime.fromtimestamp(int(value), tz)
    text = str(value)
    match = _DATE_ONLY.match(text) or _DATETIME.match(text)
    if match:
        return _build(match.groups(), tz)
    return _parse_iso(text, tz) or _other_spelling(text.strip(), tz)


def _parse_iso(text: str, tz: tzinfo) -> datetime | None:
    match = _ISO.match(text.strip())
    if not match:
        return None
    year, month, day, hour, minute, second, fraction, offset = match.groups()
    zone = tz if offset is None else _offset(offset)
    parsed = _build((year, month, day, hour, minute, second), zone)
    if parsed is not None and fraction:
        parsed = parsed.replace(microsecond=int(fraction.ljust(6, "0")))
    return parsed


def _offset(text: str) -> tzinfo:
    if text.upper() in ("Z", "UTC", "GMT"):
        return UTC
    sign = -1 if text[0] == "-" else 1
    digits = text[1:].replace(":", "")
    return timezone(sign * timedelta(hours=int(digits[:2]), minutes=int(digits[2:])))


def iso_utc(moment: datetime | None) -> str | None:
    if moment is None:
        return None
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def format_datetime(value: Any, tz: tzinfo) -> str | None:
    if isinstance(value, str):
        return _format_text(value, tz)
    return iso_utc(parse_datetime(value, tz))


@lru_cache(maxsize=65536)
def _format_text(value: str, tz: tzinfo) -> str | None:
    # Stored timestamps repeat across rows and requests; formatting is pure, so cache it.
    return iso_utc(parse_datetime(value, tz))


def format_date(value: Any, tz: tzinfo) -> str | None:
    """`date` cast: start of day in the application timezone, then UTC."""
    return _format_date(value, tz) if isinstance(value, str) else _date_of(value, tz)


@lru_cache(maxsize=65536)
def _format_date(value: str, tz: tzinfo) -> str | None:
    return _date_of(value, tz)


def _date_of(value: Any, tz: tzinfo) -> str | None:
    moment = parse_datetime(value, tz)
    if moment is None:
        return None
    local = moment.astimezone(tz)
    return iso_utc(datetime(local.year, local.month, local.day, tzinfo=tz))


def storage_datetime(value: Any, tz: tzinfo) -> Any:
    """What a datetime-cast attribute holds after the client sets it."""
    if value is None:
        return None
    moment = parse_datetime(value, tz)
    # Written as the wall-clock time of whatever offset the value carried, as the ORM does.
    return value if moment is None else moment.strftime("%Y-%m-%d %H:%M:%S")


def _round2(number: Decimal) -> str:
    return str(number.quantize(Decimal("0.01"), rounding=ROUND_HALF_UP))


def decimal_str(value: Any) -> str | None:
    """A decimal column as a two-place string."""
    if value is None:
        return None
    if isinstance(value, bool):
        value = int(value)
    if isinstance(value, int):
        return f"{value}.00"
    if isinstance(value, float):
        # sprintf("%.2f") rounds the binary value, as Python's formatting does.
        return f"{value:.2f}"
    if isinstance(value, Decimal):
        return _round2(value)
    text = str(value).strip()
    match = _DECIMAL.match(text)
    if match and len(match.group(3) or "") <= 2:
        sign, whole, fraction = match.group(1), match.group(2) or "0", match.group(3) or ""
        return f"{sign}{whole}.{fraction.ljust(2, '0')}"
    try:
        return _round2(Decimal(text))
    except InvalidOperation:
        return "0.00"


def attribute_value(kind: str, value: Any, raw: bool, tz: tzinfo) -> Any:
    """An attribute as the resource prints it; raw input keeps its type unless a cast applies."""
    if raw and kind not in CAST_KINDS:
        return phpjson.php_floats(value)
    if value is None:
        return None
    return FORMATTERS[kind](value, tz)


def _int_value(value: Any, _tz: tzinfo) -> Any:
    if isinstance(value, int):
        return value
    return _to_int(value) if phpish.is_numeric(value) else value


def _string_value(value: Any, _tz: tzinfo) -> Any:
    if isinstance(value, int | float) and not isinstance(value, bool):
        return phpish.to_string(value)
    return value


Formatter = Callable[[Any, tzinfo], Any]
# One function per attribute kind, looked up once per attribute (the hot path of every read).
FORMATTERS: dict[str, Formatter] = {
    "null": lambda _value, _tz: None,
    "int": _int_value,
    "int_cast": _int_value,
    "string": _string_value,
    "decimal": lambda value, _tz: decimal_str(value),
    "decimal_cast": lambda value, _tz: decimal_str(value),
    "datetime": format_datetime,
    "date": format_date,
    "json": lambda value, _tz: _json(value),
}


def _to_int(value: Any) -> int:
    if isinstance(value, int):
        return value
    try:
        return int(str(value).strip())
    except ValueError:
        return int(float(str(value).strip()))


def _json(value: Any) -> Any:
    if not isinstance(value, str | bytes):
        return value
    try:
        return orjson.loads(value)
    except orjson.JSONDecodeError:
        return None
