"""Bodies encoded the way PHP's `json_encode` writes them, so bytes stay close to the legacy side.

Success bodies use flags 0 (escaped slashes, `\\uXXXX` for anything outside ASCII, compact);
error bodies use JSON_PRETTY_PRINT | JSON_UNESCAPED_SLASHES (4-space indent, `": "`).
orjson encodes ASCII bodies; the standard library's C encoder takes the others.
"""

from __future__ import annotations

import json
from typing import Any

import orjson


def php_floats(data: Any) -> Any:
    """Integral floats as PHP prints them ("12", not "12.0"); used where floats can occur
    (client input echoed back, pagination arithmetic), so the hot path never walks a tree."""
    if isinstance(data, float):
        return int(data) if data.is_integer() and abs(data) < 1e15 else data
    if isinstance(data, dict):
        return {k: php_floats(v) for k, v in data.items()}
    if isinstance(data, list):
        return [php_floats(v) for v in data]
    return data


def encode(data: Any) -> bytes:
    """`json_encode($data)` with flags 0."""
    raw = orjson.dumps(data)
    if not raw.isascii():
        # The C encoder of the standard library escapes to \uXXXX (surrogate pairs above the
        # BMP) exactly as PHP does, several times faster than re-escaping orjson's output.
        raw = json.dumps(data, separators=(",", ":"), ensure_ascii=True).encode("ascii")
    # "/" only ever appears inside strings in JSON text, so a blind replace is exact.
    return raw.replace(b"/", b"\\/")


def encode_pretty(data: Any) -> bytes:
    """`json_encode($data, JSON_PRETTY_PRINT | JSON_UNESCAPED_SLASHES)`."""
    return json.dumps(data, indent=4, ensure_ascii=True).encode("ascii")
