"""The routes whose `match:` is a mapping (exact, prefix, regex), compiled for one method.

First match wins in file order, as for templates: `PatternIndex.find` returns the lowest route
index among the pattern routes that match, below a bound (the best template match). The time
it takes does not grow with the number of routes:

- exact paths are one dict lookup;
- prefixes are dicts keyed by the prefix text, one per prefix length: a path is looked up once
  per distinct length up to its own (a few dozen at most, however many routes);
- regexes are grouped by the prefix they are scoped to ("" for none). Within a scope, a regex
  anchored with literal text (`^/api/`, `\\.php$`, `\\.(png|jpe?g)$`: proxy.table.literals) is
  indexed by that text, so a path looks up its own start and end once per distinct length and
  tries only the few regexes found there. The others are combined into one alternation, each
  alternative `[\\x00-\\xff]*?(?:REGEX)` anchored at the start under a named group per route:
  the first alternative that matches anywhere in the path is the lowest route index, which is
  file order (a plain alternation would prefer the leftmost position instead). A regex that
  cannot share an alternation (numbered back references, conditionals, inline flags) stands
  alone in its own block, in order. An alternation is still tried alternative by alternative:
  its cost grows with the number of unanchored regexes in a scope, which nginx configurations
  keep to a handful.

Captures (`rest`, named groups, group numbers) are computed for the chosen route only. Pure.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from proxy.table.alternation import Block, blocks
from proxy.table.literals import Anchor, anchor
from proxy.table.model import PathPattern, PathRegex, Route

_NEVER = 1 << 62


Hit = tuple[int, Route]
_Keys = dict[int, dict[bytes, list[Hit]]]  # length → text → routes, lowest index first


@dataclass(slots=True)
class _Anchored:
    """Regex routes indexed by the literal text their path must start or end with."""

    starts: _Keys = field(default_factory=dict)
    starts_folded: _Keys = field(default_factory=dict)
    ends: _Keys = field(default_factory=dict)
    ends_folded: _Keys = field(default_factory=dict)

    def add(self, hit: Hit, found: Anchor) -> None:
        if found.at_start:
            keys = self.starts_folded if found.folded else self.starts
        else:
            keys = self.ends_folded if found.folded else self.ends
        for key in found.keys:
            keys.setdefault(len(key), {}).setdefault(key, []).append(hit)

    def candidates(self, data: bytes) -> list[Hit]:
        found: list[Hit] = []
        size = len(data)
        lower = data.lower() if self.starts_folded or self.ends_folded else data
        # `$` also matches before a final newline: look at the end without it too
        trimmed = data[:-1] if data.endswith(b"\n") else None
        for keys, text in ((self.starts, data), (self.starts_folded, lower)):
            for length, by_text in keys.items():
                if length <= size:
                    found += by_text.get(text[:length], ())
        for keys, text in ((self.ends, data), (self.ends_folded, lower)):
            for length, by_text in keys.items():
                if length <= size:
                    found += by_text.get(text[size - length :], ())
                    if trimmed is not None and length < size:
                        found += by_text.get(text[size - 1 - length : size - 1], ())
        return sorted(set(found), key=lambda hit: hit[0]) if len(found) > 1 else found


@dataclass(slots=True)
class _Scope:
    low: int = _NEVER
    entries: list[tuple[int, Route]] = field(default_factory=list)
    anchored: _Anchored = field(default_factory=_Anchored)
    blocks: list[Block] = field(default_factory=list)

    def find(self, data: bytes, bound: int) -> Hit | None:
        best: Hit | None = None
        for index, route in self.anchored.candidates(data):
            if index >= bound:
                break
            assert route.pattern is not None
            if all(r.compiled.search(data) for r in route.pattern.regexes):
                best, bound = (index, route), index
                break
        for block in self.blocks:
            if block.low >= bound:
                break
            hit = block.find(data)
            if hit is not None:
                # the block's first match; one at or past the bound loses to what was found
                return hit if hit[0] < bound else best
        return best


class PatternIndex:
    """The pattern routes that allow one method, compiled."""

    def __init__(self, entries: list[tuple[int, Route]]) -> None:
        self.exact: dict[str, tuple[int, Route]] = {}
        self.prefixes: dict[int, dict[str, tuple[int, Route]]] = {}
        scopes: dict[str, _Scope] = {}
        for index, route in entries:
            pattern = route.pattern
            assert pattern is not None
            if pattern.exact is not None:
                self.exact.setdefault(pattern.exact, (index, route))
            elif not pattern.regexes:
                assert pattern.prefix is not None
                by_text = self.prefixes.setdefault(len(pattern.prefix), {})
                by_text.setdefault(pattern.prefix, (index, route))
            else:
                scope = scopes.setdefault(pattern.prefix or "", _Scope())
                scope.low = min(scope.low, index)
                scope.entries.append((index, route))
        self.lengths = sorted(self.prefixes)
        self.unscoped = scopes.pop("", None)
        self.scopes = scopes
        self.scope_lengths = sorted({len(s) for s in scopes})
        for scope in (*scopes.values(), *([self.unscoped] if self.unscoped else [])):
            others = []
            for index, route in scope.entries:
                assert route.pattern is not None
                found = next(filter(None, map(_anchor, route.pattern.regexes)), None)
                if found is None:
                    others.append((index, route))
                else:
                    scope.anchored.add((index, route), found)
            scope.blocks = blocks(others)

    def find(self, path: str, bound: int) -> tuple[int, Route] | None:
        """The lowest-indexed pattern route below `bound` matching `path` (normalised)."""
        best: tuple[int, Route] | None = None
        hit = self.exact.get(path)
        if hit is not None and hit[0] < bound:
            best, bound = hit, hit[0]
        size = len(path)
        for length in self.lengths:
            if length > size:
                break
            hit = self.prefixes[length].get(path[:length])
            if hit is not None and hit[0] < bound:
                best, bound = hit, hit[0]
        data: bytes | None = None
        scopes = [self.unscoped] if self.unscoped is not None else []
        for length in self.scope_lengths:
            if length > size:
                break
            if (scope := self.scopes.get(path[:length])) is not None:
                scopes.append(scope)
        for scope in scopes:
            if scope.low >= bound:
                continue
            if data is None:
                data = path.encode("utf-8", "surrogateescape")
            hit = scope.find(data, bound)
            if hit is not None:
                best, bound = hit, hit[0]
        return best


ANY = "*"  # the index for methods no route names: only `*` routes can match


def by_method(routes: Sequence[Route], methods: Sequence[str]) -> dict[str, PatternIndex] | None:
    """A PatternIndex per method (and one under ANY), or None for a table of templates only.
    Methods that allow the same routes share one index: all of them, usually."""
    entries: dict[str, list[Hit]] = {method: [] for method in (*methods, ANY)}
    for index, route in enumerate(routes):
        if route.pattern is None:
            continue
        for method, found in entries.items():
            if (route.methods is None) if method == ANY else route.allows(method):
                found.append((index, route))
    if not any(entries.values()):
        return None
    built: dict[tuple[int, ...], PatternIndex] = {}
    out = {}
    for method, found in entries.items():
        key = tuple(index for index, _ in found)
        if key not in built:
            built[key] = PatternIndex(found)
        out[method] = built[key]
    return out


def captures(pattern: PathPattern, path: str) -> dict[str, str]:
    """What a matched pattern captured: `rest` after the prefix, each regex's groups."""
    found: dict[str, str] = {}
    if pattern.prefix is not None:
        found["rest"] = path[len(pattern.prefix) :]
    if pattern.regexes:
        data = path.encode("utf-8", "surrogateescape")
        for regex in pattern.regexes:
            match = regex.compiled.search(data)
            if match is None:
                continue
            for number, value in enumerate(match.groups(), start=1):
                found[str(number)] = _text(value)
            for name, value in match.groupdict().items():
                found[name] = _text(value)
    return found


def matches(pattern: PathPattern, path: str) -> bool:
    """The reference meaning of a pattern, one route at a time (for `naive_match`)."""
    if pattern.exact is not None:
        return path == pattern.exact
    if pattern.prefix is not None and not path.startswith(pattern.prefix):
        return False
    data = path.encode("utf-8", "surrogateescape")
    return all(r.compiled.search(data) for r in pattern.regexes)


def _anchor(regex: PathRegex) -> Anchor | None:
    return anchor(regex.compiled)


def _text(value: bytes | None) -> str:
    return "" if value is None else value.decode("utf-8", "surrogateescape")
