"""Request targets at the edges of a server's locations, for comparing with real nginx."""

from __future__ import annotations

from collections.abc import Iterable

from proxy.table.nginx.model import Location, Modifier

# spellings that every server is asked about, whatever its locations
GENERAL = [
    "/",
    "//",
    "/.",
    "/..",
    "/../x",
    "/%2e%2e/x",
    "/a/../",
    "/a/%2E%2E/b",
    "/%2F",
    "/%00",
    "/%zz",
    "/?x=1",
    "/index.php",
    "/INDEX.PHP",
    "/x.php",
    "/a/b.php/c",
    "/.git/config",
    "/.well-known/acme-challenge/t",
    "/a/.hidden",
    "/%2egit/config",
    "/style.css",
    "/img/logo.PNG",
    "/a%3Fb.php",
    "/a%23b",
    "/a%25b",
]


def edges(locations: Iterable[Location]) -> list[str]:
    """Targets around every exact and prefix location's pattern (and their nested ones):
    as written, one `/` more or less, one character more, case changed, a character
    percent-encoded, slashes doubled, dot segments, and a query."""
    found: list[str] = []
    for loc in _walk(locations):
        if loc.modifier is Modifier.NAMED or loc.modifier.is_regex:
            continue
        found += _around(loc.pattern)
    return found


def everything(locations: Iterable[Location], extra: Iterable[str]) -> list[str]:
    seen: dict[str, None] = {}
    for target in [*GENERAL, *edges(locations), *extra]:
        seen.setdefault(target, None)
    return list(seen)


def _around(p: str) -> list[str]:
    out = [p, p + "x", p + "/", p + "x/y", p + "?q=1", p.upper(), p.lower(), p.swapcase()]
    if p.endswith("/") and len(p) > 1:
        out += [p[:-1], p[:-1] + "?q=1", p[:-2] + "/"]
    if len(p) > 1:
        out += [p[:-1], p + p[-1]]
        i = 1
        out.append(p[:i] + f"%{ord(p[i]):02X}" + p[i + 1 :])
        out.append(p[:i] + f"%{ord(p[i]):02x}" + p[i + 1 :])
        out.append(p.replace("/", "//", 1))
        out.append("/./" + p[1:])
        out.append("/x/.." + p)
        out.append(p + "/../" + "y")
        out.append(p + "/.")
        out.append(p + "%2F")
        out.append("/" + p[1:].replace("/", "%2F"))
    return [t for t in out if t.startswith("/")]


def _walk(locations: Iterable[Location]) -> Iterable[Location]:
    for loc in locations:
        yield loc
        yield from _walk(loc.locations)
