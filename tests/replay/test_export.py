"""`strangler export-tests`: the pair that shows each field best, tests that fail on the field
with its values and pass once it matches, plain formatted pytest, no secret written, the native
side in process or at a URL, and exports that rewrite and remove their own files."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from proxy.cli.main import main
from proxy.sides.probe import NATIVE_URL_ENV, TEST_HEADERS_ENV, NativeSide
from shadow.cases import Case, RouteRules, StoredRequest, judge
from shadow.compare import Difference, Kind, Outcome
from shadow.export import choose
from shadow.observation import Observation, Side
from shadow.records import (
    ERRORED_FIELD,
    RequestInfo,
    Result,
    Rows,
    Sample,
    SampleRow,
    Source,
    fold,
)
from shadow.redact import MASK
from shadow.report import build_report
from shadow.store import open_store
from tests.replay import apps
from tests.replay.apps import LegacyServer, legacy_server, nginx_line
from tests.support.services import ROOT

JSON = (("content-type", "application/json"),)
RULES = RouteRules(noise={"body.at": ("value",)})


def tree(body: Any, status: int = 200) -> dict[str, Any]:
    return {"status": status, "headers": {"content-type": "application/json"}, "body": body}


def sample(
    field: str, legacy: Any, native: Any, path: str, at: float, query: str = ""
) -> SampleRow:
    return SampleRow(
        "users.show", field, 0, at, Source.PC, "value", path, "GET", "/api/users/1", query,
        f"rid-{at}", json.dumps(legacy), json.dumps(native), None,
    )  # fmt: skip


# ---------------------------------------------------------------- choosing pairs


def test_the_pair_that_shows_the_field_alone_is_chosen_then_the_smallest_then_the_newest() -> None:
    both = sample("body.name", tree({"name": "a", "age": 1}), tree({"name": "A", "age": 2}),
                  "body.name", 5.0, "q=both")  # fmt: skip
    alone_big = sample("body.name", tree({"name": "a", "pad": "x" * 50}),
                       tree({"name": "A", "pad": "x" * 50}), "body.name", 6.0, "q=big")  # fmt: skip
    alone_old = sample("body.name", tree({"name": "a"}), tree({"name": "A"}), "body.name", 1.0,
                       "q=old")  # fmt: skip
    alone_new = sample("body.name", tree({"name": "b"}), tree({"name": "B"}), "body.name", 9.0,
                       "q=new")  # fmt: skip
    rows = [both, alone_big, alone_old, alone_new]
    report = build_report(_rows_for(rows, "body.name")).routes[0]
    [one] = choose(report, rows, RULES, {}, per_field=1)
    assert (one.name, one.sample.query, one.others) == ("test_body_name", "q=new", 0)
    three = choose(report, rows, RULES, {}, per_field=3)
    assert [c.sample.query for c in three] == ["q=new", "q=old", "q=big"]
    assert [c.name for c in three] == ["test_body_name", "test_body_name_2", "test_body_name_3"]


def test_a_field_the_rules_now_ignore_gets_no_test() -> None:
    rows = [sample("body.name", tree({"name": "a"}), tree({"name": "A"}), "body.name", 1.0)]
    report = build_report(_rows_for(rows, "body.name")).routes[0]
    assert choose(report, rows, RouteRules(ignore=("body.name",)), {}) == []
    assert len(choose(report, rows, RULES, {})) == 1


def test_an_errored_route_gets_a_test_that_native_answers_unless_legacy_failed() -> None:
    ok = SampleRow(
        "users.show", ERRORED_FIELD, 0, 1.0, Source.PC, "", "", "GET", "/a", "", "r1",
        json.dumps(tree({})), json.dumps({"error": "timed out"}), "candidate: timed out",
    )  # fmt: skip
    legacy_failed = SampleRow(
        "users.show", ERRORED_FIELD, 1, 2.0, Source.PC, "", "", "GET", "/b", "", "r2",
        json.dumps({"error": "refused"}), json.dumps(tree({})), "x",
    )  # fmt: skip
    result = Result("users.show", 1.0, Outcome.ERRORED, Source.PC)
    report = build_report(stored([result])).routes[0]
    [chosen] = choose(report, [ok, legacy_failed], RULES, {})
    assert (chosen.name, chosen.sample.request_path) == ("test_answers_without_error", "/a")


def _rows_for(samples: list[SampleRow], field: str) -> Rows:
    diff = Difference(field, field, Kind.VALUE)
    results = [
        Result("users.show", s.at, Outcome.MISMATCHED, Source.PC, 0.01, 0.01, (diff,),
               Sample(RequestInfo("GET", s.request_path, s.query, s.request_id), s.primary,
                      s.candidate))
        for s in samples
    ]  # fmt: skip
    return stored(results)


def stored(results: list[Result]) -> Rows:
    """The rows a store gives back for these results."""
    store = open_store("sqlite://")
    try:
        store.write(fold(results))
        return store.read_rows()
    finally:
        store.close()


# ---------------------------------------------------------------- what a test checks


class Answering:
    def __init__(self, body: Any, status: int = 200, error: str | None = None) -> None:
        self.seen = Observation.of(Side.CANDIDATE, status, JSON, json.dumps(body).encode(), 0.01)
        if error is not None:
            self.seen = Observation.failed(Side.CANDIDATE, error)

    def send(self, request: StoredRequest) -> Observation:
        return self.seen


REQUEST = StoredRequest("GET", "/api/users/7", "page=2", (), b"")


def case(field: str, legacy: Any, **kw: Any) -> Case:
    return Case("t", field, "value", REQUEST, legacy, **kw)


def test_a_failure_names_the_place_and_both_values() -> None:
    legacy = tree({"data": [{"name": "ann", "age": 3}, {"name": "bob", "age": 4}]})
    native = {"data": [{"name": "ANN", "age": 3}, {"name": "BOB", "age": 5}]}
    message = judge(case("body.data[*].name", legacy), Answering(native).seen, RULES)
    assert message == (
        "GET /api/users/7?page=2: native differs from legacy at body.data[*].name\n"
        '  body.data[0].name (value): legacy "ann", native "ANN"\n'
        '  body.data[1].name (value): legacy "bob", native "BOB"'
    )


def test_another_fields_difference_and_noise_do_not_fail_the_test() -> None:
    legacy = tree({"name": "ann", "age": 3, "at": 100})
    native = Answering({"name": "ann", "age": 4, "at": 205})
    assert judge(case("body.name", legacy), native.seen, RULES) is None
    assert judge(case("body.age", legacy), native.seen, RULES) is not None
    # noise excuses only the kinds A/A showed: `at` gone altogether is a difference
    gone = Answering({"name": "ann", "age": 3})
    assert judge(case("body.at", legacy), gone.seen, RULES) is not None


def test_the_native_answer_is_redacted_as_the_stored_one_was() -> None:
    legacy = tree({"name": "ann", "token": MASK, "email": MASK})
    native = Answering({"name": "ann", "token": "abc123", "email": "ann@example.test"})
    rules = RouteRules(redact=("body.email",))
    assert judge(case("body.token", legacy), native.seen, rules) is None
    assert judge(case("body.email", legacy), native.seen, rules) is None


def test_status_only_cases_and_the_errored_slot() -> None:
    write = case("status", {"status": 201, "headers": {}, "body": None}, status_only=True)
    assert judge(write, Answering({"id": 1}, 201).seen, RULES) is None
    assert "legacy 201, native 422" in (judge(write, Answering({}, 422).seen, RULES) or "")
    errored = case(ERRORED_FIELD, tree({}))
    assert judge(errored, Answering({"x": 1}, 500).seen, RULES) is None  # it answered
    failed = judge(errored, Answering({}, error="timed out").seen, RULES)
    assert failed == "GET /api/users/7?page=2: the native side failed: timed out"


# ---------------------------------------------------------------- reaching the native side


def test_the_probe_calls_the_app_in_process_with_its_lifespan_and_the_dry_run_mark(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv(TEST_HEADERS_ENV, "Authorization: Bearer t0k\nAccept: application/json")
    monkeypatch.delenv(NATIVE_URL_ENV, raising=False)
    apps.NATIVE_HEADERS.clear()
    request = StoredRequest("GET", "/api/users/3", "", (("accept", "text/html"),), b"", "shop.test")
    with NativeSide.open(app="tests.replay.apps:native", url=None) as native:
        seen = native.send(request)
    assert seen.status == 200 and json.loads(seen.body)["data"]["name"] == "user 3"
    [headers] = apps.NATIVE_HEADERS
    assert headers["authorization"] == "Bearer t0k" and headers["accept"] == "application/json"
    assert headers["x-strangler-dry-run"] == "1" and headers["host"] == "shop.test"


def test_the_environment_names_a_running_native_service_instead(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    with legacy_server() as service:
        monkeypatch.setenv(NATIVE_URL_ENV, service.url)
        with NativeSide.open(app="no.such.module:app", url=None) as native:
            seen = native.send(StoredRequest("GET", "/api/users/5", "", (), b""))
        assert seen.status == 200 and service.headers[0]["x-strangler-dry-run"] == "1"


# ---------------------------------------------------------------- the command, end to end


@pytest.fixture
def site(tmp_path: Path, legacy: LegacyServer) -> Path:
    lines = [nginx_line(f"/api/users/{n}") for n in range(120)]
    return apps.write_site(tmp_path, legacy.url, lines)


def cli(site: Path, *args: str) -> int:
    return main([*args, "--config", str(site / "routing.yaml")])


def pytest_on(directory: Path, plant: str) -> subprocess.CompletedProcess[str]:
    """The exported tests run as a developer runs them: plain pytest, warnings as errors."""
    env = {**os.environ, "PYTHONPATH": str(ROOT), "REPLAY_PLANT": plant}
    env.pop(NATIVE_URL_ENV, None)
    return subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-W", "error", "-p", "no:cacheprovider",
         "-c", str(ROOT / "pyproject.toml"), str(directory)],
        env=env, cwd=ROOT, capture_output=True, text=True, timeout=300,
    )  # fmt: skip


def test_exported_tests_fail_on_the_plant_with_the_field_and_pass_once_it_is_fixed(
    site: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("REPLAY_PLANT", "7,64")
    secret = "Bearer export-s3cr3t"
    assert cli(site, "replay", "--access-log", str(site / "access.log"), "--header",
               f"Authorization: {secret}") == 1  # fmt: skip
    out = site / "parity"
    assert cli(site, "export-tests", "-o", str(out)) == 0
    assert "test_parity_users_show.py: 1 tests (body.data.name)" in capsys.readouterr().out

    test_file = out / "test_parity_users_show.py"
    text = test_file.read_text() + (out / "test_parity_users_show.json").read_text()
    assert "export-s3cr3t" not in text and '"authorization"' not in text.lower()
    assert "STRANGLER_TEST_HEADERS" in text and "the replay sent authorization" in text
    checks = subprocess.run(
        [sys.executable, "-m", "ruff", "format", "--check", "--config",
         str(ROOT / "pyproject.toml"), str(out)], capture_output=True, text=True,
    )  # fmt: skip
    assert checks.returncode == 0, checks.stdout + checks.stderr
    lint = subprocess.run(
        [sys.executable, "-m", "ruff", "check", "--config", str(ROOT / "pyproject.toml"),
         str(out)], capture_output=True, text=True,
    )  # fmt: skip
    assert lint.returncode == 0, lint.stdout + lint.stderr

    failing = pytest_on(out, "7,64")
    assert failing.returncode == 1, failing.stdout
    assert "native differs from legacy at body.data.name" in failing.stdout
    assert '"USER 7"' in failing.stdout or '"USER 64"' in failing.stdout

    fixed = pytest_on(out, "")
    assert fixed.returncode == 0, fixed.stdout + fixed.stderr

    # exporting the same run again rewrites the same tests; they pass on the fixed side
    assert cli(site, "export-tests", "-o", str(out)) == 0
    assert pytest_on(out, "").returncode == 0
    # a replay of the fixed side differs nowhere: its export removes the route's files
    monkeypatch.setenv("REPLAY_PLANT", "")
    capsys.readouterr()
    assert cli(site, "replay", "--access-log", str(site / "access.log")) == 0
    (out / "test_mine.py").write_text("def test_mine() -> None:\n    pass\n")
    assert cli(site, "export-tests", "-o", str(out)) == 0
    assert "removed (its route no longer differs)" in capsys.readouterr().out
    assert sorted(p.name for p in out.iterdir()) == ["test_mine.py"]  # not ours: kept


def test_a_route_is_exported_from_its_live_shadow_evidence(
    site: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    store = open_store(f"sqlite:///{site}/p.db")
    diff = Difference("body.data.name", "body.data.name", Kind.VALUE)
    legacy = json.dumps(tree({"data": {"id": 9, "name": "user 9", "seen": 1}}))
    native = json.dumps(tree({"data": {"id": 9, "name": "USER 9", "seen": 1}}))
    request = RequestInfo("GET", "/api/users/9", "", "live-1")
    result = Result("users.show", 100.0, Outcome.MISMATCHED, Source.PC, 0.01, 0.01, (diff,),
                    Sample(request, legacy, native))  # fmt: skip
    store.write(fold([result]))
    store.close()
    out = site / "live"
    assert cli(site, "export-tests", "--route", "users.show", "-o", str(out)) == 0
    cases = json.loads((out / "test_parity_users_show.json").read_text())["cases"]
    assert cases["test_body_data_name"]["request"]["path"] == "/api/users/9"
    assert "live shadow evidence of users.show" in (out / "test_parity_users_show.py").read_text()
    capsys.readouterr()


@pytest.mark.parametrize(
    ("args", "code", "message"),
    [
        (["--limit-per-field", "0"], 2, "--limit-per-field must be at least 1"),
        (["--route", "nope"], 1, "no such route 'nope'"),
        (["--run", "nope"], 1, "no replay run 'nope' in this store"),
        ([], 1, "no replay run in this store"),
    ],
    ids=["limit", "route", "run", "no-run"],
)
def test_export_usage_errors(
    site: Path, args: list[str], code: int, message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    open_store(f"sqlite:///{site}/p.db").close()
    assert cli(site, "export-tests", *args, "-o", str(site / "x")) == code
    assert message in capsys.readouterr().err
