"""Which header names reach the app, lowercased: nginx's rule, remembered per name.

nginx passes a header whose name is letters, digits and `-` (`underscores_in_headers off`,
`ignore_invalid_headers on`) and silently drops any other: `X_Forwarded_Proto`, which PHP's
built-in server reads as `X-Forwarded-Proto`, or `X.Y`. The server does the same. A name's
verdict is kept in a bounded table, so a head of familiar names costs one lookup a header.

Pure: no I/O, no clock.
"""

from __future__ import annotations

# the keys the server itself reads; returned as these very objects, so `is` compares them
HOST = b"host"
EXPECT = b"expect"
_SPECIAL = {HOST: HOST, EXPECT: EXPECT}
_NAME_BYTES = b"abcdefghijklmnopqrstuvwxyz0123456789-"
_REMEMBERED = 1024  # names (as sent) whose verdict is kept: a client cannot grow it past this
# name as sent → its key, for the names judged so far (read directly on the hot path)
known_names: dict[bytes, bytes] = {}


def header_key(name: bytes) -> bytes:
    """The lowercased name the app sees, or b"" for a name that is dropped."""
    key = known_names.get(name)
    if key is None:
        key = _judge(name)
        if len(known_names) < _REMEMBERED:
            known_names[name] = key
    return key


def _judge(name: bytes) -> bytes:
    lowered = name.lower()
    if not lowered or lowered.translate(None, _NAME_BYTES):
        return b""
    return _SPECIAL.get(lowered, lowered)
