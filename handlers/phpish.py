"""Small PHP semantics the legacy application relies on, reproduced exactly where it matters.

Query strings are parsed like PHP's `parse_str` (nested `a[b][]` keys, `.`/space in names
turned into `_`), and values are cleaned like the framework's TrimStrings and
ConvertEmptyStringsToNull middleware.
"""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import unquote_plus

_TRIM = re.compile(r"^[\s\ufeff\u200b\u200e]+|[\s\ufeff\u200b\u200e]+$")
_TRIM_EXCEPT = frozenset({"password", "password_confirmation", "current_password"})
_INT = re.compile(r"^[ \t\n\r\v\f]*[+-]?(0|[1-9][0-9]*)[ \t\n\r\v\f]*$")
_NUMERIC = re.compile(r"^[ \t\n\r\v\f]*[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?[ \t\n\r\v\f]*$")
PHP_INT_MAX = 2**63 - 1


def _split_name(name: str) -> tuple[str, list[str]] | None:
    """Base name and bracket segments of a query key, as PHP's variable registration reads them."""
    name = name.lstrip(" ")
    open_at = name.find("[")
    if open_at < 0 or "]" not in name[open_at:]:
        base, rest = name, ""
        base = base.replace(".", "_").replace(" ", "_").replace("[", "_", 1)
    else:
        base, rest = name[:open_at], name[open_at:]
        base = base.replace(".", "_").replace(" ", "_")
    if base == "":
        return None
    segments: list[str] = []
    while rest.startswith("["):
        close = rest.find("]")
        if close < 0:
            break
        segments.append(rest[1:close])
        rest = rest[close + 1 :]
    return base, segments


def _assign(target: dict[str, Any], keys: list[str | None], value: str) -> None:
    node: Any = target
    for i, key in enumerate(keys):
        last = i == len(keys) - 1
        if key is None:
            key = str(_next_index(node))
        if last:
            node[key] = value
            return
        child = node.get(key)
        if not isinstance(child, dict):
            child = {}
            node[key] = child
        node = child


def _next_index(node: dict[str, Any]) -> int:
    ints = [int(k) for k in node if re.fullmatch(r"-?(0|[1-9]\d*)", k)]
    return max(ints) + 1 if ints else 0


def parse_query(query: str) -> dict[str, Any]:
    """`parse_str`: arrays become dicts keyed by string (list order kept by insertion)."""
    out: dict[str, Any] = {}
    for pair in query.split("&"):
        if pair == "":
            continue
        raw_name, _, raw_value = pair.partition("=")
        parts = _split_name(unquote_plus(raw_name))
        if parts is None:
            continue
        base, segments = parts
        keys: list[str | None] = [base, *[s if s != "" else None for s in segments]]
        _assign(out, keys, unquote_plus(raw_value))
    return out


def clean(data: Any, prefix: str = "") -> Any:
    """TrimStrings then ConvertEmptyStringsToNull, recursively, passwords untrimmed."""
    if isinstance(data, dict):
        return {k: clean(v, f"{prefix}.{k}" if prefix else str(k)) for k, v in data.items()}
    if isinstance(data, list):
        return [clean(v, f"{prefix}.{i}" if prefix else str(i)) for i, v in enumerate(data)]
    if isinstance(data, str):
        if prefix not in _TRIM_EXCEPT:
            data = _TRIM.sub("", data)
        return None if data == "" else data
    return data


def empty(value: Any) -> bool:
    """PHP's `empty()`: null, false, 0, 0.0, "", "0" and empty arrays."""
    if value is None or value is False:
        return True
    if isinstance(value, bool):
        return False
    if isinstance(value, int | float):
        return value == 0
    if isinstance(value, str):
        return value in ("", "0")
    if isinstance(value, dict | list):
        return len(value) == 0
    return False


def to_string(value: Any) -> str:
    """PHP's `(string)` cast of a scalar."""
    if value is True:
        return "1"
    if value is False or value is None:
        return ""
    if isinstance(value, float):
        return php_float(value)
    return str(value)


def php_float(value: float) -> str:
    if value == int(value) and abs(value) < 1e15:
        return str(int(value))
    return repr(value)


def int_cast(value: Any) -> int:
    """PHP's `(int)`: the leading integer of a string ("12abc" is 12, "x" is 0)."""
    if isinstance(value, bool | int):
        return int(value)
    if isinstance(value, float):
        return int(value)
    match = re.match(r"\s*[+-]?\d+", to_string(value))
    return int(match.group(0)) if match else 0


def filter_int(value: Any) -> int | None:
    """`filter_var($v, FILTER_VALIDATE_INT)`: the integer, or None for false."""
    if isinstance(value, bool):
        return 1 if value else None
    if isinstance(value, int):
        return value
    if isinstance(value, float):
        return int(value) if value == int(value) and abs(value) <= PHP_INT_MAX else None
    if not isinstance(value, str) or not _INT.match(value):
        return None
    number = int(value.strip())
    return number if -PHP_INT_MAX - 1 <= number <= PHP_INT_MAX else None


def is_numeric(value: Any) -> bool:
    """PHP's `is_numeric`."""
    if isinstance(value, bool):
        return False
    if isinstance(value, int | float):
        return True
    return isinstance(value, str) and bool(_NUMERIC.match(value))
