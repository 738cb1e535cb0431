"""`strangler replay` end to end against two small sides (tests/replay/apps.py): the planted
differences found exactly, the run stored apart from live evidence, credentials used and never
stored, progress as plain lines or a bar on a pseudo-terminal, Ctrl-C, writes, recorded
requests, and every usage error."""

from __future__ import annotations

import dataclasses
import os
import pty
import re
import select
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from proxy.cli.main import main
from shadow.compare import Outcome
from shadow.records import Recorded, fold
from shadow.runs import RunState
from shadow.runstore import read_run, read_runs
from shadow.store import Store, open_store
from tests.replay import apps
from tests.replay.apps import LegacyServer, nginx_line
from tests.support.services import ROOT

SECRET = "Bearer replay-operator-s3cr3t"


@pytest.fixture
def site(tmp_path: Path, legacy: LegacyServer) -> Path:
    """A table, an access log of 200 user pages and a few lines that are not sent."""
    lines = [nginx_line(f"/api/users/{n}") for n in range(200)]
    lines += [nginx_line("/pages/about"), nginx_line("/elsewhere"), "not a request line"]
    return apps.write_site(tmp_path, legacy.url, lines)


def replay(site: Path, *extra: str) -> int:
    return main([
        "replay", "--access-log", str(site / "access.log"),
        "--config", str(site / "routing.yaml"), *extra,
    ])  # fmt: skip


def opened(site: Path) -> Store:
    return open_store(f"sqlite:///{site}/p.db", create=False)


def test_the_planted_differences_are_found_exactly_and_the_run_fails(
    site: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("REPLAY_PLANT", "3,40,177")
    assert replay(site) == 1
    out = capsys.readouterr().out
    store = opened(site)
    try:
        [run] = read_runs(store)
        assert run.state is RunState.FINISHED
        assert (run.totals.read, run.totals.sent) == (203, 200)
        assert run.totals.left_out == {"not_compared": 1, "unmatched": 1, "unreadable": 1}
        rows = store.read_rows(run=run.id)
        real = {(f.field, f.n) for f in rows.fields if f.source.value == "pc"} - {
            (f.field, f.n) for f in rows.fields if f.field == "body.data.seen"
        }
        assert real == {("body.data.name", 3)}
        # samples are bounded per field (hash slots): each one kept is a planted request
        named = {s.request_path for s in rows.samples if s.field == "body.data.name"}
        assert named and named <= {"/api/users/3", "/api/users/40", "/api/users/177"}
        assert store.read_rows().counts == ()  # nothing reached the live evidence
    finally:
        store.close()
    assert f"Replay {run.id}: finished" in out
    # the newest pair of the field, side by side
    assert re.search(r'"user (3|40|177)".*"USER (3|40|177)"', out)
    assert f"strangler export-tests --run {run.id}" in out

    assert main(["report", "--run", "latest", "--config", str(site / "routing.yaml")]) == 1
    assert f"Replay {run.id}" in capsys.readouterr().out
    assert main(["report", "--config", str(site / "routing.yaml"), "--format", "json"]) == 0
    assert '"routes": []' in capsys.readouterr().out  # live reports never see a replay


def test_a_run_at_parity_exits_0_and_learned_noise_does_not_fail_it(
    site: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.delenv("REPLAY_PLANT", raising=False)
    assert replay(site) == 0
    out = capsys.readouterr().out
    assert "noise (A/A" in out and "export-tests" not in out


def test_credentials_reach_both_sides_and_are_never_stored(
    site: Path, legacy: LegacyServer, capsys: pytest.CaptureFixture[str]
) -> None:
    apps.NATIVE_HEADERS.clear()
    assert replay(site, "--limit", "5", "--header", f"Authorization: {SECRET}") in (0, 1)
    assert {h.get("authorization") for h in legacy.headers} == {SECRET}
    assert {h.get("authorization") for h in apps.NATIVE_HEADERS} == {SECRET}
    assert all(h.get("x-strangler-dry-run") == "1" for h in apps.NATIVE_HEADERS)
    assert not any("x-strangler-dry-run" in h for h in legacy.headers)
    stored = b"".join(p.read_bytes() for p in site.glob("p.db*"))
    assert b"replay-operator-s3cr3t" not in stored
    store = opened(site)
    try:
        assert read_runs(store)[0].options["headers"] == ["authorization"]
    finally:
        store.close()
    capsys.readouterr()


def test_progress_without_a_terminal_is_plain_lines(
    site: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    replay(site)
    err = capsys.readouterr().err
    assert "\x1b" not in err and "\r" not in err
    lines = [line for line in err.splitlines() if " requests, " in line]
    assert 2 <= len(lines) <= 11
    assert re.fullmatch(
        r"replay \S+: 200/200 requests, [\d,.]+/s, \d+ matched, \d+ mismatched, 0 errored",
        lines[-1],
    )


def child_env(site: Path, plant: str = "") -> dict[str, str]:
    return {**os.environ, "PYTHONPATH": str(ROOT), "REPLAY_PLANT": plant, "COLUMNS": "120"}


def command(site: Path, *extra: str) -> list[str]:
    return [
        sys.executable, "-m", "proxy.cli", "replay", "--access-log", str(site / "access.log"),
        "--config", str(site / "routing.yaml"), *extra,
    ]  # fmt: skip


def test_progress_on_a_pseudo_terminal_is_a_bar(site: Path) -> None:
    main_fd, child_fd = pty.openpty()
    proc = subprocess.Popen(
        command(site, "--rate", "400"), stdin=child_fd, stdout=child_fd, stderr=child_fd,
        env={**child_env(site, "3"), "TERM": "xterm-256color"}, cwd=site, close_fds=True,
    )  # fmt: skip
    os.close(child_fd)
    seen = b""
    while True:
        ready, _, _ = select.select([main_fd], [], [], 30)
        if not ready:
            break
        try:
            chunk = os.read(main_fd, 65536)
        except OSError:  # the child closed its end
            break
        if not chunk:
            break
        seen += chunk
    os.close(main_fd)
    assert proc.wait(30) == 1
    text = seen.decode("utf-8", "replace")
    assert "\x1b[" in text  # drawn, with colour and cursor moves
    assert "━" in text and "200/200" in text  # the bar, requests done of the total
    assert "✓" in text and "✗" in text  # matched and mismatched so far


def test_ctrl_c_stops_after_the_requests_in_flight_and_keeps_what_was_compared(
    site: Path,
) -> None:
    proc = subprocess.Popen(
        command(site, "--rate", "50"), stdout=subprocess.PIPE, stderr=subprocess.PIPE,
        env=child_env(site), cwd=site, text=True,
    )  # fmt: skip
    assert proc.stderr is not None
    for line in proc.stderr:  # the first tenth is done: the run is under way
        if " requests, " in line:
            break
    proc.send_signal(signal.SIGINT)
    out, _ = proc.communicate(timeout=60)
    assert proc.returncode == 130
    assert ": stopped in " in out
    store = opened(site)
    try:
        [run] = read_runs(store)
        assert run.state is RunState.STOPPED and 20 <= run.totals.sent < 200
        rows = store.read_rows(run=run.id)
        compared = sum(
            c.counts[o.value] for c in rows.counts
            for o in (Outcome.MATCHED, Outcome.IGNORED, Outcome.MISMATCHED, Outcome.ERRORED)
        )  # fmt: skip
        assert compared == run.totals.sent  # every request sent was compared and stored
    finally:
        store.close()


def test_writes_replay_as_dry_runs_and_legacy_is_never_written_to(
    site: Path, legacy: LegacyServer, capsys: pytest.CaptureFixture[str]
) -> None:
    store = open_store(f"sqlite:///{site}/p.db")
    kept = [
        Recorded("users.create", 100.0 + n, f"r{n}", "POST", "/api/users",
                 (("content-type", "application/json"),), body, 201, "legacy")
        for n, body in enumerate([b'{"name": "ok"}', b'{"name": "bad"}', b'{"name": "x"}'])
    ]  # fmt: skip
    kept[2] = dataclasses.replace(kept[2], side="native")  # legacy's answer is not known
    store.write(fold(kept))
    store.close()
    apps.NATIVE_HEADERS.clear()
    config = str(site / "routing.yaml")
    assert main(["replay", "--recorded", "--config", config, "--writes", "dry_run"]) == 1
    assert legacy.writes == 0 and legacy.headers == []
    assert len(apps.NATIVE_HEADERS) == 2  # the one legacy did not answer is not sent
    assert all(h["x-strangler-dry-run"] == "1" for h in apps.NATIVE_HEADERS)
    store = opened(site)
    try:
        run = read_run(store, "latest")
        assert run is not None
        [counts] = store.read_rows(run=run.id).counts
        assert (counts.counts["matched"], counts.counts["mismatched"]) == (1, 1)
        assert counts.counts["skipped"] == 1
        assert [f.field for f in store.read_rows(run=run.id).fields] == ["status"]
    finally:
        store.close()
    assert "status" in capsys.readouterr().out


@pytest.mark.parametrize(
    ("args", "code", "message"),
    [
        (["--header", "no colon"], 2, "expected 'Name: value'"),
        (["--route", "no.such.route"], 1, "no such route 'no.such.route'"),
        (["--limit", "0"], 2, "--limit must be at least 1"),
        (["--rate", "-1"], 2, "--rate must be above 0"),
        (["--since", "yesterday-ish"], 2, "bad since"),
    ],
    ids=["header", "route", "limit", "rate", "since"],
)
def test_usage_errors_say_what_is_wrong(
    site: Path, args: list[str], code: int, message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert replay(site, *args) == code
    assert message in capsys.readouterr().err


def test_a_missing_log_or_store_is_named(site: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["replay", "--access-log", str(site / "nope.log"), "--config",
                 str(site / "routing.yaml")]) == 2  # fmt: skip
    assert "nope.log: no such file" in capsys.readouterr().err
    assert main(["replay", "--recorded", "--config", str(site / "routing.yaml")]) == 1
    assert f"no parity store at {site}/p.db" in capsys.readouterr().err


def test_a_comparison_that_failed_inside_the_replay_fails_the_run(tmp_path: Path) -> None:
    from rich.console import Console

    from proxy.cli.runs import render_run
    from shadow.runs import RunInfo, Totals
    from shadow.runstore import begin, end

    store = open_store(f"sqlite:///{tmp_path}/p.db")
    try:
        begin(store, RunInfo("r1", 1.0, "access log x", {}))
        end(store, "r1", RunState.FINISHED, 2.0, Totals(read=3, sent=3, failed=1))
        console = Console(record=True, width=200)
        assert render_run(console, store, "r1") is True  # nothing differed, one never compared
        assert "1 comparisons failed inside the replay" in console.export_text()
    finally:
        store.close()
