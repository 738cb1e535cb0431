"""The request target and Host rules of the client-facing server (RFC 9112 section 3.2).

nginx refuses an HTTP/1.1 request without Host, with two, or with one holding a space, a
slash, a control byte or `..`; it takes an absolute-form target's authority as the Host. The
server does the same, and is stricter about the characters: a Host must be a host as RFC 3986
spells one (a name or an IP literal, then an optional port of digits). nginx also lets through
`@`, `<`, `"`, `\\`, `?`, `#` and bytes over 0x7f, none of which a real host holds, and every
one of which has helped poison a URL built from the Host (password-reset links, redirects).

Pure: no I/O, no clock.
"""

from __future__ import annotations

import re

_HOST = re.compile(
    rb"(?:\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9\-._~!$&'()*+,;=%]+)(?::[0-9]*)?",
)
_ABSOLUTE = re.compile(rb"[A-Za-z][A-Za-z0-9+.\-]*://([^/?#]*)([/?][^#]*)?(?:#.*)?", re.DOTALL)


_REMEMBERED = 256  # valid hosts kept, so a familiar Host costs one lookup
known_hosts: dict[bytes, bool] = {}


def valid_host(value: bytes) -> bool:
    """A Host value nginx would take and that is a host by RFC 3986 (with an optional port)."""
    if value in known_hosts:
        return True
    if _HOST.fullmatch(value) is None or b".." in value:
        return False
    name = value.rsplit(b":", 1)[0] if not value.startswith(b"[") else value
    if name in (b"", b"."):
        return False
    if len(known_hosts) < _REMEMBERED:
        known_hosts[value] = True
    return True


def absolute_form(target: bytes) -> tuple[bytes, bytes] | None:
    """(authority, origin-form target) of an absolute-form request target, else None.

    `http://a.test:8080/x?q` → (`a.test:8080`, `/x?q`); `http://a.test` → (`a.test`, `/`).
    """
    found = _ABSOLUTE.fullmatch(target)
    if found is None:
        return None
    rest = found.group(2) or b""
    return found.group(1), rest if rest.startswith(b"/") else b"/" + rest
