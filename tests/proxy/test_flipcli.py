"""`strangler gate` and `strangler history` on stores built for them."""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import pytest

from proxy.cli.flips import configure_gate, configure_history, run_gate, run_history
from proxy.cli.main import main
from proxy.operator.history import Change, FlipStore
from shadow.compare import Difference, Kind, Outcome
from shadow.records import RequestInfo, Result, Sample, fold
from shadow.store import open_store

TABLE = """\
version: 1
legacy:
  url: http://127.0.0.1:9
native:
  app: handlers.app:app
shadow:
  store: {store}
gate:
  min_samples: 20
  quiet_for: 0
routes:
  - {{id: users.list, match: GET /users, mode: shadow}}
  - {{id: invoices.list, match: GET /invoices, mode: shadow}}
  - {{id: users.show, match: 'GET /users/{{id:int}}', mode: native}}
"""


def run(capsys: pytest.CaptureFixture[str], command: str, *argv: str) -> tuple[int, str, str]:
    parser = argparse.ArgumentParser()
    (configure_gate if command == "gate" else configure_history)(parser)
    args = parser.parse_args(list(argv))
    code = (run_gate if command == "gate" else run_history)(args)
    out, err = capsys.readouterr()
    return code, out, err


@pytest.fixture
def config(tmp_path: Path) -> Path:
    url = f"sqlite:///{tmp_path}/parity.db"
    path = tmp_path / "routing.yaml"
    path.write_text(TABLE.format(store=url))
    now = time.time()
    sample = Sample(RequestInfo("GET", "/users", "", "r1"), "{}", "{}")
    diff = Difference("body.name", "body.name", Kind.VALUE)
    results = [Result("users.list", now - 60, Outcome.MATCHED) for _ in range(25)]
    results += [Result("invoices.list", now - 60, Outcome.MATCHED) for _ in range(20)]
    results += [
        Result("invoices.list", now - 60, Outcome.MISMATCHED, differences=(diff,), sample=sample)
        for _ in range(5)
    ]
    store = open_store(url)
    store.write(fold(results, store.bucket_seconds))
    flips = FlipStore.on(store.engine)
    flips.record([Change("users.list", "legacy", "shadow")], 1_700_000_000.0, "file", "a" * 64)
    flips.record([Change("users.show", "shadow", "native")], 1_700_000_600.0, "admin", "b" * 64)
    store.close()
    return path


def test_gate_lists_every_shadow_route_and_fails_when_one_is_blocked(
    config: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = run(capsys, "gate", "--config", str(config))
    assert (code, err) == (1, "")
    assert "users.list" in out and "ready" in out
    assert "invoices.list" in out and "blocked" in out
    assert "mismatch rate 20.00% (5 of 25) in the last 24h is above 1.00%" in out
    assert "users.show" not in out  # native: nothing to gate


def test_gate_passes_when_every_listed_route_is_ready(
    config: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, _ = run(capsys, "gate", "--config", str(config), "--route", "users.list")
    assert code == 0
    assert "invoices.list" not in out


def test_gate_as_json(config: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "gate", "--config", str(config), "--format", "json")
    routes = {r["route"]: r for r in json.loads(out)["routes"]}
    assert code == 1
    assert routes["users.list"]["status"] == "ready" and routes["users.list"]["compared"] == 25
    assert routes["invoices.list"]["status"] == "blocked"
    assert routes["invoices.list"]["mismatch_rate"] == 0.2
    assert routes["invoices.list"]["gate"] == {
        "min_samples": 20, "max_mismatch_rate": 0.01, "window": 86400.0, "quiet_for": 0.0,
    }  # fmt: skip


@pytest.mark.parametrize(
    ("route", "reason"),
    [("users.show", "its mode is native"), ("nope", "no such route")],
    ids=["native", "unknown"],
)
def test_gate_of_a_route_that_is_not_shadowed_is_an_error(
    config: Path, capsys: pytest.CaptureFixture[str], route: str, reason: str
) -> None:
    code, out, err = run(capsys, "gate", "--config", str(config), "--route", route)
    assert (code, out) == (1, "")
    assert err == f"{config}: route {route!r} is not a shadow route ({reason})\n"


def test_gate_without_shadow_routes_has_nothing_to_block(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "routing.yaml"
    path.write_text("version: 1\nlegacy:\n  url: http://127.0.0.1:9\nroutes: []\n")
    assert run(capsys, "gate", "--config", str(path)) == (
        0, f"{path}: no shadow routes, nothing to gate\n", "",
    )  # fmt: skip


def test_gate_with_a_bad_table_says_why(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "routing.yaml"
    path.write_text("version: 1\nlegacy:\n  url: http://127.0.0.1:9\ngate:\n  window: soon\n")
    code, _, err = run(capsys, "gate", "--config", str(path))
    assert code == 1
    assert err.startswith(f"{path}:5: gate.window: bad duration 'soon'")


def test_gate_with_an_unreachable_store_fails(
    config: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, _, err = run(
        capsys, "gate", "--config", str(config), "--store", "mysql+pymysql://u@127.0.0.1:1/x"
    )
    assert code == 1 and err.startswith("cannot open the parity store")


def test_history_lists_flips_oldest_first(config: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "history", "--config", str(config))
    assert code == 0
    first, second = out.index("legacy → shadow"), out.index("shadow → native")
    assert first < second
    assert "2023-11-14 22:13:20" in out and "file" in out and "admin" in out


def test_history_of_one_route_as_json(config: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(
        capsys, "history", "--config", str(config), "--route", "users.show", "--format", "json"
    )
    assert code == 0
    assert json.loads(out) == {
        "flips": [
            {"route": "users.show", "seq": 1, "at": 1_700_000_600.0, "old_mode": "shadow",
             "new_mode": "native", "trigger": "admin", "digest": "b" * 64},
        ]
    }  # fmt: skip


def test_history_needs_only_a_store(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    url = f"sqlite:///{tmp_path}/empty.db"
    FlipStore.open(url).close()
    missing = tmp_path / "nowhere.yaml"
    code, out, _ = run(capsys, "history", "--store", url, "--route", "x")
    assert (code, out) == (0, "no flips recorded for route 'x'\n")
    code, _, err = run(capsys, "history", "--config", str(missing))
    assert code == 1 and "cannot read the file" in err


def test_both_commands_are_strangler_subcommands(
    config: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["gate", "--config", str(config), "--route", "invoices.list"]) == 1
    assert "blocked" in capsys.readouterr().out
    assert main(["history", "--config", str(config), "--route", "users.list"]) == 0
    assert "legacy → shadow" in capsys.readouterr().out
