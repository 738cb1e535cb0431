"""routing.yaml (version 1) → RouteTable.

`parse` is pure: text in, frozen data out, or one TableError listing every problem found, each
with file, line, route id and a stable reason. `load` reads the file and the environment around
it. The YAML loader records the line of every mapping key, so a problem points at the key that
caused it rather than at the route or the file.
"""

from __future__ import annotations

import dataclasses
import difflib
import enum
import hashlib
import os
import posixpath
import re
from collections.abc import Callable, Collection, Hashable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from proxy.table import controls, routekeys, units
from proxy.table import legacy as legacy_keys
from proxy.table.matcher import parse_match
from proxy.table.model import (
    SAFE_METHODS,
    CanaryConfig,
    Edge,
    GateConfig,
    GuardConfig,
    LegacyConfig,
    Limits,
    Mode,
    NativeConfig,
    PathPattern,
    PathTemplate,
    Problem,
    RecordConfig,
    Route,
    RouteTable,
    SegmentKind,
    ShadowConfig,
    Side,
    StaticConfig,
    TableError,
    Writes,
)

try:
    from yaml import CSafeLoader as _BaseLoader
except ImportError:  # pragma: no cover - PyYAML built without libyaml
    from yaml import SafeLoader as _BaseLoader  # type: ignore[assignment]

SUPPORTED_VERSION = 1
DEFAULT_CONFIG = "routing.yaml"
_ROUTE_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.:-]*")


class _Map(dict[object, object]):
    """A YAML mapping that remembers where it and each of its keys were written."""

    line: int
    key_lines: dict[object, int]
    duplicates: list[tuple[object, int]]


class _Seq(list[object]):
    line: int
    item_lines: list[int]


class _Loader(_BaseLoader):
    pass


def _construct_map(loader: _Loader, node: yaml.MappingNode) -> _Map:
    loader.flatten_mapping(node)
    result = _Map()
    result.line, result.key_lines, result.duplicates = node.start_mark.line + 1, {}, []
    for key_node, value_node in node.value:
        key = loader.construct_object(key_node, deep=True)
        line = key_node.start_mark.line + 1
        if not isinstance(key, Hashable):
            raise yaml.constructor.ConstructorError(
                None, None, "a mapping key must be a plain value", key_node.start_mark
            )
        if key in result:
            result.duplicates.append((key, line))
        result[key] = loader.construct_object(value_node, deep=True)
        result.key_lines[key] = line
    return result


def _construct_seq(loader: _Loader, node: yaml.SequenceNode) -> _Seq:
    result = _Seq(loader.construct_object(item, deep=True) for item in node.value)
    result.line = node.start_mark.line + 1
    result.item_lines = [item.start_mark.line + 1 for item in node.value]
    return result


_Loader.add_constructor("tag:yaml.org,2002:map", _construct_map)
_Loader.add_constructor("tag:yaml.org,2002:seq", _construct_seq)


@dataclass
class _Problems:
    file: str
    found: list[Problem] = field(default_factory=list)

    def add(self, line: int, reason: str, route_id: str | None = None) -> None:
        self.found.append(Problem(self.file, line, reason, route_id))


# Any, because each parser returns the type of its own field; the key tables below pair them
Parser = Callable[[object], Any]


def _enum(kind: type[enum.Enum]) -> Parser:
    def parse(value: object) -> enum.Enum:
        for member in kind:
            if member.value == value:
                return member
        expected = ", ".join(str(member.value) for member in kind)
        raise ValueError(f"unknown value {value!r} (expected {expected})")

    return parse


LEGACY_KEYS: dict[str, Parser] = legacy_keys.LEGACY_KEYS
STATIC_KEYS: dict[str, Parser] = legacy_keys.STATIC_KEYS
NATIVE_KEYS: dict[str, Parser] = {
    "app": units.parse_app_spec,
    "url": units.parse_url,
    "timeout": units.parse_duration,
    "workers": units.parse_count,
    "nice": units.parse_nice,
}
MAX_WORKERS = 64  # native.workers: processes, not threads; more is a typo
SHADOW_KEYS: dict[str, Parser] = {
    "primary": _enum(Side),
    "sample": units.parse_fraction,
    "noise_sample": units.parse_fraction,
    "timeout": units.parse_duration,
    "max_in_flight": units.parse_positive_int,
    "max_in_process": units.parse_positive_int,
    "in_process_share": units.parse_share,
    "max_body": units.parse_size,
    "headers": units.parse_header_names,
    "ignore": units.parse_field_paths,
    "redact": units.parse_field_paths,
    "writes": _enum(Writes),
    "store": units.parse_store_url,
}
GATE_KEYS: dict[str, Parser] = {
    "min_samples": units.parse_positive_int,
    "max_mismatch_rate": units.parse_fraction,
    "window": units.parse_duration,
    "quiet_for": units.parse_duration_or_zero,
}
CANARY_KEYS: dict[str, Parser] = controls.CANARY_KEYS
LIMITS_KEYS: dict[str, Parser] = {
    "request_body": units.parse_size,
    "buffer_request": units.parse_size_or_zero,
    "buffer_response": units.parse_size,
    "request_line": units.parse_size,
    "header_line": units.parse_size,
    "head": units.parse_size,
    "headers": units.parse_positive_int,
    "header_timeout": units.parse_duration,
    "body_timeout": units.parse_duration,
    "keepalive_timeout": units.parse_duration,
    "connections": units.parse_positive_int,
}
EDGE_KEYS: dict[str, Parser] = {
    "trusted_proxies": units.parse_networks,
}
RECORD_KEYS: dict[str, Parser] = {
    "sample": units.parse_fraction,
    "max_body": units.parse_size,
}
TOP_KEYS = (
    "version", "legacy", "static", "native", "shadow", "gate", "limits", "canary", "edge",
    "record", "routes",
)  # fmt: skip
ROUTE_KEYS = (
    "id", "match", "mode", "shadow", "gate", "canary", "fallback", "guard", "legacy_removed",
    "legacy_path", "native_path", "respond", "redirect", "record",
)  # fmt: skip
ANSWER_KEYS = ("respond", "redirect")
# a route's own blocks, and the modes that use them; in any other mode a block is kept, checked
# and inert, so that a flip (and its rollback) changes nothing but the `mode:` line
ROUTE_BLOCKS: dict[str, frozenset[Mode]] = {
    "shadow": frozenset({Mode.SHADOW, Mode.CANARY}),  # a canary compares with it
    "gate": frozenset({Mode.SHADOW}),
    "canary": frozenset({Mode.CANARY}),
    "fallback": frozenset({Mode.NATIVE, Mode.CANARY}),
    "guard": frozenset({Mode.NATIVE, Mode.CANARY}),
}


def default_config_path(env: Mapping[str, str] | None = None) -> Path:
    """The table named by STRANGLER_CONFIG, or routing.yaml in the working directory."""
    env = os.environ if env is None else env
    return Path(env.get("STRANGLER_CONFIG") or DEFAULT_CONFIG)


def load(path: str | os.PathLike[str], env: Mapping[str, str] | None = None) -> RouteTable:
    """Read and parse a table; a file that cannot be read is a problem at line 0."""
    filename = os.fspath(path)
    try:
        text = Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise unreadable(filename, exc) from exc
    return parse(text, filename, os.environ if env is None else env)


def unreadable(filename: str, exc: Exception) -> TableError:
    """The problem of a table file that could not be read, naming the file it tried: a name
    relative to the working directory says too little about where that was."""
    reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
    tried = os.path.abspath(filename)
    if tried != filename:
        reason += f" (tried {tried})"
    return TableError([Problem(filename, 0, f"cannot read the file: {reason}")])


def parse(
    text: str, filename: str = DEFAULT_CONFIG, env: Mapping[str, str] | None = None
) -> RouteTable:
    """Parse and validate a table; env (LEGACY_URL, STRANGLER_STORE) overrides the file.

    A relative SQLite store in the file is made relative to the file's directory as
    `filename` names it (STRANGLER_STORE, set for a process, is taken as it is)."""
    env = {} if env is None else env
    problems = _Problems(filename)
    try:
        document = yaml.load(text, Loader=_Loader)  # _Loader is a SafeLoader
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark is not None else 1
        # `*` and `&` start aliases and anchors: the usual cause is an unquoted field path
        hint = " (quote values that hold * or &)" if "alphabetic or numeric" in str(exc) else ""
        reason = f"invalid YAML: {exc.problem}{hint}"
        raise TableError([Problem(filename, line, reason)]) from exc
    except yaml.YAMLError as exc:
        raise TableError([Problem(filename, 1, f"invalid YAML: {exc}")]) from exc
    table = _read_table(problems, document, env)
    if problems.found or table is None:
        raise TableError(sorted(problems.found, key=lambda p: p.line))
    return dataclasses.replace(
        table, source=filename, digest=hashlib.sha256(text.encode()).hexdigest()
    )


def _read_table(p: _Problems, doc: object, env: Mapping[str, str]) -> RouteTable | None:
    if not isinstance(doc, _Map):
        got = "an empty file" if doc is None else "a list" if isinstance(doc, list) else repr(doc)
        p.add(1, f"expected a mapping with version, legacy and routes, got {got}")
        return None
    _check_keys(p, doc, TOP_KEYS, "")
    _read_version(p, doc)
    legacy = _read_legacy(p, doc, env)
    native = _read_native(p, doc)
    store = _env_store(p, doc, env)
    shadow = _read_shadow(p, doc, store)
    gate = _read_gate(p, doc, GateConfig())
    canary = dataclasses.replace(CanaryConfig(), **_read_block(p, doc, "canary", CANARY_KEYS))
    record = _read_block(p, doc, "record", RECORD_KEYS)
    routes = _read_routes(p, doc, shadow, store, gate, canary, record)
    _require_native_side(p, routes, doc)
    limits = Limits(**_read_block(p, doc, "limits", LIMITS_KEYS))
    edge = Edge(**_read_block(p, doc, "edge", EDGE_KEYS))
    static = _read_static(p, doc, legacy)
    return RouteTable(
        SUPPORTED_VERSION, legacy, native, shadow, tuple(routes), gate, limits, canary, edge,
        static=static,
    )  # fmt: skip


def _check_keys(
    p: _Problems, block: _Map, allowed: Collection[str], where: str, route_id: str | None = None
) -> None:
    place = f" in {where}" if where else ""
    for key in block:
        if key not in allowed:
            close = difflib.get_close_matches(str(key), allowed, n=1)
            hint = f" (did you mean {close[0]!r}?)" if close else ""
            p.add(block.key_lines[key], f"unknown key {key!r}{place}{hint}", route_id)
    for key, line in block.duplicates:
        p.add(line, f"duplicate key {key!r}{place}", route_id)


def _read_block(
    p: _Problems,
    parent: _Map,
    key: str,
    parsers: Mapping[str, Parser],
    route_id: str | None = None,
) -> dict[str, Any]:
    """The parsed values of parent[key], a mapping; problems are reported at their own keys."""
    block = parent.get(key)
    if block is None:
        return {}
    if not isinstance(block, _Map):
        p.add(parent.key_lines[key], f"{key} must be a mapping", route_id)
        return {}
    _check_keys(p, block, parsers, key, route_id)
    values: dict[str, Any] = {}
    for name, parse_value in parsers.items():
        if name in block:
            try:
                values[name] = parse_value(block[name])
            except ValueError as exc:
                p.add(block.key_lines[name], f"{key}.{name}: {exc}", route_id)
    return values


def _key_line(block: object, key: str, default: int = 1) -> int:
    return block.key_lines.get(key, default) if isinstance(block, _Map) else default


def _read_version(p: _Problems, doc: _Map) -> None:
    if "version" not in doc:
        p.add(1, f"missing key 'version' (expected version: {SUPPORTED_VERSION})")
    elif doc["version"] != SUPPORTED_VERSION or isinstance(doc["version"], bool):
        reason = f"unsupported version {doc['version']!r} (expected {SUPPORTED_VERSION})"
        p.add(doc.key_lines["version"], reason)


def _read_legacy(p: _Problems, doc: _Map, env: Mapping[str, str]) -> LegacyConfig:
    """The legacy side: HTTP or FastCGI, the document root; env LEGACY_* win (proxy.table.
    legacy). Relative paths are read against the directory of the table file."""
    values = _read_block(p, doc, "legacy", LEGACY_KEYS)
    block = doc.get("legacy")
    lines = {str(k): line for k, line in block.key_lines.items()} if isinstance(block, _Map) else {}
    directory = posixpath.dirname(p.file)
    config, found = legacy_keys.legacy_config(
        values, lines, _key_line(doc, "legacy"), env, directory
    )
    for line, reason in found:
        p.add(line, reason)
    return config


def _read_static(p: _Problems, doc: _Map, legacy: LegacyConfig) -> StaticConfig:
    static = StaticConfig(**_read_block(p, doc, "static", STATIC_KEYS))
    if static.cache and legacy.root is None:
        reason = "static.cache applies to the files under legacy.root, which is not set"
        p.add(_key_line(doc, "static"), reason)
    return static


def _read_native(p: _Problems, doc: _Map) -> NativeConfig:
    values = _read_block(p, doc, "native", NATIVE_KEYS)
    block = doc.get("native")
    if isinstance(block, _Map) and "app" in block and "url" in block:
        p.add(doc.key_lines["native"], "native sets both app and url; keep one")
    if isinstance(block, _Map) and values.get("workers") and "app" not in block:
        reason = (
            "native.workers runs native.app in processes of the gateway's; native.url is a "
            "service that runs elsewhere"
            if "url" in block
            else "native.workers runs native.app, which is not set"
        )
        p.add(_key_line(block, "workers"), reason)
    if values.get("workers", 0) > MAX_WORKERS:
        reason = f"native.workers: {values['workers']} is over {MAX_WORKERS}"
        p.add(_key_line(block, "workers"), reason)
    line = _key_line(block, "app", _key_line(block, "url", _key_line(doc, "native")))
    return dataclasses.replace(NativeConfig(None, None, 10.0, line), **values)


def _env_store(p: _Problems, doc: _Map, env: Mapping[str, str]) -> str | None:
    if not env.get("STRANGLER_STORE"):
        return None
    try:
        return units.parse_store_url(env["STRANGLER_STORE"])
    except ValueError as exc:
        p.add(_key_line(doc, "shadow"), f"STRANGLER_STORE: {exc}")
        return None


def _read_shadow(p: _Problems, doc: _Map, store: str | None) -> ShadowConfig:
    values = _beside_table(p, _read_block(p, doc, "shadow", SHADOW_KEYS))
    base = ShadowConfig()
    base = dataclasses.replace(base, store=units.store_beside(base.store, _directory(p)))
    return _merge_shadow(base, values, store)


def _directory(p: _Problems) -> str:
    return posixpath.dirname(p.file)


def _beside_table(p: _Problems, values: dict[str, Any]) -> dict[str, Any]:
    """A relative SQLite store written in the table is a file beside the table."""
    if "store" in values:
        values["store"] = units.store_beside(values["store"], _directory(p))
    return values


def _merge_shadow(base: ShadowConfig, values: dict[str, Any], store: str | None) -> ShadowConfig:
    # the environment names where parity goes in this deployment, so it wins over every route
    merged = dataclasses.replace(base, **values)
    return merged if store is None else dataclasses.replace(merged, store=store)


def _read_gate(
    p: _Problems, parent: _Map, base: GateConfig, route_id: str | None = None
) -> GateConfig:
    """The gate block of the table or of a route (any mode: it stays put across flips)."""
    gate = dataclasses.replace(base, **_read_block(p, parent, "gate", GATE_KEYS, route_id))
    if "gate" in parent and gate.quiet_for > gate.window:
        # the quiet rule looks only inside the window: past it, every differing field is new
        reason = (
            f"gate.quiet_for ({gate.quiet_for:g}s) is longer than gate.window ({gate.window:g}s)"
        )
        p.add(parent.key_lines["gate"], reason, route_id)
    return gate


def _read_routes(
    p: _Problems,
    doc: _Map,
    shadow: ShadowConfig,
    store: str | None,
    gate: GateConfig,
    canary: CanaryConfig,
    record: dict[str, Any],
) -> list[Route]:
    items = doc.get("routes")
    if items is None:
        return []
    if not isinstance(items, _Seq):
        p.add(doc.key_lines["routes"], "routes must be a list")
        return []
    routes: list[Route] = []
    first_line: dict[str, int] = {}
    for item, line in zip(items, items.item_lines, strict=True):
        if not isinstance(item, _Map):
            p.add(line, "a route must be a mapping with id, match and mode")
            continue
        route_id = _read_route_id(p, item, first_line)
        route = _read_route(p, item, route_id, shadow, store, gate, canary, record)
        if route is not None:
            routes.append(route)
    return routes


def _read_route_id(p: _Problems, item: _Map, first_line: dict[str, int]) -> str | None:
    if "id" not in item:
        p.add(item.line, "missing route id")
        return None
    route_id, line = item["id"], item.key_lines["id"]
    if not isinstance(route_id, str) or not route_id:
        p.add(line, f"route id {route_id!r} must be a non-empty string")
        return None
    if _ROUTE_ID.fullmatch(route_id) is None:
        p.add(line, f"route id {route_id!r} may hold only letters, digits and . _ - :")
        return None
    if route_id in first_line:
        p.add(line, f"duplicate route id {route_id!r} (first at line {first_line[route_id]})")
        return None
    first_line[route_id] = line
    return route_id


def _read_route(
    p: _Problems,
    item: _Map,
    route_id: str | None,
    shadow: ShadowConfig,
    store: str | None,
    gate: GateConfig,
    canary: CanaryConfig,
    record: dict[str, Any],
) -> Route | None:
    _check_keys(p, item, ROUTE_KEYS, "route", route_id)
    route_gate = _read_gate(p, item, gate, route_id)
    matched = _read_match(p, item, route_id)
    targets = _read_targets(p, item, route_id, matched)
    mode = _read_mode(p, item, route_id)
    controlled = _read_controls(p, item, route_id, mode, canary)
    # read in every mode: a kept block must be valid the day the route flips back to shadow
    overrides = _beside_table(p, _read_block(p, item, "shadow", SHADOW_KEYS, route_id))
    compares = mode is Mode.SHADOW or mode is Mode.CANARY  # a canary may (canary.compare)
    route_shadow = _merge_shadow(shadow, overrides, store) if compares else None
    if route_id is None or matched is None or mode is None:
        return None
    inert = tuple(
        name for name, modes in ROUTE_BLOCKS.items() if name in item and mode not in modes
    )
    methods, template, pattern = matched
    redact = _merge_shadow(shadow, overrides, store).redact
    keep = _read_record(p, item, route_id, record, redact)
    route = Route(
        route_id, methods, template, mode, item.line, route_shadow, route_gate, inert,
        pattern=pattern, record=keep, **targets, **controlled,
    )  # fmt: skip
    compared = mode is Mode.SHADOW or (route.canary is not None and route.canary.compare)
    if route_shadow is not None and compared:
        _check_writes(p, route, route_shadow, item.key_lines["match"])
    return route


def _read_controls(
    p: _Problems, item: _Map, route_id: str | None, mode: Mode | None, canary: CanaryConfig
) -> dict[str, Any]:
    """A route's canary, fallback, guard and legacy_removed keys (proxy.table.controls)."""
    values: dict[str, Any] = {}
    if "canary" in item or mode is Mode.CANARY:
        overrides = _read_block(p, item, "canary", CANARY_KEYS, route_id)
        if "salt" in overrides:
            reason = "canary.salt is the table's (the top-level canary block), not a route's"
            p.add(_key_line(item.get("canary"), "salt"), reason, route_id)
        values["canary"] = dataclasses.replace(canary, **overrides)
    if "guard" in item:
        guard = GuardConfig(**_read_block(p, item, "guard", controls.GUARD_KEYS, route_id))
        block = item["guard"]
        limits = isinstance(block, _Map) and ("max_error_rate" in block or "max_p99" in block)
        if isinstance(block, _Map) and not limits and (problem := controls.guard_problem(guard)):
            p.add(item.key_lines["guard"], problem, route_id)
        values["guard"] = guard
    for key, parse_value in controls.ROUTE_SCALARS.items():
        if key in item:
            try:
                values[key] = parse_value(item[key])
            except ValueError as exc:
                p.add(item.key_lines[key], f"{key}: {exc}", route_id)
    for key, reason in controls.removed_problems(values):
        p.add(item.key_lines[key], reason, route_id)
    return values


Matched = tuple[frozenset[str] | None, PathTemplate, PathPattern | None]


def _read_record(
    p: _Problems, item: _Map, route_id: str | None, table: dict[str, Any], redact: tuple[str, ...]
) -> RecordConfig | None:
    """The route's effective `record:` (the table's merged with its own), in any mode; None
    when it keeps nothing. The table's block without `sample` only sets defaults."""
    values = {**table, **_read_block(p, item, "record", RECORD_KEYS, route_id)}
    if "sample" not in values:
        if "record" in item:
            reason = "record needs sample: the share of requests kept, e.g. {sample: 0.01}"
            p.add(item.key_lines["record"], reason, route_id)
        return None
    return RecordConfig(**values, redact=redact) if values["sample"] > 0 else None


def _read_match(p: _Problems, item: _Map, route_id: str | None) -> Matched | None:
    if "match" not in item:
        p.add(item.line, "missing key 'match' (e.g. match: GET /api/v1/admin/users)", route_id)
        return None
    spec = item["match"]
    if isinstance(spec, _Map):
        try:
            methods, pattern = routekeys.read_pattern(spec)
        except routekeys.KeyProblem as exc:
            p.add(_key_line(spec, exc.key, item.key_lines["match"]), exc.reason, route_id)
            return None
        # the template only carries the pattern's text, for listings
        return methods, PathTemplate(pattern.source, ()), pattern
    try:
        if not isinstance(spec, str):
            raise ValueError(f"match {spec!r} must be a string like 'GET /path' or a mapping")
        methods, template = parse_match(spec)
    except ValueError as exc:
        p.add(item.key_lines["match"], str(exc), route_id)
        return None
    return methods, template, None


def _read_targets(
    p: _Problems, item: _Map, route_id: str | None, matched: Matched | None
) -> dict[str, Any]:
    """legacy_path, native_path and the answer (respond or redirect), checked against what the
    match captures."""
    if matched is None:
        captures: tuple[str, ...] = ()
    elif matched[2] is not None:
        captures = matched[2].captures
    else:
        captures = tuple(s.value for s in matched[1].segments if s.kind is not SegmentKind.LITERAL)
    values: dict[str, Any] = {}
    answers = [key for key in ANSWER_KEYS if key in item]
    for key in answers:
        try:
            values["answer"] = routekeys.read_answer(key, item[key], captures)
        except routekeys.KeyProblem as exc:
            p.add(_key_line(item[key], exc.key, item.key_lines[key]), exc.reason, route_id)
    for key in ("legacy_path", "native_path"):
        if key not in item:
            continue
        if answers:
            reason = f"{key} on a route that answers itself ({answers[0]}): no side is called"
            p.add(item.key_lines[key], reason, route_id)
            continue
        try:
            values[key] = routekeys.read_path_fill(item[key], key, captures)
        except routekeys.KeyProblem as exc:
            p.add(item.key_lines[key], exc.reason, route_id)
    if len(answers) > 1:
        p.add(item.key_lines[answers[1]], "respond and redirect: keep one", route_id)
    return values


def _read_mode(p: _Problems, item: _Map, route_id: str | None) -> Mode | None:
    expected = ", ".join(mode.value for mode in Mode)
    answers = [key for key in ANSWER_KEYS if key in item]
    if answers:
        # the gateway answers: no side, so no mode; the route is legacy's as nginx's answers were
        if "mode" in item:
            reason = f"mode on a route that answers itself ({answers[0]}): remove one of them"
            p.add(item.key_lines["mode"], reason, route_id)
        return Mode.LEGACY
    if "mode" not in item:
        p.add(item.line, f"missing key 'mode' (expected {expected})", route_id)
        return None
    for mode in Mode:
        if mode.value == item["mode"]:
            return mode
    p.add(item.key_lines["mode"], f"unknown mode {item['mode']!r} (expected {expected})", route_id)
    return None


def _check_writes(p: _Problems, route: Route, shadow: ShadowConfig, line: int) -> None:
    if shadow.writes is Writes.DRY_RUN:
        return
    if route.methods is None:
        shadowed = "every method"
    elif unsafe := sorted(route.methods - SAFE_METHODS):
        shadowed = ", ".join(unsafe)
    else:
        return
    reason = f"shadows {shadowed} but writes is none; set writes: dry_run or narrow the methods"
    p.add(line, reason, route.id)


def _require_native_side(p: _Problems, routes: list[Route], doc: _Map) -> None:
    block = doc.get("native")
    if isinstance(block, _Map) and ("app" in block or "url" in block):
        return  # set, or already reported as malformed
    for route in routes:
        if route.mode in (Mode.NATIVE, Mode.SHADOW, Mode.CANARY):
            reason = f"mode {route.mode.value} needs native.app or native.url, and neither is set"
            p.add(route.line, reason, route.id)
            return
