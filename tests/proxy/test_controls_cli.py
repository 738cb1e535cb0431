"""`strangler check`, `match`, `status` and `resume` on the migration controls."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from proxy.cli.main import main
from proxy.modes.rollbacks import Rollback, RollbackStore, State, fingerprint
from proxy.operator.history import FlipStore
from proxy.table.parser import load
from shadow.store import create_store_engine

REASON = "error rate 50 % > 2 % over 5m, 20 requests"


def text(store: str) -> str:
    return f"""\
version: 1
legacy:
  url: http://127.0.0.1:8080
native:
  app: tests.proxy.test_checks:app
shadow:
  store: {store}
routes:
  - id: users.list
    match: GET /api/v1/admin/users
    mode: canary
    canary: {{share: 0.25, cohort: "header:authorization"}}
    guard: {{max_error_rate: 0.02, min_requests: 20}}
  - id: users.show
    match: GET /api/v1/admin/users/{{id:int}}
    mode: native
    fallback: legacy
    guard: {{max_error_rate: 0.02, min_requests: 20}}
  - id: invoices.list
    match: GET /api/v1/admin/invoices
    mode: shadow
  - id: users.write
    match: PUT|DELETE /api/v1/admin/users/{{id:int}}
    mode: legacy
  - id: old.report
    match: GET /api/v1/admin/report
    mode: native
    legacy_removed: true
"""


@pytest.fixture
def table(tmp_path: Path) -> Path:
    path = tmp_path / "routing.yaml"
    path.write_text(text(f"sqlite:///{tmp_path}/parity.db"), encoding="utf-8")
    return path


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def roll_back(table: Path, route_id: str) -> None:
    loaded = load(table)
    route = next(r for r in loaded.routes if r.id == route_id)
    engine = create_store_engine(loaded.shadow.store)
    rollback = Rollback(
        route_id, State.ROLLED_BACK, 0, 1_700_000_000.0, REASON, route.mode.value,
        fingerprint(route), loaded.digest, "guard",
    )  # fmt: skip
    assert RollbackStore.on(engine).trip(rollback)
    engine.dispose()


def test_check_calls_a_guard_on_a_legacy_route_an_error(
    table: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    table.write_text(
        table.read_text().replace("mode: native\n    fallback", "mode: legacy\n    fallback")
    )
    code, _, err = run(capsys, "check", "--no-native", str(table))
    assert code == 1
    assert (
        f"{table}:14: route 'users.show': guard on a legacy route: a guard watches native and "
        "canary routes only" in err
    )
    assert (
        f"warning: {table}:14: route 'users.show': fallback: and guard: are kept but unused in "
        "mode legacy" in err
    )


def test_check_accepts_every_control_where_it_applies(
    table: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = run(capsys, "check", "--no-native", str(table))
    assert (code, err) == (0, "")
    assert out.endswith("ok, 5 routes (1 legacy, 2 native, 1 shadow, 1 canary)\n")


def test_match_shows_a_rolled_back_route_as_legacy_and_why(
    table: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, before, _ = run(capsys, "match", "GET", "/api/v1/admin/users/5", "--config", str(table))
    assert before.splitlines()[1] == (
        "effective mode native: mode native in the table; its guard has not tripped"
    )
    roll_back(table, "users.show")
    code, out, _ = run(capsys, "match", "GET", "/api/v1/admin/users/5", "--config", str(table))
    assert code == 0
    assert out.splitlines()[1] == (
        "effective mode legacy: rolled back by guard at 2023-11-14 22:13:20 UTC: "
        f"{REASON} (strangler resume users.show)"
    )


def test_match_of_a_canary_says_its_share_and_cohort(
    table: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    _, out, _ = run(capsys, "match", "GET", "/api/v1/admin/users", "--config", str(table))
    assert out.splitlines()[1] == (
        "effective mode canary: 25 % of cohorts (header:authorization) to native, the rest to "
        "legacy; its guard has not tripped"
    )


def test_resume_lifts_the_rollback_and_records_the_flip(
    table: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    roll_back(table, "users.show")
    code, out, _ = run(capsys, "resume", "users.show", "--config", str(table))
    assert code == 0
    assert out.startswith("resumed 'users.show': native again in every gateway sharing")
    engine = create_store_engine(load(table).shadow.store)
    [row] = RollbackStore(engine).read().values()
    assert (row.state, row.epoch) == (State.RESUMED, 1)
    [flip] = FlipStore(engine).read(route="users.show")
    assert (flip.old, flip.new, flip.trigger) == ("legacy", "native", "resume")
    engine.dispose()
    code, out, _ = run(capsys, "resume", "users.show", "--config", str(table))
    assert (code, out) == (0, "route 'users.show' is not rolled back: nothing to resume\n")


def test_status_shows_each_stage_in_both_vocabularies_with_its_evidence(
    table: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    roll_back(table, "users.list")
    code, out, _ = run(capsys, "status", "--config", str(table), "--format", "json")
    assert code == 0
    routes = {r["route"]: r for r in json.loads(out)["routes"]}
    stages = {k: (r["stage"]["name"], r["stage"]["launchdarkly"]) for k, r in routes.items()}
    assert stages == {
        "users.list": ("canary 25 %", "live"),
        "users.show": ("native", "rampdown"),
        "invoices.list": ("shadow", "shadow"),
        "users.write": ("legacy", "off"),
        "old.report": ("legacy code removed", "complete"),
    }
    assert routes["users.list"]["effective_mode"] == "legacy"
    assert routes["users.list"]["rolled_back"]["reason"] == REASON
    assert routes["users.list"]["next"].endswith("then `strangler resume users.list`")
    assert routes["invoices.list"]["gate"]["status"] == "blocked"
    assert [s["side"] for s in routes["users.show"]["sides"]] == ["legacy", "native"]
    code, out, _ = run(capsys, "status", "--config", str(table))
    assert code == 0 and "canary 25 %" in out and "rampdown" in out


def test_status_and_match_never_create_a_store(
    table: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, _ = run(capsys, "status", "--config", str(table), "--format", "json")
    assert code == 0 and json.loads(out)["routes"][0]["effective_mode"] == "canary"
    run(capsys, "match", "GET", "/api/v1/admin/users/5", "--config", str(table))
    assert not (tmp_path / "parity.db").exists()
