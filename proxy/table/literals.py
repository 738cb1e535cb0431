"""The literal text a regex needs at the start or at the end of the path, to index it by.

Most regexes of a web server's configuration are anchored at one end with literal text:
`^/index\\.php(/|$)`, `^/api/v1/admin/` (a prefix), `\\.php$`, `\\.(png|jpe?g|gif)$` (a set
of suffixes). A path can match such a regex only if it starts (or ends) with one of those
texts, so the matcher looks up the path's own start and end in a dict, once per distinct
length, and tries only the regexes found there: the time no longer grows with the number of
regexes. A regex with no such anchor (`/\\.`) is searched as before.

The pattern is read with Python's own regex parser (the one `re.compile` uses), never by hand;
anything it reads that is not plainly literal ends the anchor, so an anchor is always a
necessary condition, never a guess. Pure.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from re import _constants as sre  # type: ignore[attr-defined]
from re import _parser  # type: ignore[attr-defined]
from typing import Any

_MAX_KEYS = 64  # suffix sets are expanded from groups of alternatives; past this, not indexed


@dataclass(frozen=True, slots=True)
class Anchor:
    at_start: bool  # the keys are what the path starts with (else: ends with)
    keys: frozenset[bytes]  # lower-cased when `folded`
    folded: bool  # ASCII case is ignored
    before_newline: bool  # `$`: the end, or just before a final newline


def anchor(compiled: re.Pattern[bytes]) -> Anchor | None:
    """The regex's literal anchor, or None when it has none worth indexing."""
    try:
        parsed = _parser.parse(compiled.pattern, compiled.flags)
    except (re.error, RecursionError):  # pragma: no cover - compiled already
        return None
    folded = bool(parsed.state.flags & re.IGNORECASE)
    items: list[tuple[Any, Any]] = list(parsed.data)
    found = _at_start(items) or _at_end(items)
    if found is None:
        return None
    at_start, keys, before_newline = found
    if not keys or any(not key for key in keys):
        return None
    if folded:
        keys = {key.lower() for key in keys}
    return Anchor(at_start, frozenset(keys), folded, before_newline)


def _at_start(items: list[tuple[Any, Any]]) -> tuple[bool, set[bytes], bool] | None:
    if not items or items[0] not in ((sre.AT, sre.AT_BEGINNING), (sre.AT, sre.AT_BEGINNING_STRING)):
        return None
    text = bytearray()
    for op, av in items[1:]:
        if op is not sre.LITERAL:
            break
        text.append(av)
    return (True, {bytes(text)}, False) if text else None


def _at_end(items: list[tuple[Any, Any]]) -> tuple[bool, set[bytes], bool] | None:
    if not items or items[-1] not in ((sre.AT, sre.AT_END), (sre.AT, sre.AT_END_STRING)):
        return None
    before_newline = items[-1][1] is sre.AT_END
    tails: set[bytes] = {b""}
    for op, av in reversed(items[:-1]):
        if op is sre.LITERAL:
            tails = {bytes([av]) + tail for tail in tails}
            continue
        choices = _sequence([(op, av)])
        if choices is None or len(choices) * len(tails) > _MAX_KEYS:
            break
        tails = {choice + tail for choice in choices for tail in tails}
    if b"" in tails:  # some way through needs no text at all before the end: no anchor
        return None
    return False, tails, before_newline


def _choices(op: Any, av: Any) -> set[bytes] | None:
    """The texts a group of plain alternatives can match (`(png|jpe?g)`), or None."""
    if op is not sre.SUBPATTERN:
        return None
    _, add_flags, del_flags, inner = av
    if add_flags or del_flags:
        return None
    return _sequence(list(inner))


def _sequence(items: list[tuple[Any, Any]]) -> set[bytes] | None:
    texts: set[bytes] = {b""}
    for op, av in items:
        if op is sre.LITERAL:
            texts = {text + bytes([av]) for text in texts}
        elif op is sre.BRANCH:
            options: set[bytes] = set()
            for branch in av[1]:
                found = _sequence(list(branch))
                if found is None:
                    return None
                options |= found
            texts = {text + option for text in texts for option in options}
        elif op is sre.MAX_REPEAT and av[0] == 0 and av[1] == 1:
            optional = _sequence(list(av[2]))
            if optional is None:
                return None
            texts = {text + option for text in texts for option in (optional | {b""})}
        elif op is sre.SUBPATTERN:
            found = _choices(op, av)
            if found is None:
                return None
            texts = {text + option for text in texts for option in found}
        else:
            return None
        if len(texts) > _MAX_KEYS:
            return None
    return texts
