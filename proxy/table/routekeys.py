"""A route's path keys: `match:` as a mapping, `legacy_path` / `native_path`, and the answers a
route gives itself (`respond`, `redirect`).

    match: {exact: /api/me}                        the path, exactly
    match: {prefix: /api/}                         every path starting with the text (/api/x, /api/)
    match: {regex: '\\.php$', caseless: true}       a regular expression searched on the path
    match: {prefix: /api/v1/, regex: '\\.csv$'}     both
    match: {methods: GET|POST, exact: /login}      methods as in the string form (default *)

Regexes are nginx's (PCRE), translated once at load by proxy.table.nginx.pcre; a construct
Python's `re` cannot match as PCRE does is refused, never approximated. `regex` may be a list
(every one must match), which is how a location nested in a regex location is written.

Each function takes what the YAML loader produced and returns model values, or raises
`KeyProblem` naming the key at fault (the parser turns it into a problem at that key's line).
Pure.
"""

from __future__ import annotations

from collections.abc import Mapping

from proxy.table import fill
from proxy.table.matcher import parse_methods
from proxy.table.model import Answer, Fill, PathPattern, PathRegex, Redirect, Respond
from proxy.table.nginx.pcre import UnsupportedRegex, compile_pcre

MATCH_KEYS = ("methods", "exact", "prefix", "regex", "caseless")
RESPOND_KEYS = ("status", "body", "content_type")
REDIRECT_KEYS = ("status", "to")
REDIRECT_STATUSES = (301, 302, 303, 307, 308)


class KeyProblem(ValueError):
    """`reason` about `key` of the mapping being read ("" for the mapping as a whole)."""

    def __init__(self, key: str, reason: str) -> None:
        self.key = key
        self.reason = reason
        super().__init__(reason)


def read_pattern(block: Mapping[object, object]) -> tuple[frozenset[str] | None, PathPattern]:
    """`match:` as a mapping → (methods, pattern)."""
    _only(block, MATCH_KEYS, "match")
    methods: frozenset[str] | None = None
    if "methods" in block:
        text = block["methods"]
        if not isinstance(text, str):
            raise KeyProblem("methods", f"match.methods {text!r} must be a string like GET|POST")
        try:
            methods = parse_methods(text)
        except ValueError as exc:
            raise KeyProblem("methods", f"match.methods: {exc}") from None
    exact = _path(block, "exact") if "exact" in block else None
    prefix = _path(block, "prefix") if "prefix" in block else None
    regexes = _regexes(block) if "regex" in block else ()
    if exact is not None and (prefix is not None or regexes):
        raise KeyProblem("exact", "match.exact stands alone (not with prefix or regex)")
    if exact is None and prefix is None and not regexes:
        raise KeyProblem("", "match needs exact, prefix or regex (or a string 'METHODS /path')")
    if "caseless" in block and not regexes:
        raise KeyProblem("caseless", "match.caseless applies to regex only")
    return methods, PathPattern(exact, prefix, regexes)


def _only(block: Mapping[object, object], keys: tuple[str, ...], where: str) -> None:
    for key in block:
        if key not in keys:
            expected = ", ".join(keys)
            raise KeyProblem(str(key), f"unknown key {key!r} in {where} (expected {expected})")


def _path(block: Mapping[object, object], key: str) -> str:
    value = block[key]
    if not isinstance(value, str) or not value.startswith("/"):
        raise KeyProblem(key, f"match.{key} {value!r} must be a path starting with '/'")
    segments = value.split("/")[1:]
    # a prefix may end in a partial segment ("/a/." also covers "/a/.well-known")
    whole = segments if key == "exact" else segments[:-1]
    if "//" in value or any(s in (".", "..") for s in whole):
        reason = f"match.{key} {value!r} never matches a normalised path (no '//', '.', '..')"
        raise KeyProblem(key, reason)
    return value


def _regexes(block: Mapping[object, object]) -> tuple[PathRegex, ...]:
    sources = block["regex"]
    listed = sources if isinstance(sources, list) else [sources]
    caseless = block.get("caseless", False)
    flags = caseless if isinstance(caseless, list) else [caseless] * len(listed)
    if not listed or not all(isinstance(s, str) and s for s in listed):
        raise KeyProblem("regex", f"match.regex {sources!r} must be a pattern or a list of them")
    if len(flags) != len(listed) or not all(isinstance(f, bool) for f in flags):
        reason = "match.caseless must be true or false, or one of them per regex"
        raise KeyProblem("caseless", reason)
    compiled = []
    for source, folded in zip(listed, flags, strict=True):
        assert isinstance(source, str)
        try:
            regex = compile_pcre(source, caseless=folded)
        except UnsupportedRegex as exc:
            raise KeyProblem("regex", f"match.regex: {exc}") from None
        compiled.append(PathRegex(source, folded, regex.compiled))
    return tuple(compiled)


def read_path_fill(value: object, key: str, captures: tuple[str, ...]) -> Fill:
    """`legacy_path` or `native_path`: a path with the match's captures."""
    try:
        made = fill.parse_fill(value, path=True)
    except ValueError as exc:
        raise KeyProblem(key, f"{key}: {exc}") from None
    _captured(made, key, captures, ())
    return made


def read_answer(key: str, value: object, captures: tuple[str, ...]) -> Answer:
    """`respond:` (a status, or {status, body, content_type}) or `redirect:` ({status, to})."""
    if key == "respond":
        return _respond(value)
    if not isinstance(value, Mapping):
        raise KeyProblem("", "redirect must be a mapping like {status: 301, to: URL}")
    _only(value, REDIRECT_KEYS, "redirect")
    status = value.get("status", 302)
    if status not in REDIRECT_STATUSES or isinstance(status, bool):
        expected = ", ".join(map(str, REDIRECT_STATUSES))
        raise KeyProblem("status", f"redirect.status {status!r} must be one of {expected}")
    if "to" not in value:
        raise KeyProblem("", "redirect needs to: (the Location, e.g. https://example.com{uri})")
    try:
        to = fill.parse_fill(value["to"], path=False)
    except ValueError as exc:
        raise KeyProblem("to", f"redirect.to: {exc}") from None
    _captured(to, "redirect.to", captures, fill.VARIABLES)
    return Redirect(int(status), to)


def _respond(value: object) -> Respond:
    if _is_status(value):
        assert isinstance(value, int)
        return Respond(value)
    if not isinstance(value, Mapping):
        raise KeyProblem("", "respond must be a status (403) or {status: 200, body: text}")
    _only(value, RESPOND_KEYS, "respond")
    status = value.get("status")
    if not _is_status(status):
        raise KeyProblem("status", f"respond.status {status!r} must be a number 200..599")
    body = value.get("body")
    if body is not None and not isinstance(body, str):
        raise KeyProblem("body", f"respond.body {body!r} must be a string")
    content_type = value.get("content_type", "text/plain")
    if not isinstance(content_type, str) or not content_type.isprintable() or not content_type:
        raise KeyProblem("content_type", f"respond.content_type {content_type!r} is not a type")
    assert isinstance(status, int)
    return Respond(status, body, content_type)


def _is_status(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and 200 <= value <= 599


def _captured(made: Fill, key: str, captures: tuple[str, ...], variables: tuple[str, ...]) -> None:
    for name in fill.unknown_names(made, (*captures, *variables)):
        offered = ", ".join((*captures, *variables)) or "none: the match captures nothing"
        raise KeyProblem(key.split(".")[-1], f"{key}: {{{name}}} is not captured ({offered})")
    if clash := sorted(set(captures) & set(variables) & set(made.names)):
        reason = f"{key}: {{{clash[0]}}} is both a capture and a variable; rename the group"
        raise KeyProblem(key.split(".")[-1], reason)
