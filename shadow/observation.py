"""One side's answer to a request, as observed, and its lifted, comparable form.

An `Observation` is what the gateway saw: status, headers, body bytes, duration, or an error.
`lift` turns it into a `Lifted` value that comparison works on: the status, the configured
headers (names case-insensitive), and the body parsed when JSON, decoded when text, hashed when
binary. Lifting is pure; a body that claims to be JSON but does not parse is kept as text and
marked `garbage`, so the comparison can call it errored rather than a field difference.
"""

from __future__ import annotations

import enum
import hashlib
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import orjson


class Side(enum.Enum):
    PRIMARY = "primary"  # answered the client
    CANDIDATE = "candidate"  # compared with the primary, its answer discarded


class BodyKind(enum.Enum):
    EMPTY = "empty"
    JSON = "json"
    TEXT = "text"
    BINARY = "binary"


@dataclass(frozen=True, slots=True)
class Observation:
    side: Side
    status: int = 0
    headers: tuple[tuple[str, str], ...] = ()  # names lower-cased, in arrival order
    body: bytes = b""
    duration: float = 0.0  # seconds
    error: str | None = None  # set when the side failed: timeout, exception, garbage
    truncated: bool = False  # the body went over max_body: served, not compared
    skipped: bool = False  # not observed: e.g. the request body was over max_body, not replayable
    shed: bool = False  # not observed: no room for the call when its turn came (counted as shed)

    @classmethod
    def of(
        cls,
        side: Side,
        status: int,
        headers: Iterable[tuple[str, str]],
        body: bytes,
        duration: float,
        *,
        truncated: bool = False,
    ) -> Observation:
        """An answer, with header names lower-cased here so every later step can rely on it."""
        pairs = tuple((name.lower(), value) for name, value in headers)
        return cls(side, status, pairs, body, duration, truncated=truncated)

    @classmethod
    def failed(cls, side: Side, error: str, duration: float = 0.0) -> Observation:
        return cls(side, duration=duration, error=error)


@dataclass(frozen=True, slots=True)
class Lifted:
    status: int
    headers: dict[str, str]  # selected headers only, lower-cased names
    body: Any  # parsed JSON, text, or "sha256:<hex>" for binary; None when empty
    kind: BodyKind
    garbage: str | None = None  # why the body is not what it claims to be

    def tree(self) -> dict[str, Any]:
        """The shape field paths address: status, headers.<name>, body..."""
        return {"status": self.status, "headers": self.headers, "body": self.body}


_TEXT_TYPES = ("text/", "application/xml", "application/javascript", "application/x-www-form")


def header(observation: Observation, name: str) -> str | None:
    """The value of a header, repeated ones joined with ", " as HTTP allows."""
    values = [v for n, v in observation.headers if n == name]
    return ", ".join(values) if values else None


def media_type(content_type: str | None) -> str:
    return (content_type or "").split(";", 1)[0].strip().lower()


def is_json_type(media: str) -> bool:
    # application/json, application/vnd.api+json, application/problem+json, ...
    return media == "application/json" or media.endswith("+json")


def lift(observation: Observation, header_names: Iterable[str]) -> Lifted:
    media = media_type(header(observation, "content-type"))
    kind, body, garbage = lift_body(observation.body, media)
    return Lifted(observation.status, lift_headers(observation, header_names), body, kind, garbage)


def lift_headers(observation: Observation, header_names: Iterable[str]) -> dict[str, str]:
    selected = {}
    for name in header_names:
        value = header(observation, name.lower())
        if value is not None:
            selected[name.lower()] = value.strip()
    return selected


def lift_body(raw: bytes, media: str) -> tuple[BodyKind, Any, str | None]:
    if not raw:
        return BodyKind.EMPTY, None, None
    if is_json_type(media):
        try:
            return BodyKind.JSON, orjson.loads(raw), None
        except orjson.JSONDecodeError as exc:
            text, _ = _decode(raw)
            return BodyKind.TEXT, text, f"invalid JSON under {media}: {exc}"
    text, ok = _decode(raw)
    # a declared text type is text even in a legacy charset (PHP pages in ISO-8859-1); bytes
    # with no type are text when they are UTF-8
    if media.startswith(_TEXT_TYPES) or (ok and not media):
        return BodyKind.TEXT, text, None
    return BodyKind.BINARY, "sha256:" + hashlib.sha256(raw).hexdigest(), None


def _decode(raw: bytes) -> tuple[str, bool]:
    try:
        return raw.decode("utf-8"), True
    except UnicodeDecodeError:
        return raw.decode("latin-1"), False
