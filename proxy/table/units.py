"""Scalar values of routing.yaml: durations, sizes, URLs, field paths, app specs, enum members.

Each parser takes what the YAML loader produced and returns a plain value, or raises ValueError
with a reason fit to show an operator. They are pure, so the table parser stays pure.

Sizes: an int is a count of bytes; strings take a binary unit (`KiB`, `MiB`, `GiB`, powers of
1024) or a decimal one (`kB`/`KB`, `MB`, `GB`, powers of 1000, as SI and Kubernetes read them),
or `B`. `10MB` is therefore 10,000,000 bytes, not 10 MiB: the letters mean what the standard says.
"""

from __future__ import annotations

import enum
import ipaddress
import math
import posixpath
import re
from typing import TypeVar
from urllib.parse import urlsplit

Network = ipaddress.IPv4Network | ipaddress.IPv6Network
E = TypeVar("E", bound=enum.Enum)
_DURATION = re.compile(r"(\d+(?:\.\d+)?)\s*(ms|s|m|h|d)?")
_DURATION_UNITS = {"ms": 0.001, "s": 1.0, "m": 60.0, "h": 3600.0, "d": 86400.0, None: 1.0}
_SIZE = re.compile(r"(\d+(?:\.\d+)?)\s*(B|KiB|MiB|GiB|kB|KB|MB|GB)?")
_SIZE_UNITS = {
    None: 1,
    "B": 1,
    "KiB": 1024,
    "MiB": 1024**2,
    "GiB": 1024**3,
    "kB": 1000,
    "KB": 1000,
    "MB": 1000**2,
    "GB": 1000**3,
}
# field paths: status, headers.<name>, body followed by .key, .* or [*] steps
_HEADER_NAME = r"[!#$%&'*+.^_`|~0-9A-Za-z-]+"
_FIELD_PATH = re.compile(
    rf"status|headers\.(?:{_HEADER_NAME})|body(?:\.(?:\*|[^.\[\]\s*]+)|\[\*\])*",
)
_HEADER = re.compile(_HEADER_NAME)
_DOTTED = r"[A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z_][A-Za-z0-9_]*)*"
_APP_SPEC = re.compile(rf"{_DOTTED}:{_DOTTED}")
_STORE_URL = re.compile(r"[A-Za-z][A-Za-z0-9+_.-]*://.*")


def _is_number(value: object) -> bool:
    # YAML's `true` is a bool, and bool is an int in Python: never let it pass as a number
    return isinstance(value, int | float) and not isinstance(value, bool)


def parse_duration(value: object) -> float:
    """`500ms`, `2s`, `1m`, `1h`, `7d`, or a number of seconds; always positive."""
    if _is_number(value):
        seconds = float(value)  # type: ignore[arg-type]
    else:
        found = _DURATION.fullmatch(value.strip()) if isinstance(value, str) else None
        if found is None:
            raise ValueError(
                f"bad duration {value!r} (expected e.g. 500ms, 2s, 1m, 7d, or a number of seconds)"
            )
        seconds = float(found[1]) * _DURATION_UNITS[found[2]]
    if not math.isfinite(seconds) or seconds <= 0:  # YAML reads .inf and .nan as floats
        raise ValueError(f"duration {value!r} must be positive and finite")
    return seconds


def parse_duration_or_zero(value: object) -> float:
    """As parse_duration, and `0` (or `0s`, `0m`, ...) too: for a rule that 0 turns off."""
    found = _DURATION.fullmatch(value.strip()) if isinstance(value, str) else None
    if (_is_number(value) and value == 0) or (found is not None and float(found[1]) == 0):
        return 0.0
    return parse_duration(value)


def parse_size(value: object) -> int:
    """A number of bytes, or `512KiB`, `1MiB`, `10MB` (see the module docstring); positive."""
    if isinstance(value, int) and not isinstance(value, bool):
        size = value
    else:
        found = _SIZE.fullmatch(value.strip()) if isinstance(value, str) else None
        if found is None:
            raise ValueError(
                f"bad size {value!r} (expected bytes as an integer, or e.g. 512KiB, 1MiB, 10MB)"
            )
        size = int(float(found[1]) * _SIZE_UNITS[found[2]])
    if size <= 0:
        raise ValueError(f"size {value!r} must be positive")
    return size


def parse_size_or_zero(value: object) -> int:
    """A size, or 0 to turn what it bounds off."""
    if value == 0 and not isinstance(value, bool):
        return 0
    return parse_size(value)


def parse_fraction(value: object) -> float:
    if not _is_number(value):
        raise ValueError(f"{value!r} is not a number between 0 and 1")
    fraction = float(value)  # type: ignore[arg-type]
    if not 0.0 <= fraction <= 1.0:
        raise ValueError(f"{value!r} is outside [0, 1]")
    return fraction


def parse_share(value: object) -> float:
    """A fraction above 0 and at most 1 (a share of time: 0 would allow nothing at all)."""
    share = parse_fraction(value)
    if share == 0.0:
        raise ValueError(f"{value!r} must be above 0 (1 turns the limit off)")
    return share


def parse_positive_int(value: object) -> int:
    if not isinstance(value, int) or isinstance(value, bool) or value <= 0:
        raise ValueError(f"{value!r} is not a positive integer")
    return value


def parse_count(value: object) -> int:
    """A whole number, 0 included."""
    if not isinstance(value, int) or isinstance(value, bool) or value < 0:
        raise ValueError(f"{value!r} is not a whole number (0 or more)")
    return value


def parse_nice(value: object) -> int:
    """A CPU priority as `nice` takes it: 0 (as the gateway) to 19 (the lowest)."""
    if not isinstance(value, int) or isinstance(value, bool) or not 0 <= value <= 19:
        raise ValueError(f"{value!r} is not a nice value from 0 to 19")
    return value


def parse_networks(value: object) -> tuple[Network, ...]:
    """A list of addresses or CIDR blocks (`10.0.0.0/8`, `::1`, `127.0.0.1`)."""
    found: list[Network] = []
    for item in _string_list(value, "addresses or CIDR blocks"):
        try:
            found.append(ipaddress.ip_network(item.strip(), strict=False))
        except ValueError:
            raise ValueError(f"{item!r} is not an IP address or CIDR block") from None
    return tuple(found)


def parse_bool(value: object) -> bool:
    if not isinstance(value, bool):
        raise ValueError(f"{value!r} is not true or false")
    return value


def parse_member(kind: type[E], value: object, what: str = "value") -> E:
    """The member of `kind` whose value is `value`; the reason names `what` is being set."""
    for member in kind:
        if member.value == value:
            return member
    expected = " or ".join(str(member.value) for member in kind)
    raise ValueError(f"unknown {what} {value!r} (expected {expected})")


def parse_url(value: object) -> str:
    """An http(s) base URL with a host; returned without a trailing "/"."""
    if not isinstance(value, str) or not value.strip():
        raise ValueError(f"{value!r} is not a URL")
    try:
        parts = urlsplit(value.strip())
        parts.port  # noqa: B018 - raises ValueError on a bad port
    except ValueError as exc:
        raise ValueError(f"bad URL {value!r}: {exc}") from exc
    if parts.scheme not in ("http", "https"):
        raise ValueError(f"bad URL {value!r}: scheme must be http or https")
    if not parts.hostname:
        raise ValueError(f"bad URL {value!r}: a host is required")
    if parts.query or parts.fragment:
        raise ValueError(f"bad URL {value!r}: no query or fragment allowed")
    return value.strip().rstrip("/")


def parse_app_spec(value: object) -> str:
    """`module:attribute`, e.g. `handlers.app:app`; checked for shape only, never imported here."""
    if not isinstance(value, str) or _APP_SPEC.fullmatch(value) is None:
        raise ValueError(f"bad app {value!r} (expected module:attribute, e.g. handlers.app:app)")
    return value


def parse_store_url(value: object) -> str:
    if not isinstance(value, str) or _STORE_URL.fullmatch(value) is None:
        raise ValueError(
            f"bad store {value!r} (expected an SQLAlchemy URL, e.g. sqlite:///parity.db)"
        )
    return value


_SQLITE_FILE = re.compile(r"(sqlite(?:\+\w+)?:///)([^?]*)(\?.*)?")


def store_beside(url: str, directory: str) -> str:
    """A SQLite store at a relative path, made relative to `directory` (the table's, so that the
    gateway and every command find the same file wherever they run); any other URL as it is."""
    found = _SQLITE_FILE.fullmatch(url)
    if found is None or not directory:
        return url
    scheme, path, query = found.group(1), found.group(2), found.group(3) or ""
    if not path or path.startswith("/") or path == ":memory:" or path.startswith("file:"):
        return url
    return scheme + posixpath.normpath(posixpath.join(directory, path)) + query


def parse_header_names(value: object) -> tuple[str, ...]:
    names = _string_list(value, "header names")
    for name in names:
        if _HEADER.fullmatch(name) is None:
            raise ValueError(f"bad header name {name!r}")
    return tuple(name.lower() for name in names)


def parse_field_paths(value: object) -> tuple[str, ...]:
    paths = _string_list(value, "field paths")
    for path in paths:
        if _FIELD_PATH.fullmatch(path) is None:
            raise ValueError(
                f"bad field path {path!r} (expected status, headers.<name>, or body followed by "
                ".key, .* or [*] steps, e.g. body.data[*].attributes.updated_at)"
            )
    return tuple(paths)


def _string_list(value: object, what: str) -> list[str]:
    if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
        raise ValueError(f"expected a list of {what}, got {value!r}")
    return list(value)
