"""Text a route fills in from its request: `legacy_path`, `native_path` and `redirect.to`.

`{name}` is replaced by a capture of the match: a template's parameter (`{id}`), `rest` (the
path after a `prefix:`), a regex's named group or group number (`{page}`, `{1}`). A redirect may
also use the request's variables, nginx's names for them:

    request_uri   the target as the client sent it: path and query, not normalised
    uri           the normalised path
    args          the query ("" when there is none); is_args: "?" when there is a query, else ""
    host          the Host header's host name, lower-cased, without its port
    scheme        http or https, as the client reached the edge

`{{` and `}}` are literal braces. Parsing happens once, at load; `render` is a join. Pure.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping

from proxy.table.model import Fill

VARIABLES = ("request_uri", "uri", "args", "is_args", "host", "scheme")
_PLACE = re.compile(r"\{\{|\}\}|\{([^{}]*)\}|[{}]")
_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*|[0-9]+")


def parse_fill(value: object, *, path: bool) -> Fill:
    """`value` as a Fill; a path (legacy_path, native_path) must start with "/"."""
    if not isinstance(value, str) or not value:
        raise ValueError(f"{value!r} must be a non-empty string")
    parts: list[str] = []
    literal: list[str] = []
    end = 0
    for found in _PLACE.finditer(value):
        literal.append(value[end : found.start()])
        end = found.end()
        token = found.group()
        if token in ("{{", "}}"):
            literal.append(token[0])
            continue
        name = found.group(1)
        if name is None:
            raise ValueError(f"unmatched {token!r} in {value!r} (write {token * 2} for the brace)")
        if _NAME.fullmatch(name) is None:
            raise ValueError(f"bad name {{{name}}} in {value!r}")
        parts += ["".join(literal), name]
        literal = []
    literal.append(value[end:])
    parts.append("".join(literal))
    if path and not parts[0].startswith("/"):
        raise ValueError(f"{value!r} must start with '/'")
    return Fill(value, tuple(parts))


def unknown_names(fill: Fill, known: Iterable[str]) -> list[str]:
    """The names `fill` uses that are neither captured nor variables it may use."""
    allowed = set(known)
    return [name for name in fill.names if name not in allowed]


def render(fill: Fill, values: Mapping[str, str]) -> str:
    """The text, every name replaced by its value ("" for a group that took no part)."""
    parts = fill.parts
    if len(parts) == 1:
        return parts[0]
    out = [parts[0]]
    for i in range(1, len(parts), 2):
        out.append(values.get(parts[i], ""))
        out.append(parts[i + 1])
    return "".join(out)


def literal(text: str) -> str:
    """`text` written as a fill that renders to itself (braces doubled)."""
    return text.replace("{", "{{").replace("}", "}}")
