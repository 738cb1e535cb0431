"""A server's locations as an ordered list of routes, so that first match wins gives nginx's choice.

nginx does not choose in file order (locations.py says how it does choose). The same choice,
written as routes tried in order:

1. Exact paths first: every `=` location's name, and every path one `/` short of a location
   that proxies (nginx answers it with a 301). For a single path the answer is known at import
   time, so each gets an exact route to whatever `LocationTree` chooses for it.
2. Every other path ends its prefix search at the longest prefix location that is a prefix of
   it (a "chain end"), walking nested levels; the regexes tried then are that location's own
   nested ones, then its parent level's unless the location is `^~`, then the grandparent's
   unless the parent is `^~`, and so on up to the server's; the first that matches wins (its
   own nested regexes first), else the prefix location stands. So:
   - a prefix location whose list of regexes is not the server's plain list is *special*, and
     so is every longer prefix location under a special one (else the shorter one's routes
     would catch it first); each special one becomes, longest first, its regexes scoped to its
     prefix, then the prefix itself;
   - then the server's regexes, unscoped, in file order;
   - then the remaining (plain) prefixes, longest first. A path no prefix location covers gets
     no route, as nginx then uses none.
   A regex location's nested regexes come before it, both scoped as it is (a list of regexes
   that must all match).
3. A prefix location nested where a longer prefix outside its parent always wins is never
   chosen: it is left out and reported. A prefix location nested in a regex location is
   refused (nginx allows it; nothing here reproduces it).

This deviates from a fixed order of kinds (all `^~` before all regexes, nested regexes first):
that order sends `/static/js/a.php` to `^~ /static/` although nginx prefers a longer plain
`/static/js/` and then the server's regexes, and lets a prefix's nested regexes catch paths of
a longer sibling. Pure.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass

from proxy.table.nginx.errors import NginxError
from proxy.table.nginx.locations import (
    PASSES,
    Chosen,
    LocationChoice,
    LocationTree,
    NoLocation,
    Redirect,
    encoded,
)
from proxy.table.nginx.model import Location, Modifier


class PlanError(NginxError):
    """The locations cannot be written as routes that choose as nginx does."""


@dataclass(frozen=True, slots=True)
class Planned:
    """One route of the plan: how it matches, and what nginx chooses for what it matches."""

    exact: str | None  # an exact path ...
    prefix: str | None  # ... or a prefix, with or without regexes
    regexes: tuple[Location, ...]  # regex locations that must all match (outer first)
    choice: LocationChoice  # Chosen(location) or, for an exact path, Redirect(location)
    scope: Location | None = None  # the prefix location the regexes are scoped to

    @property
    def location(self) -> Location | None:
        return None if isinstance(self.choice, NoLocation) else self.choice.location


@dataclass(frozen=True, slots=True)
class Plan:
    routes: tuple[Planned, ...]
    never_chosen: tuple[tuple[Location, Location], ...]  # (location, the one that always wins)


@dataclass(frozen=True, slots=True)
class _Node:
    location: Location
    ancestors: tuple[Location, ...]  # outermost first, the location's own parents


def plan(locations: Sequence[Location]) -> Plan:
    """The routes for a server's locations (raises PlanError, or UnsupportedRegex for a
    regex nginx would run and Python cannot)."""
    tree = LocationTree(locations)
    routes = list(_exact_routes(locations, tree))
    nodes = [n for n in _walk(locations, ()) if n.location.modifier.is_prefix]
    dead: dict[int, Location] = {}
    for node in nodes:
        winner = _winner(locations, node)
        if winner is not node.location:
            assert winner is not None  # the search for its own name meets it, or a longer one
            dead[id(node.location)] = winner
    live = [n for n in nodes if id(n.location) not in dead]
    server = _regexes(locations)
    lists = {id(n.location): _regex_list(n, locations) for n in live}
    special: list[_Node] = []
    for node in sorted(live, key=lambda n: len(n.location.pattern)):
        name = node.location.pattern
        if [id(r) for r in lists[id(node.location)]] != [id(r) for r in server] or any(
            name.startswith(s.location.pattern) for s in special
        ):
            special.append(node)
    ids = {id(n.location) for n in special}
    for node in sorted(special, key=_longest_first):
        for regex in lists[id(node.location)]:
            routes += _regex_routes(regex, node.location, ())
        routes.append(Planned(None, node.location.pattern, (), Chosen(node.location)))
    for regex in server:
        routes += _regex_routes(regex, None, ())
    for node in sorted((n for n in live if id(n.location) not in ids), key=_longest_first):
        routes.append(Planned(None, node.location.pattern, (), Chosen(node.location)))
    never = tuple((n.location, dead[id(n.location)]) for n in nodes if id(n.location) in dead)
    return Plan(tuple(routes), never)


def _walk(locations: Sequence[Location], ancestors: tuple[Location, ...]) -> Iterator[_Node]:
    for loc in locations:
        if loc.modifier.is_regex and any(c.modifier.is_prefix for c in loc.locations):
            inner = next(c for c in loc.locations if c.modifier.is_prefix)
            raise PlanError(
                f"{inner.where}: prefix location {inner.label} nested in the regex location "
                f"{loc.label} ({loc.where}) cannot be written as routes; move it out"
            )
        yield _Node(loc, ancestors)
        yield from _walk(loc.locations, (*ancestors, loc))


def _longest_first(node: _Node) -> tuple[int, int]:
    return (-len(node.location.pattern), -len(node.ancestors))


def _exact_routes(locations: Sequence[Location], tree: LocationTree) -> Iterator[Planned]:
    seen: set[str] = set()
    for node in _walk(locations, ()):
        loc = node.location
        paths = [loc.pattern] if loc.modifier is Modifier.EXACT else []
        if _passes(loc) and loc.pattern.endswith("/") and len(loc.pattern) > 1:
            paths.append(loc.pattern[:-1])
        for path in paths:
            if path in seen:
                continue
            seen.add(path)
            yield Planned(path, None, (), tree.choose(encoded(path)))


def _passes(location: Location) -> bool:
    return any(d.name in PASSES for d in location.directives) and (
        location.modifier.is_prefix or location.modifier is Modifier.EXACT
    )


def _regexes(locations: Sequence[Location]) -> list[Location]:
    return [loc for loc in locations if loc.modifier.is_regex]


def _regex_list(node: _Node, server: Sequence[Location]) -> list[Location]:
    """The regexes nginx tries, in order, for a path whose prefix search ends at `node`."""
    chain = [*node.ancestors, node.location]
    found = _regexes(node.location.locations)
    for depth in range(len(chain) - 1, -1, -1):
        if chain[depth].modifier is Modifier.PREFIX_NO_REGEX:
            continue  # `^~` keeps the level above from trying its regexes
        found += _regexes(chain[depth - 1].locations) if depth > 0 else _regexes(server)
    return found


def _regex_routes(
    regex: Location, scope: Location | None, outer: tuple[Location, ...]
) -> list[Planned]:
    """The routes of a regex location: its nested regexes' first, then its own."""
    within = (*outer, regex)
    routes: list[Planned] = []
    for inner in _regexes(regex.locations):
        routes += _regex_routes(inner, scope, within)
    prefix = scope.pattern if scope is not None else None
    routes.append(Planned(None, prefix, within, Chosen(regex), scope))
    return routes


def _winner(locations: Sequence[Location], node: _Node) -> Location | None:
    """Where the prefix search ends for the location's own name: the location itself, unless
    a longer prefix outside its parent takes every path it could match."""
    path = node.location.pattern
    level: Sequence[Location] = locations
    end: Location | None = None
    while True:
        longest: Location | None = None
        for loc in level:
            longer = longest is None or len(loc.pattern) > len(longest.pattern)
            if loc.modifier.is_prefix and path.startswith(loc.pattern) and longer:
                longest = loc
        if longest is None:
            return end
        end, level = longest, longest.locations


__all__ = ["Chosen", "NoLocation", "Plan", "PlanError", "Planned", "Redirect", "plan"]
