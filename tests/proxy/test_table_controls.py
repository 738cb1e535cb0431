"""routing.yaml's migration controls: canary, fallback, guard, legacy_removed and edge."""

from __future__ import annotations

import pytest

from proxy.table.model import (
    CanaryConfig,
    Cohort,
    CohortKind,
    Fallback,
    GuardConfig,
    Mode,
    TableError,
    keeps_evidence,
)
from proxy.table.parser import parse

HEAD = "version: 1\nlegacy:\n  url: http://127.0.0.1:8080\nnative:\n  app: handlers.app:app\n"


def route(mode: str, *lines: str) -> str:
    body = "".join(f"    {line}\n" for line in lines)
    return HEAD + f"routes:\n  - id: r\n    match: GET /r\n    mode: {mode}\n" + body


def rejected(text: str) -> list[str]:
    with pytest.raises(TableError) as caught:
        parse(text)
    return [str(p) for p in caught.value.problems]


def test_a_canary_route_takes_share_cohort_force_and_compare() -> None:
    table = parse(
        route(
            "canary",
            "canary:",
            "  share: 0.1",
            "  cohort: header:Authorization",
            "  force: header:X-Strangler-Side",
            "  compare: true",
        )
    )
    assert table.routes[0].mode is Mode.CANARY
    assert table.routes[0].canary == CanaryConfig(
        0.1, Cohort(CohortKind.HEADER, "authorization"), "x-strangler-side", True
    )


def test_a_route_canary_block_overrides_the_tables_key_by_key_and_keeps_its_salt() -> None:
    text = route("canary", "canary: {share: 0.5}").replace(
        "routes:", "canary: {salt: s3cr3t, cohort: 'cookie:sid', share: 0.2}\nroutes:"
    )
    table = parse(text)
    assert table.canary == CanaryConfig(0.2, Cohort(CohortKind.COOKIE, "sid"), salt="s3cr3t")
    assert table.routes[0].canary == CanaryConfig(
        0.5, Cohort(CohortKind.COOKIE, "sid"), salt="s3cr3t"
    )


def test_a_canary_route_without_a_block_sends_every_cohort_to_legacy() -> None:
    # the flip to canary is one line; share 0 until the operator raises it
    assert parse(route("canary")).routes[0].canary == CanaryConfig()


@pytest.mark.parametrize(
    ("line", "reason"),
    [
        ("canary: {share: 1.5}", "canary.share: 1.5 is outside [0, 1]"),
        ("canary: {cohort: ip}", "canary.cohort: bad cohort 'ip'"),
        ("canary: {cohort: 'header:'}", "canary.cohort: bad header name ''"),
        ("canary: {force: 'cookie:side'}", "canary.force: bad force 'cookie:side'"),
        ("canary: {compare: yes please}", "canary.compare: 'yes please' is not true or false"),
        ("canary: {salt: abc}", "canary.salt is the table's"),
        ("canary: {sharee: 0.1}", "unknown key 'sharee' in canary (did you mean 'share'?)"),
    ],
    ids=["share", "cohort", "header-name", "force", "compare", "salt-per-route", "typo"],
)
def test_bad_canary_keys_are_rejected_at_their_line(line: str, reason: str) -> None:
    problems = rejected(route("canary", line))
    assert len(problems) == 1
    assert problems[0].startswith("routing.yaml:10: route 'r': ")
    assert reason in problems[0]


def test_a_guard_takes_its_limits_and_defaults_the_rest() -> None:
    table = parse(route("native", "guard: {max_error_rate: 0.02, max_p99: 800ms}"))
    assert table.routes[0].guard == GuardConfig(0.02, 0.8, 100, 300.0, False)


@pytest.mark.parametrize(
    ("line", "reason"),
    [
        ("guard: {min_requests: 10}", "guard sets no limit"),
        ("guard: {max_error_rate: 2}", "guard.max_error_rate: 2 is outside [0, 1]"),
        ("guard: {max_p99: fast}", "guard.max_p99: bad duration 'fast'"),
        ("guard: {max_p99: 1s, min_requests: 0}", "guard.min_requests: 0 is not a positive"),
        ("guard: {max_p99: 1s, window: -5m}", "guard.window: bad duration '-5m'"),
        ("guard: {max_p99: 1s, relative_to_legacy: 1}", "relative_to_legacy: 1 is not true"),
        ("guard: 0.02", "guard must be a mapping"),
    ],
    ids=["no-limit", "rate", "p99", "min-requests", "window", "relative", "scalar"],
)
def test_bad_guard_keys_are_rejected_at_their_line(line: str, reason: str) -> None:
    problems = rejected(route("native", line))
    assert len(problems) == 1 and problems[0].startswith("routing.yaml:10: route 'r': ")
    assert reason in problems[0]


@pytest.mark.parametrize("mode", ["legacy", "native", "shadow", "canary"])
def test_every_control_block_survives_a_flip_to_any_mode(mode: str) -> None:
    # a flip is one line: blocks a mode does not use are kept, inert, never refused
    table = parse(
        route(
            mode,
            "canary: {share: 0.3}",
            "fallback: legacy",
            "guard: {max_error_rate: 0.05}",
        )
    )
    r = table.routes[0]
    assert r.mode.value == mode
    assert (r.canary.share if r.canary else None, r.fallback, r.guard) == (
        0.3,
        Fallback.LEGACY,
        GuardConfig(max_error_rate=0.05),
    )


def test_fallback_names_the_side_that_answers_instead() -> None:
    assert rejected(route("native", "fallback: php")) == [
        "routing.yaml:10: route 'r': fallback: unknown fallback 'php' (expected legacy)"
    ]


@pytest.mark.parametrize(
    ("line", "key_line", "reason"),
    [
        ("fallback: legacy", 11, "fallback: legacy on a route whose legacy code is removed"),
        ("guard: {max_p99: 1s}", 11, "guard on a route whose legacy code is removed"),
    ],
    ids=["fallback", "guard"],
)
def test_a_route_without_legacy_code_takes_no_control_that_needs_it(
    line: str, key_line: int, reason: str
) -> None:
    problems = rejected(route("native", "legacy_removed: true", line))
    assert len(problems) == 1 and problems[0].startswith(f"routing.yaml:{key_line}: ")
    assert reason in problems[0]


def test_legacy_removed_marks_the_last_stage() -> None:
    assert parse(route("native", "legacy_removed: true")).routes[0].legacy_removed


def test_a_canary_route_needs_a_native_side() -> None:
    text = "version: 1\nlegacy:\n  url: http://127.0.0.1:8080\nroutes:\n"
    text += "  - {id: r, match: GET /r, mode: canary}\n"
    assert rejected(text) == [
        "routing.yaml:5: route 'r': mode canary needs native.app or native.url, and neither is set"
    ]


def test_a_canary_route_compares_writes_only_with_dry_run() -> None:
    text = route("canary", "canary: {compare: true}").replace("GET /r", "POST /r")
    assert "shadows POST but writes is none" in rejected(text)[0]
    plain = parse(route("canary", "canary: {compare: false}").replace("GET /r", "POST /r"))
    assert plain.routes[0].canary is not None


@pytest.mark.parametrize(
    ("mode", "lines", "kept"),
    [
        ("legacy", ("guard: {max_p99: 1s}",), False),
        ("shadow", (), True),
        ("native", (), False),
        ("native", ("fallback: legacy",), True),
        ("native", ("guard: {max_p99: 1s}",), True),
        ("canary", (), True),
    ],
    ids=["legacy-guard-inert", "shadow", "native", "native-fallback", "native-guard", "canary"],
)
def test_which_tables_keep_evidence_in_the_parity_store(
    mode: str, lines: tuple[str, ...], kept: bool
) -> None:
    assert keeps_evidence(parse(route(mode, *lines))) is kept
