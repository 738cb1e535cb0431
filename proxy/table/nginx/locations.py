"""Which location nginx uses for a path: a port of ngx_http_core_find_location.

At each level (the server, then inside the chosen location) nginx looks in a static tree of
the exact (`=`) and prefix locations, built once as nginx builds it (sorted with `/` lowest,
exact before a prefix of the same name, each prefix holding the longer prefixes that start
with it, split at the middle): an exact hit ends the search; the longest prefix is remembered
and its nested locations are searched the same way, nested regexes included; then, unless the
remembered prefix is `^~`, this level's regexes are tried in file order, and the first that
matches wins (its own nested locations are searched in turn); otherwise the remembered prefix
stands. A path one `/` short of a prefix location that proxies (`proxy_pass`, `fastcgi_pass`,
...) is answered with a 301 to the location's name: `Redirect`.

Prefix comparison is byte-wise and case-sensitive (nginx on Linux); `~*` folds ASCII case.
Named locations (`@name`) are never chosen by a path.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from enum import Enum, auto

from proxy.table.nginx.model import Location, Modifier
from proxy.table.nginx.pcre import Regex, UnsupportedRegex, compile_pcre

# the handlers that make a location ending in `/` answer its name without the slash with a 301
PASSES = {"proxy_pass", "fastcgi_pass", "uwsgi_pass", "scgi_pass", "memcached_pass", "grpc_pass"}


@dataclass(frozen=True, slots=True)
class Chosen:
    location: Location


@dataclass(frozen=True, slots=True)
class Redirect:
    """nginx answers 301 with `Location: <location's name>[?query]`."""

    location: Location


@dataclass(frozen=True, slots=True)
class NoLocation:
    """No location matches: the server level's own settings answer."""


LocationChoice = Chosen | Redirect | NoLocation


class _Rc(Enum):
    OK = auto()  # exact or regex match: final
    DONE = auto()  # auto redirect
    AGAIN = auto()  # a prefix match: look deeper, then at regexes
    DECLINED = auto()  # nothing here


@dataclass(slots=True)
class _Node:
    name: bytes
    exact: _Level | None
    inclusive: _Level | None
    auto_redirect: bool
    left: _Node | None = None
    right: _Node | None = None
    tree: _Node | None = None


@dataclass(slots=True)
class _Level:
    """A location (or the server, with `location` None) with its nested locations compiled."""

    location: Location | None
    static: _Node | None
    regexes: tuple[tuple[Regex, _Level], ...]

    @property
    def noregex(self) -> bool:
        return self.location is not None and self.location.modifier is Modifier.PREFIX_NO_REGEX


class LocationTree:
    """A server's locations compiled once; `choose(path)` is then a pure lookup."""

    def __init__(self, locations: Sequence[Location]) -> None:
        """Raises UnsupportedRegex (naming the location's file:line) when a regex location
        cannot be matched as nginx matches it."""
        self.root = _compile(None, locations)

    def choose(self, path: bytes) -> LocationChoice:
        """The location nginx uses for `path`, the normalised path (see `uri.normalise`)."""
        state = _Search(path)
        rc = state.find(self.root)
        chosen = state.current.location if state.current else None
        if rc is _Rc.DONE and chosen is not None:
            return Redirect(chosen)
        return Chosen(chosen) if chosen is not None else NoLocation()


def encoded(pattern: str) -> bytes:
    return pattern.encode("utf-8", "surrogateescape")


def _compile(location: Location | None, children: Sequence[Location]) -> _Level:
    static = [c for c in children if c.modifier.is_prefix or c.modifier is Modifier.EXACT]
    regexes = tuple((_regex(c), _compile(c, c.locations)) for c in children if c.modifier.is_regex)
    return _Level(location, _tree(_queue([(c, _compile(c, c.locations)) for c in static])), regexes)


def _regex(location: Location) -> Regex:
    try:
        return compile_pcre(location.pattern, caseless=location.modifier is Modifier.REGEX_CASELESS)
    except UnsupportedRegex as exc:
        # one regex nginx would try and this cannot makes every later choice uncertain
        raise UnsupportedRegex(f"{location.where}: location {location.label}: {exc}") from exc


@dataclass(slots=True)
class _Entry:
    """ngx_http_location_queue_t: a name with its exact and/or prefix location."""

    name: bytes
    exact: _Level | None
    inclusive: _Level | None
    nested: list[_Entry]


def _order(name: bytes) -> tuple[int, ...]:
    # ngx_filename_cmp: `/` sorts below every other byte, and a shorter name first
    return tuple(0 if b == 0x2F else b + 1 for b in name)


def _queue(static: list[tuple[Location, _Level]]) -> list[_Entry]:
    entries = [
        _Entry(
            encoded(loc.pattern),
            level if loc.modifier is Modifier.EXACT else None,
            None if loc.modifier is Modifier.EXACT else level,
            [],
        )
        for loc, level in static
    ]
    entries.sort(key=lambda e: (_order(e.name), e.exact is None))
    joined: list[_Entry] = []
    for e in entries:  # an exact and a prefix location of one name share a node
        if joined and joined[-1].name == e.name:
            joined[-1].inclusive = joined[-1].inclusive or e.inclusive
            joined[-1].exact = joined[-1].exact or e.exact
        else:
            joined.append(e)
    return _nest(joined)


def _nest(entries: list[_Entry]) -> list[_Entry]:
    """ngx_http_create_locations_list: each prefix takes the following names it begins."""
    out: list[_Entry] = []
    i = 0
    while i < len(entries):
        e = entries[i]
        j = i + 1
        if e.inclusive is not None:
            while j < len(entries) and entries[j].name.startswith(e.name):
                j += 1
            e.nested = _nest(entries[i + 1 : j])
        out.append(e)
        i = j
    return out


def _tree(entries: list[_Entry], prefix: int = 0) -> _Node | None:
    """ngx_http_create_locations_tree: the middle entry, the halves left and right, the nested
    names below it with this name cut off."""
    if not entries:
        return None
    mid = len(entries) // 2
    e = entries[mid]
    node = _Node(
        name=e.name[prefix:],
        exact=e.exact,
        inclusive=e.inclusive,
        auto_redirect=any(_passes(x) for x in (e.exact, e.inclusive)),
    )
    node.left = _tree(entries[:mid], prefix)
    node.right = _tree(entries[mid + 1 :], prefix)
    node.tree = _tree(e.nested, len(e.name))
    return node


def _passes(level: _Level | None) -> bool:
    loc = level.location if level else None
    return bool(loc and loc.pattern.endswith("/") and any(d.name in PASSES for d in loc.directives))


def _cmp(a: bytes, b: bytes) -> int:
    oa, ob = _order(a), _order(b)
    return (oa > ob) - (oa < ob)


class _Search:
    def __init__(self, path: bytes) -> None:
        self.path = path
        self.current: _Level | None = None

    def find(self, parent: _Level) -> _Rc:
        """ngx_http_core_find_location, with `current` as r->loc_conf."""
        noregex = False
        rc = self.static(parent.static)
        if rc is _Rc.AGAIN:
            assert self.current is not None
            noregex = self.current.noregex
            rc = self.find(self.current)
        if rc in (_Rc.OK, _Rc.DONE):
            return rc
        if not noregex:
            for regex, level in parent.regexes:
                if regex.search(self.path):
                    self.current = level
                    self.find(level)
                    return _Rc.OK
        return rc

    def static(self, node: _Node | None) -> _Rc:
        """ngx_http_core_find_static_location."""
        uri = self.path
        rv = _Rc.DECLINED
        while node is not None:
            n = min(len(uri), len(node.name))
            rc = _cmp(uri[:n], node.name[:n])
            if rc != 0:
                node = node.left if rc < 0 else node.right
                continue
            if len(uri) > len(node.name):
                if node.inclusive is not None:
                    self.current = node.inclusive
                    rv = _Rc.AGAIN
                    uri = uri[n:]
                    node = node.tree
                    continue
                node = node.right
                continue
            if len(uri) == len(node.name):
                if node.exact is not None:
                    self.current = node.exact
                    return _Rc.OK
                self.current = node.inclusive
                return _Rc.AGAIN
            if len(uri) + 1 == len(node.name) and node.auto_redirect:
                self.current = node.exact or node.inclusive
                rv = _Rc.DONE
            node = node.left
        return rv
