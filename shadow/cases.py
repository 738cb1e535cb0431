"""Exported parity tests, at run time: one stored request, legacy's stored answer, one field.

`strangler export-tests` writes, per route, a pytest file and beside it a JSON file of cases
(see shadow.export). Each test calls `Case.check(native, rules)`: the request goes to the native
side (proxy.sides.probe), its answer is lifted, redacted as the stored one was, and compared
with legacy's stored answer by `shadow.compare` itself: the compared headers, the route's
`ignore:` rules and the learned noise (only in the kinds A/A showed) set aside. The test is
about one field: it fails when that field differs, naming each place with legacy's value and
native's, as `strangler report` shows them; a difference elsewhere is another test's.

A case of the errored slot checks that the native side answers at all (in time, a valid
status, a body that parses as it claims). A write's case (exported from a dry run, which legacy
did not answer again) compares the status alone, as the replay did.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from shadow.compare import Comparison, Rules, compare_lifted
from shadow.fieldpath import parse_all
from shadow.observation import BodyKind, Lifted, Observation, is_json_type, lift, media_type
from shadow.records import ERRORED_FIELD
from shadow.redact import redact_tree
from shadow.samples import excerpt, value_at

SHOWN = 5  # places named in a failure; the rest are counted


@dataclass(frozen=True, slots=True)
class RouteRules:
    """What the route's comparison sets aside, as written in the exported file."""

    headers: tuple[str, ...] = ("content-type", "location")
    ignore: tuple[str, ...] = ()
    noise: Mapping[str, Sequence[str]] = field(default_factory=dict)  # field → kinds A/A showed
    redact: tuple[str, ...] = ()

    def rules(self) -> Rules:
        noise = dict(self.noise)
        kinds = frozenset((f, k) for f, ks in noise.items() for k in ks)
        return Rules(
            tuple(h.lower() for h in self.headers), parse_all(self.ignore), frozenset(noise),
            noise_kinds=kinds,
        )  # fmt: skip


@dataclass(frozen=True, slots=True)
class StoredRequest:
    method: str
    path: str  # as the gateway matched it (not percent-encoded)
    query: str
    headers: tuple[tuple[str, str], ...]
    body: bytes
    host: str | None = None  # the Host the replay sent, when known


class NativeSide(Protocol):
    def send(self, request: StoredRequest, /) -> Observation: ...


@dataclass(frozen=True, slots=True)
class Case:
    name: str
    field: str
    kind: str
    request: StoredRequest
    legacy: Any  # legacy's stored answer: {"status", "headers", "body"}, redacted
    status_only: bool = False

    def check(self, native: NativeSide, rules: RouteRules) -> None:
        """Send the request to the native side; AssertionError when the field differs."""
        failure = judge(self, native.send(self.request), rules)
        if failure is not None:
            raise AssertionError(failure)


def judge(case: Case, seen: Observation, route: RouteRules) -> str | None:
    """Why the native answer fails this case, or None when it passes."""
    request = _line(case.request)
    if seen.error is not None:
        return f"{request}: the native side failed: {seen.error}"
    if not 100 <= seen.status <= 599:
        return f"{request}: the native side gave no valid HTTP status ({seen.status})"
    rules = route.rules()
    lifted = lift(seen, rules.headers)
    if lifted.garbage:
        return f"{request}: the native side answered garbage: {lifted.garbage}"
    if case.field == ERRORED_FIELD:
        return None  # it answered, in time, with what it claims to send
    native_tree = redact_tree(lifted.tree(), parse_all(route.redact))
    legacy_tree = case.legacy
    if case.status_only:
        native_tree = {"status": native_tree["status"], "headers": {}, "body": None}
    found = compare_lifted(lifted_of(legacy_tree), _with_tree(lifted, native_tree), rules)
    return _failure(case, request, found, legacy_tree, native_tree)


def _failure(case: Case, request: str, found: Comparison, legacy: Any, native: Any) -> str | None:
    mine = [d for d in found.differences if d.field == case.field]
    if not mine:
        return None
    lines = [f"{request}: native differs from legacy at {case.field}"]
    for d in mine[:SHOWN]:
        a, b = excerpt(_at(legacy, d.path), _at(native, d.path))
        lines.append(f"  {d.path} ({d.kind.value}): legacy {a}, native {b}")
    if len(mine) > SHOWN:
        lines.append(f"  ... and {len(mine) - SHOWN} more places")
    return "\n".join(lines)


def _at(tree: Any, path: str) -> str:
    return value_at(json.dumps(tree), path)


def _line(request: StoredRequest) -> str:
    return f"{request.method} {request.path}" + (f"?{request.query}" if request.query else "")


def lifted_of(tree: Any) -> Lifted:
    """A stored answer as comparison takes it; its body's kind told by its value and type."""
    status, headers, body = tree.get("status", 0), tree.get("headers") or {}, tree.get("body")
    if body is None:
        kind = BodyKind.EMPTY
    elif not isinstance(body, str) or is_json_type(media_type(headers.get("content-type"))):
        kind = BodyKind.JSON
    elif body.startswith("sha256:") and len(body) == 71:
        kind = BodyKind.BINARY
    else:
        kind = BodyKind.TEXT
    return Lifted(status, dict(headers), body, kind)


def _with_tree(lifted: Lifted, tree: Any) -> Lifted:
    return Lifted(tree["status"], dict(tree["headers"]), tree["body"], lifted.kind)


class Cases(Mapping[str, Case]):
    """The cases of one exported file, read from the JSON file beside it."""

    def __init__(self, cases: Mapping[str, Case]) -> None:
        self._cases = dict(cases)

    @classmethod
    def beside(cls, test_file: str) -> Cases:
        document = json.loads(Path(test_file).with_suffix(".json").read_text(encoding="utf-8"))
        return cls({name: case_of(name, c) for name, c in document["cases"].items()})

    def __getitem__(self, name: str) -> Case:
        return self._cases[name]

    def __iter__(self) -> Iterator[str]:
        return iter(self._cases)

    def __len__(self) -> int:
        return len(self._cases)


def case_of(name: str, c: Mapping[str, Any]) -> Case:
    r = c["request"]
    body = base64.b64decode(r["body_base64"]) if "body_base64" in r else r["body"].encode()
    request = StoredRequest(
        r["method"], r["path"], r["query"], tuple((k, v) for k, v in r["headers"]), body,
        r.get("host"),
    )  # fmt: skip
    return Case(name, c["field"], c["kind"], request, c["legacy"], c.get("status_only", False))


def request_json(request: StoredRequest) -> dict[str, Any]:
    """A stored request as the case file keeps it (the body as text when it is UTF-8)."""
    out: dict[str, Any] = {
        "method": request.method, "path": request.path, "query": request.query,
        "headers": [list(pair) for pair in request.headers],
    }  # fmt: skip
    try:
        out["body"] = request.body.decode("utf-8")
    except UnicodeDecodeError:
        out["body_base64"] = base64.b64encode(request.body).decode("ascii")
    if request.host is not None:
        out["host"] = request.host
    return out
