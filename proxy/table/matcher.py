"""The template language of `match:` and the compiled matcher.

`parse_match("GET|POST /users/{id:int}")` gives the methods and the path template; the table
parser calls it and turns its ValueError into a Problem. `compile_table` builds, once per table,
one segment trie per HTTP method; `Matcher.match` walks it and returns a value, never raises.

Semantics (shared with `naive_match`, the linear reference the property test compares against):

- First match in file order. Every trie node records the lowest route index below it, so a walk
  abandons branches that cannot beat the best match found so far.
- `GET` also matches `HEAD`; `*` matches every method, including ones no route names.
- A path is split on "/" after its leading "/": "/" is one empty segment, "/users/" is "users"
  and an empty segment. Templates are exact, so `/users` does not match `/users/`: the forwarder
  sends on exactly the path that matched, and a route must never cover a spelling it was not
  written for. Write both templates when both spellings must go to the same route.
- `{name}` is one non-empty segment, `{name:int}` one segment of ASCII digits, `{name:path}` one
  or more remaining segments joined by "/" (so `/files/{p:path}` matches `/files/` with p="" but
  not `/files`), as in Starlette. Parameters are returned as strings.
- Routes whose `match:` is a mapping (exact, prefix, regex; proxy.table.routekeys) are compiled
  apart by proxy.table.patterns; the lowest index of the two wins.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterator
from dataclasses import dataclass, field

from proxy.table import patterns
from proxy.table.model import (
    NoRoute,
    PathTemplate,
    Route,
    RouteMatch,
    RouteTable,
    Segment,
    SegmentKind,
)

METHODS = ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "TRACE", "CONNECT")
_PARAM = re.compile(r"\{(?P<name>[^{}:]*)(?::(?P<convertor>[^{}]*))?\}")
_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_CONVERTORS = {None: SegmentKind.STR, "int": SegmentKind.INT, "path": SegmentKind.PATH}
_ROOT = (Segment(SegmentKind.LITERAL, ""),)  # "/" as the walk sees it: one empty segment
_NO_ROUTE = NoRoute()
_NO_INDEX = 1 << 62


def parse_match(spec: str) -> tuple[frozenset[str] | None, PathTemplate]:
    """`"GET|POST /path"` → (methods, template); methods is None for `*`."""
    words = spec.split()
    if len(words) != 2:
        raise ValueError(
            f"malformed match {spec!r} (expected 'METHODS /path', e.g. 'GET /api/v1/admin/users')"
        )
    return parse_methods(words[0]), parse_template(words[1])


def parse_methods(text: str) -> frozenset[str] | None:
    if text == "*":
        return None
    names = text.split("|")
    for name in names:
        if name == "*":
            raise ValueError(f"'*' cannot be combined with other methods in {text!r}")
        if name not in METHODS:
            close = difflib.get_close_matches(name.upper(), METHODS, n=1)
            hint = f" (did you mean {close[0]!r}?)" if close else ""
            raise ValueError(f"unknown HTTP method {name!r}{hint}")
    if len(set(names)) != len(names):
        raise ValueError(f"a method is listed twice in {text!r}")
    return frozenset(names)


def parse_template(source: str) -> PathTemplate:
    if not source.startswith("/"):
        raise ValueError(f"path {source!r} must start with '/'")
    if source == "/":
        return PathTemplate(source, ())
    texts = source[1:].split("/")
    segments = tuple(
        _parse_segment(text, source, last=i == len(texts) - 1) for i, text in enumerate(texts)
    )
    names = [s.value for s in segments if s.kind is not SegmentKind.LITERAL]
    for name in names:
        if names.count(name) > 1:
            raise ValueError(f"parameter {name!r} appears twice in {source!r}")
    return PathTemplate(source, segments)


def _parse_segment(text: str, source: str, *, last: bool) -> Segment:
    if "{" not in text and "}" not in text:
        if text == "" and not last:
            raise ValueError(f"empty segment in {source!r}")
        if text in (".", ".."):
            raise ValueError(f"segment {text!r} in {source!r} never matches a normalised path")
        return Segment(SegmentKind.LITERAL, text)
    found = _PARAM.fullmatch(text)
    if found is None:
        raise ValueError(
            f"partial segment {text!r} in {source!r}: a parameter must be a whole segment"
        )
    name, convertor = found["name"], found["convertor"]
    if _NAME.fullmatch(name) is None:
        raise ValueError(f"bad parameter name {name!r} in {source!r}")
    if convertor not in _CONVERTORS:
        raise ValueError(f"unknown convertor {convertor!r} in {text!r} (expected int or path)")
    kind = _CONVERTORS[convertor]
    if kind is SegmentKind.PATH and not last:
        raise ValueError(f"{text!r} must be the last segment of {source!r}")
    return Segment(kind, name)


def _walk_segments(template: PathTemplate) -> tuple[Segment, ...]:
    return template.segments or _ROOT


@dataclass(frozen=True, slots=True)
class _Leaf:
    index: int
    route: Route
    names: tuple[str, ...]  # parameter names in order, matched against captured values


@dataclass(slots=True)
class _Node:
    literal: dict[str, _Node] = field(default_factory=dict)
    text: _Node | None = None  # {name}
    digits: _Node | None = None  # {name:int}
    ends: list[_Leaf] = field(default_factory=list)  # routes ending here, in file order
    tails: list[_Leaf] = field(default_factory=list)  # {name:path} routes whose tail starts here
    low: int = 1 << 62  # lowest route index in this subtree

    def insert(self, leaf: _Leaf) -> None:
        node = self
        node.low = min(node.low, leaf.index)
        segments = _walk_segments(leaf.route.template)
        for segment in segments:
            if segment.kind is SegmentKind.PATH:
                node.tails.append(leaf)
                return
            node = node.child(segment)
            node.low = min(node.low, leaf.index)
        node.ends.append(leaf)

    def child(self, segment: Segment) -> _Node:
        if segment.kind is SegmentKind.LITERAL:
            return self.literal.setdefault(segment.value, _Node())
        if segment.kind is SegmentKind.INT:
            self.digits = self.digits or _Node()
            return self.digits
        self.text = self.text or _Node()
        return self.text


_Best = tuple[_Leaf, tuple[str, ...]] | None


def _walk(node: _Node, parts: list[str], i: int, caps: tuple[str, ...], best: _Best) -> _Best:
    if best is not None and node.low >= best[0].index:
        return best
    if i == len(parts):
        if node.ends and (best is None or node.ends[0].index < best[0].index):
            best = (node.ends[0], caps)
        return best
    if node.tails and (best is None or node.tails[0].index < best[0].index):
        best = (node.tails[0], (*caps, "/".join(parts[i:])))
    part = parts[i]
    child = node.literal.get(part)
    if child is not None:
        best = _walk(child, parts, i + 1, caps, best)
    if part and node.digits is not None and part.isascii() and part.isdigit():
        best = _walk(node.digits, parts, i + 1, (*caps, part), best)
    if part and node.text is not None:
        best = _walk(node.text, parts, i + 1, (*caps, part), best)
    return best


class Matcher:
    """A compiled table: one trie per method named anywhere, and one for `*` routes alone; the
    pattern routes likewise, in a PatternIndex per method (None when the table has none)."""

    def __init__(self, table: RouteTable) -> None:
        self.table = table
        self._tries: dict[str, _Node] = {method: _Node() for method in METHODS}
        self._any = _Node()  # for methods no route names: only `*` routes can match
        for index, route in enumerate(table.routes):
            if route.pattern is not None:
                continue
            leaf = _leaf(index, route)
            for method, trie in self._tries.items():
                if route.allows(method):
                    trie.insert(leaf)
            if route.methods is None:
                self._any.insert(leaf)
        self._patterns = patterns.by_method(table.routes, METHODS)

    def match(self, method: str, path: str) -> RouteMatch | NoRoute:
        """`path` is normalised: it starts with "/" and has no empty, "." or ".." segments."""
        trie = self._tries.get(method, self._any)
        best = _walk(trie, path[1:].split("/"), 0, (), None)
        if self._patterns is not None:
            index = self._patterns.get(method) or self._patterns[patterns.ANY]
            found = index.find(path, best[0].index if best is not None else _NO_INDEX)
            if found is not None:
                pattern = found[1].pattern
                assert pattern is not None
                return RouteMatch(found[1], patterns.captures(pattern, path))
        if best is None:
            return _NO_ROUTE
        leaf, caps = best
        return RouteMatch(leaf.route, dict(zip(leaf.names, caps, strict=True)))


def compile_table(table: RouteTable) -> Matcher:
    return Matcher(table)


def _leaf(index: int, route: Route) -> _Leaf:
    names = tuple(s.value for s in route.template.segments if s.kind is not SegmentKind.LITERAL)
    return _Leaf(index, route, names)


def template_regex(template: PathTemplate) -> re.Pattern[str]:
    """The template as one regular expression, as Starlette compiles paths."""
    pieces = []
    for segment in template.segments:
        if segment.kind is SegmentKind.LITERAL:
            pieces.append(re.escape(segment.value))
        else:
            pattern = {SegmentKind.STR: "[^/]+", SegmentKind.INT: "[0-9]+", SegmentKind.PATH: ".*"}
            pieces.append(f"(?P<{segment.value}>{pattern[segment.kind]})")
    return re.compile("/" + "/".join(pieces))


def naive_match(table: RouteTable, method: str, path: str) -> RouteMatch | NoRoute:
    """The reference matcher: one regular expression per route, tried in file order."""
    for route in table.routes:
        if route.pattern is not None:
            if route.allows(method) and patterns.matches(route.pattern, path):
                return RouteMatch(route, patterns.captures(route.pattern, path))
            continue
        found = template_regex(route.template).fullmatch(path)
        if route.allows(method) and found is not None:
            return RouteMatch(route, found.groupdict())
    return _NO_ROUTE


def unreachable_routes(table: RouteTable) -> list[tuple[Route, Route]]:
    """(route, the earlier route that covers it) for every route no request can reach.

    An earlier route covers a later one when it allows every method the later one allows and
    its template matches every path the later one's does. Coverage by several earlier routes
    together is not looked for, so every report is certain.
    """
    found: list[tuple[Route, Route]] = []
    trie = _Node()
    for index, route in enumerate(table.routes):
        if route.pattern is not None:
            continue  # patterns (regexes above all) are not compared with templates here
        covering = [
            leaf
            for leaf in _covering(trie, _walk_segments(route.template), 0)
            if _methods_cover(leaf.route, route)
        ]
        if covering:
            found.append((route, min(covering, key=lambda leaf: leaf.index).route))
        trie.insert(_leaf(index, route))
    return found


def _methods_cover(earlier: Route, later: Route) -> bool:
    if earlier.methods is None:
        return True
    if later.methods is None:
        return False
    return all(earlier.allows(method) for method in later.methods)


def _covering(node: _Node, segments: tuple[Segment, ...], i: int) -> Iterator[_Leaf]:
    """Leaves whose templates match every path that `segments[i:]` below `node` matches."""
    if i == len(segments):
        yield from node.ends
        return
    yield from node.tails  # a path tail takes any one or more segments, and some remain
    segment = segments[i]
    candidates: list[_Node | None] = []
    if segment.kind is SegmentKind.LITERAL:
        value = segment.value
        candidates.append(node.literal.get(value))
        if value:
            candidates.append(node.text)
        if value.isascii() and value.isdigit():
            candidates.append(node.digits)
    elif segment.kind is SegmentKind.INT:
        candidates += [node.digits, node.text]
    elif segment.kind is SegmentKind.STR:
        candidates.append(node.text)
    # a later path tail can match any number of segments: only an earlier tail covers it
    for child in candidates:
        if child is not None:
            yield from _covering(child, segments, i + 1)
