"""bcrypt passwords the PHP side accepts: `$2y$` prefix, cost 12.

The `bcrypt` package writes `$2b$` (the same algorithm); PHP's `password_get_info` only
recognises `$2y$`, and the framework refuses hashes it cannot identify, so the prefix is swapped.
"""

from __future__ import annotations

import re

import bcrypt

COST = 12
_COST = re.compile(r"^\$2y\$(\d+)\$")
_ARGON = ("$argon2i$", "$argon2id$")


class UnusableHash(Exception):
    """A pre-hashed password the framework would refuse to store (wrong algorithm or cost)."""


def hash_password(plain: str) -> str:
    # bcrypt reads at most 72 bytes; PHP silently truncates, the Python package refuses.
    secret = plain.encode("utf-8", "surrogateescape")[:72]
    hashed = bcrypt.hashpw(secret, bcrypt.gensalt(COST)).decode("ascii")
    return "$2y$" + hashed[4:]


def verify_password(plain: str, hashed: str) -> bool:
    candidate = "$2b$" + hashed[4:] if hashed.startswith("$2y$") else hashed
    secret = plain.encode("utf-8", "surrogateescape")[:72]
    try:
        return bcrypt.checkpw(secret, candidate.encode("ascii"))
    except ValueError:
        return False


def password_value(value: str) -> str:
    """What the `hashed` cast stores: a new hash, or an acceptable bcrypt hash unchanged."""
    # password_get_info() knows bcrypt only as "$2y" and exactly 60 characters.
    bcrypt_like = value.startswith("$2y") and len(value) == 60
    if not bcrypt_like and not value.startswith(_ARGON):
        return hash_password(value)
    match = _COST.match(value) if bcrypt_like else None
    if match is None or int(match.group(1)) > COST:
        raise UnusableHash("Could not verify the hashed value's configuration.")
    return value
