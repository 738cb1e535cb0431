"""Bodies encoded the way PHP's `json_encode` writes them, so bytes stay close to the legacy side.

Success bodies use flags 0 (escaped slashes, `\\uXXXX` for anything outside ASCII, compact);
error bodies use JSON_PRETTY_PRINT | JSON_UNESCAPED_SLASHES (4-space indent, `": "`).
orjson does the heavy lifting; only non-ASCII bodies take the slower escaping pass.
"""

from __future__ import annotations

import json
import re
from typing import Any

import orjson

_NON_ASCII = re.compile(r"[^\x00-\x7f]")


def _escape_char(match: re.Match[str]) -> str:
    code = ord(match.group(0))
    if code <= 0xFFFF:
        return f"\\u{code:04x}"
    code -= 0x10000
    return f"\\u{0xD800 + (code >> 10):04x}\\u{0xDC00 + (code & 0x3FF):04x}"


def encode(data: Any) -> bytes:
    """`json_encode($data)` with flags 0."""
    raw = orjson.dumps(data)
    if not raw.isascii():
        raw = _NON_ASCII.sub(_escape_char, raw.decode("utf-8")).encode("ascii")
    # "/" only ever appears inside strings in JSON text, so a blind replace is exact.
    return raw.replace(b"/", b"\\/")


def encode_pretty(data: Any) -> bytes:
    """`json_encode($data, JSON_PRETTY_PRINT | JSON_UNESCAPED_SLASHES)`."""
    return json.dumps(data, indent=4, ensure_ascii=True).encode("ascii")
