"""The routes whose `match:` is a mapping (exact, prefix, regex), compiled for one method.

First match wins in file order, as for templates: `PatternIndex.find` returns the lowest route
index among the pattern routes that match, below a bound (the best template match). The time
it takes does not grow with the number of routes:

- exact paths are one dict lookup;
- prefixes are dicts keyed by the prefix text, one per prefix length: a path is looked up once
  per distinct length up to its own (a few dozen at most, however many routes);
- regexes are grouped by the prefix they are scoped to ("" for none), and the regexes of one
  scope are combined into one alternation, each alternative `[\\x00-\\xff]*?(?:REGEX)` anchored
  at the start under a named group per route: the first alternative that matches anywhere in
  the path is the lowest route index, which is file order (a plain alternation would prefer the
  leftmost position instead). A regex that cannot share an alternation (numbered back
  references, conditionals, inline flags) stands alone in its own block, in order.

Captures (`rest`, named groups, group numbers) are computed for the chosen route only. Pure.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from proxy.table.model import PathPattern, Route

_NAME = re.compile(rb"\(\?P([<=])([A-Za-z_][A-Za-z0-9_]*)([>)])")
_NEVER = 1 << 62


@dataclass(slots=True)
class _Block:
    """Regex routes of one scope that are tried together: one alternation, or one route."""

    low: int
    compiled: re.Pattern[bytes] | None  # the alternation; None: a route of several regexes
    routes: dict[int, tuple[int, Route]]  # group number of each alternative → (index, route)
    alone: tuple[int, Route] | None = None

    def find(self, data: bytes) -> tuple[int, Route] | None:
        if self.compiled is None:
            assert self.alone is not None
            pattern = self.alone[1].pattern
            assert pattern is not None
            if all(r.compiled.search(data) for r in pattern.regexes):
                return self.alone
            return None
        found = self.compiled.match(data)
        if found is None:
            return None
        return self.routes[found.lastindex or 0]


@dataclass(slots=True)
class _Scope:
    low: int = _NEVER
    entries: list[tuple[int, Route]] = field(default_factory=list)
    blocks: list[_Block] = field(default_factory=list)


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
            scope.blocks = _blocks(scope.entries)

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
            for block in scope.blocks:
                if block.low >= bound:
                    break
                hit = block.find(data)
                if hit is not None:
                    best, bound = hit, hit[0]
                    break
        return best


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


def _text(value: bytes | None) -> str:
    return "" if value is None else value.decode("utf-8", "surrogateescape")


def _blocks(entries: list[tuple[int, Route]]) -> list[_Block]:
    """Consecutive single-regex routes share an alternation; the rest stand alone."""
    blocks: list[_Block] = []
    run: list[tuple[int, Route, bytes]] = []
    for index, route in entries:
        assert route.pattern is not None
        alternative = _alternative(route.pattern, len(run))
        if alternative is None:
            blocks += _alternation(run)
            run = []
            blocks.append(_Block(index, None, {}, (index, route)))
        else:
            run.append((index, route, alternative))
    blocks += _alternation(run)
    return blocks


def _alternation(run: list[tuple[int, Route, bytes]]) -> list[_Block]:
    if not run:
        return []
    text = b"|".join(alternative for _, _, alternative in run)
    try:
        compiled = re.compile(text)
    except re.error:
        # one of them cannot share (a flag Python allows only at the start, say): halve it
        if len(run) == 1:
            index, route, _ = run[0]
            return [_Block(index, None, {}, (index, route))]
        middle = len(run) // 2
        return _alternation(_renumbered(run[:middle])) + _alternation(_renumbered(run[middle:]))
    routes = {
        compiled.groupindex[f"_r{k}"]: (index, route) for k, (index, route, _) in enumerate(run)
    }
    return [_Block(run[0][0], compiled, routes)]


def _renumbered(run: list[tuple[int, Route, bytes]]) -> list[tuple[int, Route, bytes]]:
    out = []
    for k, (index, route, _) in enumerate(run):
        assert route.pattern is not None
        alternative = _alternative(route.pattern, k)
        assert alternative is not None
        out.append((index, route, alternative))
    return out


def _alternative(pattern: PathPattern, k: int) -> bytes | None:
    """The pattern as alternative number `k`, its group names made unique; None when it cannot
    share an alternation."""
    if len(pattern.regexes) != 1:
        return None
    regex = pattern.regexes[0]
    renamed = _renamed(regex.compiled.pattern, f"g{k}_")
    if renamed is None:
        return None
    flags = b"(?i:" if regex.caseless else b"(?:"
    return b"(?P<_r%d>" % k + flags + rb"[\x00-\xff]*?(?:" + renamed + b"))"


def _renamed(source: bytes, prefix: str) -> bytes | None:
    """`source` with every group name prefixed; None if it refers to groups by number or holds
    a conditional, which an alternation would renumber."""
    out = bytearray()
    i, in_class = 0, False
    while i < len(source):
        c = source[i : i + 1]
        if c == b"\\":
            escaped = source[i + 1 : i + 2]
            if not in_class and escaped.isdigit() and escaped != b"0":
                return None
            out += source[i : i + 2]
            i += 2
            continue
        if in_class:
            if c == b"]":
                in_class = False
            out += c
            i += 1
            continue
        if c == b"[":
            in_class = True
            out += c
            i += 1
            if source[i : i + 1] == b"^":
                out += b"^"
                i += 1
            if source[i : i + 1] == b"]":
                out += b"]"
                i += 1
            continue
        if source.startswith(b"(?(", i):
            return None
        found = _NAME.match(source, i)
        if found is not None:
            out += b"(?P" + found[1] + prefix.encode() + found[2] + found[3]
            i = found.end()
            continue
        out += c
        i += 1
    return bytes(out)
