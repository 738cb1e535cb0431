"""The `Date` header of the responses the gateway makes itself (RFC 9110 section 6.6.1).

uvicorn's own Date is off (a proxied response keeps the upstream's), so the gateway's errors,
the native app's answers and the admin surface get theirs from here, formatted once a second.
"""

from __future__ import annotations

import time
from email.utils import formatdate

DATE = b"date"
_last: tuple[int, bytes] = (0, b"")


def http_date() -> bytes:
    global _last
    now = int(time.time())
    if now != _last[0]:
        _last = (now, formatdate(now, usegmt=True).encode("ascii"))
    return _last[1]


def with_date(headers: list[tuple[bytes, bytes]]) -> list[tuple[bytes, bytes]]:
    """`headers` with a Date, unless the app that made them set its own."""
    for name, _ in headers:
        if name.lower() == DATE:
            return headers
    headers.append((DATE, http_date()))
    return headers
