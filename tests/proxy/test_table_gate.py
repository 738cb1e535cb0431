"""routing.yaml's gate block: a global default, per-route overrides, and its validation."""

from __future__ import annotations

import pytest

from proxy.table.model import GateConfig, TableError
from proxy.table.parser import parse

HEAD = "version: 1\nlegacy:\n  url: http://127.0.0.1:8080\nnative:\n  app: handlers.app:app\n"


def rejected(text: str) -> list[str]:
    with pytest.raises(TableError) as caught:
        parse(text)
    return [str(p) for p in caught.value.problems]


def test_without_a_gate_block_every_route_has_the_defaults() -> None:
    table = parse(HEAD + "routes:\n  - {id: a, match: GET /a, mode: shadow}\n")
    assert table.gate == GateConfig()
    assert table.routes[0].gate == GateConfig(1000, 0.01, 86400.0, 3600.0)


def test_a_route_overrides_the_global_gate_key_by_key() -> None:
    table = parse(
        HEAD + "gate:\n"
        "  min_samples: 200\n"
        "  max_mismatch_rate: 0.02\n"
        "  window: 12h\n"
        "  quiet_for: 30m\n"
        "routes:\n"
        "  - id: a\n"
        "    match: GET /a\n"
        "    mode: shadow\n"
        "    gate:\n"
        "      min_samples: 50\n"
        "  - {id: b, match: GET /b, mode: shadow}\n"
    )
    assert table.gate == GateConfig(200, 0.02, 43200.0, 1800.0)
    assert table.routes[0].gate == GateConfig(50, 0.02, 43200.0, 1800.0)
    assert table.routes[1].gate == table.gate


def test_a_gate_may_stay_on_a_route_once_it_is_flipped() -> None:
    # flipping shadow → native is a one-line edit: the gate block must not make it two
    table = parse(
        HEAD + "routes:\n  - id: a\n    match: GET /a\n    mode: native\n"
        "    gate: {min_samples: 10}\n"
    )
    assert table.routes[0].gate.min_samples == 10


@pytest.mark.parametrize(
    ("written", "seconds"), [("0", 0.0), ("0s", 0.0), (0, 0.0), ("90s", 90.0)], ids=str
)
def test_quiet_for_zero_turns_the_rule_off(written: object, seconds: float) -> None:
    table = parse(HEAD + f"gate:\n  quiet_for: {written}\nroutes: []\n")
    assert table.gate.quiet_for == seconds


@pytest.mark.parametrize(
    ("block", "expected"),
    [
        (
            "gate:\n  min_samples: 0\n",
            "routing.yaml:7: gate.min_samples: 0 is not a positive integer",
        ),
        (
            "gate:\n  max_mismatch_rate: 5\n",
            "routing.yaml:7: gate.max_mismatch_rate: 5 is outside [0, 1]",
        ),
        (
            "gate:\n  window: soon\n",
            "routing.yaml:7: gate.window: bad duration 'soon' "
            "(expected e.g. 500ms, 2s, 1m, 7d, or a number of seconds)",
        ),
        (
            "gate:\n  min_sample: 5\n",
            "routing.yaml:7: unknown key 'min_sample' in gate (did you mean 'min_samples'?)",
        ),
        (
            "gate:\n  window: 1h\n  quiet_for: 2h\n",
            "routing.yaml:6: gate.quiet_for (7200s) is longer than gate.window (3600s)",
        ),
        ("gate: strict\n", "routing.yaml:6: gate must be a mapping"),
    ],
    ids=["min_samples", "rate", "window", "unknown_key", "quiet_past_window", "not_a_mapping"],
)
def test_a_bad_global_gate_is_rejected_with_its_line(block: str, expected: str) -> None:
    assert rejected(HEAD + block + "routes: []\n") == [expected]


def test_a_bad_route_gate_names_the_route_and_its_line() -> None:
    text = (
        HEAD + "gate:\n  window: 2h\n"
        "routes:\n"
        "  - id: users.list\n"
        "    match: GET /users\n"
        "    mode: shadow\n"
        "    gate:\n"
        "      quiet_for: 3h\n"
        "      max_mismatch_rate: -1\n"
    )
    assert rejected(text) == [
        "routing.yaml:12: route 'users.list': gate.quiet_for (10800s) is longer than "
        "gate.window (7200s)",
        "routing.yaml:14: route 'users.list': gate.max_mismatch_rate: -1 is outside [0, 1]",
    ]
