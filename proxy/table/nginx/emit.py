"""routing.yaml written out, by hand rather than by a YAML dumper, so that every setting carries
a comment citing the nginx file:line it came from, and the report follows as comments. Pure.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from proxy.table.nginx.report import Entry

_PLAIN = re.compile(r"[A-Za-z0-9/_.][A-Za-z0-9/_.=+-]*")
_YAML_WORDS = {"y", "n", "yes", "no", "on", "off", "true", "false", "null", "~"}
COMMENT_AT = 36  # the column comments start at, as in the repository's routing.yaml


def scalar(value: str | int | bool) -> str:
    """A YAML scalar: plain when that reads back as the same string, else quoted."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if _PLAIN.fullmatch(value) and value.lower() not in _YAML_WORDS and not _number(value):
        return value
    if value.isprintable():
        return "'" + value.replace("'", "''") + "'"
    return json.dumps(value)


def _number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def flow(pairs: Iterable[tuple[str, object]]) -> str:
    """`{key: value, ...}` with scalars or lists of scalars."""
    items = []
    for key, value in pairs:
        if isinstance(value, list | tuple):
            text = "[" + ", ".join(scalar(v) for v in value) + "]"
        else:
            assert isinstance(value, str | int | bool)
            text = scalar(value)
        items.append(f"{key}: {text}")
    return "{" + ", ".join(items) + "}"


def line(text: str, comment: str = "") -> str:
    if not comment:
        return text
    return (
        f"{text.ljust(COMMENT_AT - 1)} # {comment}"
        if len(text) < COMMENT_AT - 1
        else (f"{text}  # {comment}")
    )


@dataclass
class RouteText:
    """One route as written: its comment lines, then its keys."""

    comments: list[str]
    id: str
    keys: list[tuple[str, str, str]] = field(default_factory=list)  # key, value text, comment

    def lines(self) -> list[str]:
        out = [f"  # {c}" for c in self.comments]
        out.append(f"  - id: {scalar(self.id)}")
        out += [line(f"    {key}: {value}", comment) for key, value, comment in self.keys]
        return out


def report_lines(title: str, entries: Sequence[Entry], differences: Sequence[str]) -> list[str]:
    """The report as comment lines: every directive with its verdict, then the deliberate
    differences from nginx."""
    out = ["", "# " + "-" * 96, f"# {title}", "#"]
    width = max((len(e.where) for e in entries), default=0)
    for e in entries:
        out.append(f"# {e.where.ljust(width)}  {e.status.value:<12}  {e.text}")
        out.append(f"#   {' ' * width}{e.note}")
    if differences:
        out += ["#", "# Where the gateway deliberately answers differently from nginx:"]
        out += [f"#   - {d}" for d in differences]
    return out
