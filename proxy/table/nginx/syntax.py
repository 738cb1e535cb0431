"""nginx's grammar, through crossplane: text → typed statements, one file at a time.

crossplane (the maintained fork, distributed as `ngxparse`, imported as `crossplane`) knows
nginx's lexer, quoting and which directive may stand where; it has no type hints, so this is the
only module that touches it, and it hands back frozen `Statement`s. It never follows `include`
and never opens a file: `load` does both, so that an `nginx -T` dump can answer includes from
the dump itself.

A fragment (a bare `server {}` site file, a snippet included inside a location) is checked in
the context it is used in: crossplane knows contexts only from the top of a file, so the text
is wrapped in openers written on its first line, which keeps every line number as it is.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import crossplane

# how to open each block that can hold an included file, so crossplane checks the fragment in it
OPENERS = {
    "http": "http {",
    "events": "events {",
    "server": "server {",
    "location": "location / {",
    "upstream": "upstream u {",
    "if": "if ($x) {",
    "limit_except": "limit_except GET {",
}

ESCAPES = {'"': '"', "'": "'", "\\": "\\", "t": "\t", "r": "\r", "n": "\n"}


@dataclass(frozen=True, slots=True)
class Statement:
    name: str
    args: tuple[str, ...]
    line: int
    block: tuple[Statement, ...] | None = None


class SyntaxProblem(Exception):
    """nginx would refuse this text: `reason` in nginx's words, at `line` of the file."""

    def __init__(self, line: int | None, reason: str) -> None:
        self.line = line
        self.reason = reason
        super().__init__(f"{reason} (line {line})")


def parse(text: str, file: str, context: tuple[str, ...] = ()) -> tuple[Statement, ...]:
    """The statements of `text` (named `file` in messages), as found inside `context`, the
    names of the enclosing blocks (`()` for a whole nginx.conf, `("http",)` for a site file)."""
    bare = _parse(text, file, check_ctx=not context)
    if not context:
        return bare
    if any(name not in OPENERS for name in context):
        # a block crossplane cannot be told about (a `map`, a module's own): syntax only
        return bare
    # the bare pass above found any unbalanced brace at its real line; this one checks
    # whether each directive may stand where the include puts it
    opened = " ".join(OPENERS[name] for name in context)
    wrapped = _parse(f"{opened} {text}\n{'}' * len(context)}", file, check_ctx=True)
    for _ in context:
        inner = wrapped[0].block if wrapped else None
        wrapped = inner or ()
    return wrapped


def _parse(text: str, file: str, *, check_ctx: bool) -> tuple[Statement, ...]:
    payload: dict[str, Any] = crossplane.parse_string(
        text,
        filename=file,
        single=True,
        catch_errors=False,
        check_ctx=check_ctx,
        onerror=_keep,
    )
    if payload["errors"]:
        error = payload["errors"][0]
        cause = error.get("callback")
        reason = getattr(cause, "strerror", None) or str(error["error"])
        raise SyntaxProblem(error.get("line"), reason)
    return _statements(payload["config"][0]["parsed"])


def _keep(error: Exception) -> Exception:
    return error


def unescape(arg: str) -> str:
    """An argument as nginx holds it: ngx_conf_read_token turns `\\"`, `\\'` and `\\\\` into the
    character and `\\t`, `\\r`, `\\n` into the control character, quoted or not (crossplane
    keeps them as written, so `location ~ \\\\.php` is the regex `\\.php` for nginx)."""
    if "\\" not in arg:
        return arg
    out, i = [], 0
    while i < len(arg):
        c = arg[i]
        if c == "\\" and i + 1 < len(arg) and arg[i + 1] in ESCAPES:
            out.append(ESCAPES[arg[i + 1]])
            i += 2
            continue
        out.append(c)
        i += 1
    return "".join(out)


def _statements(raw: list[dict[str, Any]]) -> tuple[Statement, ...]:
    return tuple(
        Statement(
            name=str(item["directive"]),
            args=tuple(unescape(str(a)) for a in item["args"]),
            line=int(item["line"]),
            block=_statements(item["block"]) if "block" in item else None,
        )
        for item in raw
        if item["directive"] != "#"
    )
