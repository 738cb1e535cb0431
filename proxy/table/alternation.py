"""Regex routes of one scope combined into one alternation, so that one pass finds the first.

Each route's regex becomes the alternative `(?P<_rK>[\\x00-\\xff]*?(?:REGEX))`, anchored at the
start: alternatives are tried in route order and each looks anywhere in the path, so the first
alternative that matches is the lowest route index, which is file order (a plain alternation
would prefer the leftmost position in the path instead). Group names are made unique per
alternative. A regex that cannot share an alternation (numbered back references, conditionals,
an inline flag, which Python allows only at the start) stands alone in a block of its own, in
order. Pure.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from proxy.table.model import PathPattern, Route

_NAME = re.compile(rb"\(\?P([<=])([A-Za-z_][A-Za-z0-9_]*)([>)])")


@dataclass(slots=True)
class Block:
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


def blocks(entries: list[tuple[int, Route]]) -> list[Block]:
    """Consecutive single-regex routes share an alternation; the rest stand alone."""
    blocks: list[Block] = []
    run: list[tuple[int, Route, bytes]] = []
    for index, route in entries:
        assert route.pattern is not None
        alternative = _alternative(route.pattern, len(run))
        if alternative is None:
            blocks += _alternation(run)
            run = []
            blocks.append(Block(index, None, {}, (index, route)))
        else:
            run.append((index, route, alternative))
    blocks += _alternation(run)
    return blocks


def _alternation(run: list[tuple[int, Route, bytes]]) -> list[Block]:
    if not run:
        return []
    text = b"|".join(alternative for _, _, alternative in run)
    try:
        compiled = re.compile(text)
    except (re.error, RecursionError):
        # one of them cannot share (a flag Python allows only at the start, say): halve it
        if len(run) == 1:
            index, route, _ = run[0]
            return [Block(index, None, {}, (index, route))]
        middle = len(run) // 2
        return _alternation(_renumbered(run[:middle])) + _alternation(_renumbered(run[middle:]))
    routes = {
        compiled.groupindex[f"_r{k}"]: (index, route) for k, (index, route, _) in enumerate(run)
    }
    return [Block(run[0][0], compiled, routes)]


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
    alternative = b"(?P<_r%d>" % k + flags + rb"[\x00-\xff]*?(?:" + renamed + b")))"
    try:
        re.compile(alternative)  # an inline flag, say, is allowed at the start of a pattern only
    except (re.error, RecursionError):
        return None
    return alternative


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
