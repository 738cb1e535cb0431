"""Signing in to the admin surface from a browser: the session cookie, and where to go after.

A browser cannot send `Authorization: Bearer`, so `POST /_strangler/login` (proxy.dashboard)
trades the admin token for a cookie. The cookie is not the token: it is

    v1.<expiry>.<hex HMAC-SHA256(key=token, LABEL + expiry)>

so it says nothing of the token, no worker needs to remember it (every worker holds the same
token), it stops working at its expiry whatever the browser does with Max-Age, and rotating
STRANGLER_ADMIN_TOKEN invalidates every cookie issued under the old one. Pure functions: the
time is passed in.
"""

from __future__ import annotations

import hashlib
import hmac
from urllib.parse import unquote, urlsplit

COOKIE = "strangler_admin"
LIFETIME = 12 * 3600  # seconds: a working day, then the token is asked for again
LABEL = b"strangler admin session v1\x00"  # a MAC of this token for no other purpose
SKEW = 300  # seconds: gateways behind one balancer may disagree a little about the time
VERSION = "v1"


def _mac(token: str, expiry: int) -> str:
    message = LABEL + str(expiry).encode("ascii")
    return hmac.new(token.encode("utf-8"), message, hashlib.sha256).hexdigest()


def issue(token: str, now: float, lifetime: int = LIFETIME) -> str:
    """A cookie value good until `now + lifetime` (epoch seconds) under this token."""
    expiry = int(now) + lifetime
    return f"{VERSION}.{expiry}.{_mac(token, expiry)}"


def verify(value: str | None, token: str, now: float, lifetime: int = LIFETIME) -> bool:
    """True when `value` was issued under `token` and has not expired (constant-time MAC check).

    An expiry further ahead than a cookie is ever issued for is refused too: it can only come
    from a longer lifetime of an earlier release, or from someone holding the token."""
    if not value:
        return False
    version, _, rest = value.partition(".")
    stamp, _, mac = rest.partition(".")
    if version != VERSION or not stamp.isascii() or not stamp.isdigit() or len(stamp) > 12:
        return False
    expiry = int(stamp)
    if not now < expiry <= now + lifetime + SKEW:
        return False
    return hmac.compare_digest(mac.encode("ascii", "replace"), _mac(token, expiry).encode("ascii"))


def safe_next(raw: str | None, prefix: str, default: str) -> str:
    """Where to send a browser after signing in: `raw` when it is a path under `prefix`/ on this
    host, else `default`. Never an absolute URL (`https://evil`, `//evil`, `/\\evil`): the login
    form would otherwise redirect wherever a link sent to an operator said."""
    if not raw or not raw.startswith(prefix + "/") or len(raw) > 2048:
        return default
    if "\\" in raw or any(ord(c) < 0x21 or ord(c) == 0x7F for c in raw):
        return default
    parts = urlsplit(raw)
    if parts.scheme or parts.netloc:
        return default
    # browsers resolve `..` (also spelled %2e%2e) in a Location: it could climb out of prefix
    segments = unquote(parts.path).split("/")
    if any(s in (".", "..") for s in segments) or "" in segments[1:-1]:
        return default
    return raw


FORM_LABEL = b"strangler admin form v1\x00"


def form_mac(token: str, session: str, action: str) -> str:
    """The hidden field a signed-in page's form carries for `action` (a path): a MAC, keyed by
    the token, of the session cookie and the action. A form posted from elsewhere cannot know
    it, even where a browser would send the cookie along (defence beside SameSite=Strict)."""
    message = FORM_LABEL + session.encode("ascii", "replace") + b"\x00" + action.encode("utf-8")
    return hmac.new(token.encode("utf-8"), message, hashlib.sha256).hexdigest()


def form_verified(token: str, session: str | None, action: str, given: str | None) -> bool:
    """True when `given` is `form_mac` of this session and action (constant-time)."""
    if not session or not given:
        return False
    expected = form_mac(token, session, action).encode("ascii")
    return hmac.compare_digest(given.encode("ascii", "replace"), expected)
