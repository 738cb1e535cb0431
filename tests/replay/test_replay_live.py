"""Replay against the real sides: an access log of 10,000 lines, the legacy PHP application on a
seeded SQLite database, the native handlers on the same database with differences planted in a
copy of one handler (tests/replay/planted.py). Every request sent is compared, exactly the
planted differences are found (counted from the database itself), and the progress shows as a
bar on a pseudo-terminal and as plain lines without one. Then the run's differences, exported as
tests, fail on the plant with the field in the message and pass once it is removed."""

from __future__ import annotations

import os
import pty
import random
import re
import select
import sqlite3
import subprocess
import sys
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from shadow.compare import Outcome
from shadow.runs import RunState
from shadow.runstore import read_runs
from shadow.store import open_store
from tests.e2e.conftest import Legacy, legacy_app
from tests.replay.apps import nginx_line
from tests.support.services import ROOT

pytestmark = pytest.mark.integration

API = "/api/v1/admin"
LINES = 10_000
COMPARED = (Outcome.MATCHED, Outcome.IGNORED, Outcome.MISMATCHED, Outcome.ERRORED)


@dataclass
class Expected:
    """What the log holds, and what the planted copy must make differ, from the data itself."""

    lines: Counter[str] = field(default_factory=Counter)  # route (or why not sent) → lines
    fields: dict[str, Counter[str]] = field(default_factory=dict)  # route → field → requests


def write_log(path: Path, db: Path) -> Expected:
    with sqlite3.connect(db) as conn:
        verified = {
            i for (i,) in conn.execute("SELECT id FROM users WHERE email_verified_at IS NOT NULL")
        }
        users = [i for (i,) in conn.execute("SELECT id FROM users")]
        with_properties = {i for (i,) in conn.execute(
            "SELECT model_id FROM properties WHERE model_type LIKE '%User'"
        )}  # fmt: skip
        page = "SELECT id FROM users LIMIT 5 OFFSET ?"  # the legacy side's order: none given
        pages = {p: [i for (i,) in conn.execute(page, (5 * (p - 1),))] for p in range(1, 6)}
        invoices = conn.execute("SELECT COUNT(*) FROM invoices").fetchone()[0]
    rng = random.Random(16)
    expected = Expected(fields={"users.show": Counter(), "users.list": Counter(),
                                "invoices.show": Counter()})  # fmt: skip
    lines = []
    for n in range(LINES):
        pick, hour = rng.random(), n * 24 // LINES
        if pick < 0.55:  # a user, a few past the last (404 on both sides)
            user = rng.randint(1, len(users) + 2)
            include = pick >= 0.40
            lines.append(
                nginx_line(
                    f"{API}/users/{user}" + ("?include=properties" if include else ""), hour=hour
                )
            )
            expected.lines["users.show"] += 1
            if user in verified:
                expected.fields["users.show"]["body.data.attributes.email_verified_at"] += 1
            if include and user in users and user not in with_properties:
                expected.fields["users.show"]["body.data.meta.properties"] += 1
        elif pick < 0.70:
            page = rng.randint(1, 5)
            lines.append(nginx_line(f"{API}/users?page={page}&per_page=5", hour=hour))
            expected.lines["users.list"] += 1
            if verified & set(pages[page]):
                expected.fields["users.list"]["body.data[*].attributes.email_verified_at"] += 1
        elif pick < 0.90:
            lines.append(nginx_line(f"{API}/invoices/{rng.randint(1, invoices + 1)}", hour=hour))
            expected.lines["invoices.show"] += 1
        elif pick < 0.95:
            lines.append(nginx_line("/admin/login", hour=hour))  # no route: legacy's own
            expected.lines["unmatched"] += 1
        else:
            lines.append(nginx_line(f"{API}/users", "POST", 201, hour=hour))
            expected.lines["not_compared"] += 1
    path.write_text("\n".join(lines) + "\n")
    return expected


TABLE = """\
version: 1
legacy:
  url: {legacy}
  timeout: 30s
native:
  app: tests.replay.planted:app
  timeout: 30s
shadow:
  store: sqlite:///{store}
  timeout: 30s
routes:
  - id: users.list
    match: GET {api}/users
    mode: shadow
  - id: users.show
    match: GET {api}/users/{{id:int}}
    mode: shadow
  - id: invoices.show
    match: GET {api}/invoices/{{id:int}}
    mode: shadow
  - id: users.create
    match: POST {api}/users
    mode: legacy
"""


@pytest.fixture(scope="module")
def legacy(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Legacy]:
    with legacy_app(tmp_path_factory.mktemp("legacy")) as app:
        yield app


@pytest.fixture(scope="module")
def site(legacy: Legacy, tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Expected]:
    directory = tmp_path_factory.mktemp("replay")
    (directory / "routing.yaml").write_text(
        TABLE.format(legacy=legacy.url, store=directory / "parity.db", api=API)
    )
    db = Path(legacy.db_url.removeprefix("sqlite:///"))
    return directory, write_log(directory / "access.log", db)


def env(legacy: Legacy, planted: bool = True) -> dict[str, str]:
    return {
        **os.environ, "PYTHONPATH": str(ROOT), "DATABASE_URL": legacy.db_url,
        "REPLAY_PLANTED": "1" if planted else "0", "TERM": "xterm-256color", "COLUMNS": "160",
    }  # fmt: skip


def replay_command(directory: Path, legacy: Legacy, *extra: str) -> list[str]:
    return [
        sys.executable, "-m", "proxy.cli", "replay", "--access-log", str(directory / "access.log"),
        "--config", str(directory / "routing.yaml"), "--header",
        f"Authorization: Bearer {legacy.token}", "--concurrency", "8", *extra,
    ]  # fmt: skip


def on_a_terminal(command: list[str], environment: dict[str, str], cwd: Path) -> tuple[int, str]:
    main_fd, child_fd = pty.openpty()
    proc = subprocess.Popen(
        command, stdin=child_fd, stdout=child_fd, stderr=child_fd, env=environment, cwd=cwd
    )
    os.close(child_fd)
    seen = bytearray()
    while True:
        ready, _, _ = select.select([main_fd], [], [], 600)
        if not ready:
            proc.kill()
            break
        try:
            chunk = os.read(main_fd, 65536)
        except OSError:
            break
        if not chunk:
            break
        seen += chunk
    os.close(main_fd)
    return proc.wait(60), seen.decode("utf-8", "replace")


def test_ten_thousand_lines_every_request_compared_exactly_the_planted_differences_found(
    legacy: Legacy, site: tuple[Path, Expected], tmp_path: Path
) -> None:
    directory, expected = site
    code, shown = on_a_terminal(replay_command(directory, legacy), env(legacy), directory)
    assert code == 1, shown[-3000:]
    assert "\x1b[" in shown and "━" in shown
    sent = sum(expected.lines[r] for r in ("users.show", "users.list", "invoices.show"))
    assert f"{sent}/{sent}" in shown  # the bar's requests done of the total, at the end

    store = open_store(f"sqlite:///{directory}/parity.db", create=False)
    try:
        run = next(r for r in read_runs(store) if r.options.get("limit") is None)
        assert run.state is RunState.FINISHED
        assert (run.totals.read, run.totals.sent) == (LINES, sent)
        assert run.totals.left_out == {
            "not_compared": expected.lines["not_compared"],
            "unmatched": expected.lines["unmatched"],
        }
        rows = store.read_rows(run=run.id)
    finally:
        store.close()
    compared: Counter[str] = Counter()
    errored: Counter[str] = Counter()
    for c in rows.counts:
        compared[c.route] += sum(c.counts[o.value] for o in COMPARED)
        errored[c.route] += c.counts["errored"]
    for route in ("users.show", "users.list", "invoices.show"):
        assert compared[route] == expected.lines[route], route  # every request compared
    assert sum(errored.values()) == 0
    found: dict[str, Counter[str]] = {r: Counter() for r in expected.fields}
    for f in rows.fields:
        if f.source.value == "pc":
            found[f.route][f.field] += f.n
    assert found == expected.fields  # exactly the planted differences, and nothing else
    assert {f for counts in found.values() for f in counts} == {
        "body.data.attributes.email_verified_at",
        "body.data.meta.properties",
        "body.data[*].attributes.email_verified_at",
    }  # every plant showed (tests/replay/planted.py)

    # the exported tests fail on the plant, with the field, and pass once it is removed
    out = tmp_path / "parity"
    export = subprocess.run(
        [sys.executable, "-m", "proxy.cli", "export-tests", "--run", run.id, "-o", str(out),
         "--config", str(directory / "routing.yaml")],
        env=env(legacy), capture_output=True, text=True, cwd=directory,
    )  # fmt: skip
    assert export.returncode == 0, export.stderr
    failing = run_exported(out, legacy, planted=True)
    assert failing.returncode == 1, failing.stdout[-3000:]
    for name in ("users.show", "users.list"):
        for field_name in expected.fields[name]:
            assert f"native differs from legacy at {field_name}" in failing.stdout
    assert re.search(
        r"attributes\.email_verified_at \(value\): legacy \"\d{4}-\d\d-\d\dT", failing.stdout
    )
    assert "meta.properties (type): legacy [], native {}" in failing.stdout
    assert run_exported(out, legacy, planted=False).returncode == 0


def run_exported(
    directory: Path, legacy: Legacy, *, planted: bool
) -> subprocess.CompletedProcess[str]:
    environment = {
        **env(legacy, planted),
        "STRANGLER_TEST_HEADERS": f"Authorization: Bearer {legacy.token}",
    }
    return subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-W", "error", "-p", "no:cacheprovider",
         "-c", str(ROOT / "pyproject.toml"), str(directory)],
        env=environment, cwd=ROOT, capture_output=True, text=True, timeout=600,
    )  # fmt: skip


def test_without_a_terminal_the_progress_is_plain_lines(
    legacy: Legacy, site: tuple[Path, Expected]
) -> None:
    directory, _ = site
    done = subprocess.run(
        replay_command(directory, legacy, "--limit", "1000"), env=env(legacy),
        capture_output=True, text=True, cwd=directory, timeout=600,
    )  # fmt: skip
    assert done.returncode == 1, done.stderr[-2000:]
    assert "\x1b" not in done.stderr and "━" not in done.stderr
    lines = [line for line in done.stderr.splitlines() if " requests, " in line]
    assert 2 <= len(lines) <= 11
    assert re.fullmatch(r"replay \S+: 1,000/1,000 requests, [\d,.]+/s, .* 0 errored", lines[-1])
    assert "Replay " in done.stdout and "users.show: differing values" in done.stdout
