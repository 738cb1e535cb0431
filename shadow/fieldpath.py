"""Field paths (DESIGN.md): `status`, `headers.<name>`, `body.a.b`, `[*]` for every list item,
`*` for every key, e.g. `body.data[*].attributes.updated_at`.

Two kinds of value: a *concrete* path names one place in one lifted response, as a tuple of keys
and list indices (`("body", "data", 3, "id")`); a *pattern* is parsed from routing.yaml and
matches many concrete paths. Formatting a concrete path gives `body.data[3].id`; `generalise`
turns it into the pattern `body.data[*].id` under which differences are counted and ignored.
A key that is not a plain word (it holds `.`, `[`, `]`, `*`, spaces or is empty) is written
`["a.b"]` (JSON-quoted), both in concrete paths and in patterns, so formatting never loses
information.
"""

from __future__ import annotations

import enum
import json
import re
from collections.abc import Sequence
from dataclasses import dataclass

ROOTS = ("status", "headers", "body")
ConcretePath = tuple[str | int, ...]

_PLAIN_KEY = re.compile(r"[^.\[\]\s*\"]+")
_TOKEN = re.compile(
    r"""\.(?P<key>[^.\[\]\s*"]+)   # .key
      |\.(?P<star>\*)               # .*
      |\[(?P<any>\*)\]              # [*]
      |\[(?P<index>\d+)\]           # [3]
      |\[(?P<quoted>"(?:[^"\\]|\\.)*")\]  # ["a.b"]
    """,
    re.VERBOSE,
)


class StepKind(enum.Enum):
    KEY = "key"  # one named key
    ANY_KEY = "any_key"  # *
    ANY_ITEM = "any_item"  # [*]
    INDEX = "index"  # [3]; concrete only in practice, accepted for completeness


@dataclass(frozen=True, slots=True)
class Step:
    kind: StepKind
    key: str = ""
    index: int = 0

    def matches(self, part: str | int) -> bool:
        if self.kind is StepKind.KEY:
            return part == self.key
        if self.kind is StepKind.ANY_KEY:
            return isinstance(part, str)
        if self.kind is StepKind.ANY_ITEM:
            return isinstance(part, int)
        return part == self.index


@dataclass(frozen=True, slots=True)
class Pattern:
    source: str
    steps: tuple[Step, ...]  # the root is the first step, a KEY

    def matches(self, path: Sequence[str | int]) -> bool:
        """The pattern names exactly this place."""
        return len(path) == len(self.steps) and self.covers(path)

    def covers(self, path: Sequence[str | int]) -> bool:
        """The place is the pattern's, or lies inside it (ignoring `body.meta` ignores its keys)."""
        if len(path) < len(self.steps):
            return False
        return all(step.matches(part) for step, part in zip(self.steps, path, strict=False))


def parse(text: str) -> Pattern:
    """A pattern from its text; ValueError with the reason when it is not a field path."""
    source = text.strip()
    root = next(
        (
            r
            for r in ROOTS
            if source == r
            or source.startswith(r + ".")
            or (r == "body" and source.startswith("body["))
        ),
        None,
    )
    if root is None:
        raise ValueError(f"bad field path {text!r}: must start with status, headers. or body")
    steps = [Step(StepKind.KEY, root)]
    position = len(root)
    while position < len(source):
        found = _TOKEN.match(source, position)
        if found is None:
            raise ValueError(f"bad field path {text!r} at character {position + 1}")
        steps.append(_step(found))
        position = found.end()
    if root == "status" and len(steps) > 1:
        raise ValueError(f"bad field path {text!r}: status has no fields")
    if root == "headers":
        if len(steps) != 2 or steps[1].kind not in (StepKind.KEY, StepKind.ANY_KEY):
            raise ValueError(f"bad field path {text!r}: expected headers.<name>")
        steps[1] = Step(steps[1].kind, steps[1].key.lower())  # header names are case-insensitive
    return Pattern(source, tuple(steps))


def _step(found: re.Match[str]) -> Step:
    if found["key"] is not None:
        return Step(StepKind.KEY, found["key"])
    if found["star"] is not None:
        return Step(StepKind.ANY_KEY)
    if found["any"] is not None:
        return Step(StepKind.ANY_ITEM)
    if found["index"] is not None:
        return Step(StepKind.INDEX, index=int(found["index"]))
    return Step(StepKind.KEY, str(json.loads(found["quoted"])))


def parse_all(texts: Sequence[str]) -> tuple[Pattern, ...]:
    return tuple(parse(text) for text in texts)


def format_path(path: Sequence[str | int]) -> str:
    """`("body", "data", 3, "id")` → `body.data[3].id`."""
    out = [str(path[0])] if path else []
    for part in path[1:]:
        out.append(_format_part(part))
    return "".join(out)


def _format_part(part: str | int) -> str:
    if isinstance(part, int):
        return f"[{part}]"
    if _PLAIN_KEY.fullmatch(part):
        return "." + part
    return "[" + json.dumps(part, ensure_ascii=False) + "]"


def generalise(path: Sequence[str | int]) -> str:
    """A concrete path as the pattern that counts it: every list index becomes `[*]`."""
    out = [str(path[0])] if path else []
    for part in path[1:]:
        out.append("[*]" if isinstance(part, int) else _format_part(part))
    return "".join(out)


def any_covers(patterns: Sequence[Pattern], path: Sequence[str | int]) -> bool:
    return any(p.covers(path) for p in patterns)
