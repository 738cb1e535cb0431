"""Which header names reach the app: nginx's rule, with the verdict on valid names remembered.

nginx passes a header whose name is letters, digits and `-` (`underscores_in_headers off`,
`ignore_invalid_headers on`) and silently drops any other: `X_Forwarded_Proto`, which PHP's
built-in server reads as `X-Forwarded-Proto`, or `X.Y`. The server does the same. Valid names
are kept in a bounded set, so a head of familiar names costs one lookup a header.

Pure: no I/O, no clock.
"""

from __future__ import annotations

_NAME_BYTES = b"abcdefghijklmnopqrstuvwxyz0123456789-"
_REMEMBERED = 1024  # valid names kept: a client cannot grow the set past this
# lowercased names found valid so far (read directly on the hot path)
valid_names: set[bytes] = set()


def valid_name(lowered: bytes) -> bool:
    """Whether a lowercased header name is one nginx passes on."""
    if lowered in valid_names:
        return True
    if not lowered or lowered.translate(None, _NAME_BYTES):
        return False
    if len(valid_names) < _REMEMBERED:
        valid_names.add(lowered)
    return True
