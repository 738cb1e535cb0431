"""The operator's journey on the demo: the repository's routing.yaml on a running gateway
(`strangler serve`) in front of the real PHP application, edited as an operator edits it, and
read back through the CLI and the admin surface.

- A flip is one line: only the `mode:` line of `invoices.list` (a route with its own `shadow:`
  block) changes, shadow → native → legacy → shadow; each reload is applied, the route then
  behaves as its mode says, and `strangler check` and `strangler history` agree.
- A `native.app` that cannot be imported is refused on reload, at its line, as `check` says.
- A refused table file shows on /_strangler/health, /_strangler/routes and the dashboard's
  first page until the file is put back.
- Read commands find the gateway's store from any directory, and fail (never answer with
  nothing) for a route or a store that is not there, naming what they looked for.
- Each comment of the demo's banner says where the curl lines under it go.
"""

from __future__ import annotations

import contextlib
import hashlib
import html
import json
import os
import re
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from urllib.parse import urlsplit

import httpx
import pytest

from shadow.settings import sampled
from tests.e2e.conftest import API, Legacy
from tests.gateway.live import LiveGateway, live_gateway
from tests.proxy.test_metrics import scrape
from tests.support.services import ROOT

pytestmark = pytest.mark.integration

DEMO = (ROOT / "routing.yaml").read_text(encoding="utf-8")
ROUTE = "invoices.list"
SENT = 16  # requests per mode
# Request ids the route's `sample: 0.5` leaves out, then one it compares: outcomes not compared
# are handed over in bulk when a comparison starts, so ending on a compared one counts them all
# (and nothing runs beside it: no candidate is shed for want of room)
_LEFT_OUT = [i for i in (f"flip-{k}" for k in range(200)) if not sampled(i, 0.5)][: SENT - 1]
IDS = [*_LEFT_OUT, next(i for i in (f"flip-{k}" for k in range(200)) if sampled(i, 0.5))]


def with_mode(text: str, mode: str) -> str:
    """The table with only the mode line of invoices.list changed."""
    pattern = re.compile(r"(- id: invoices\.list\b[^\n]*\n(?:[^\n]*\n)*?\s+mode: )(\w+)")
    changed, n = pattern.subn(lambda m: m.group(1) + mode, text, count=1)
    assert n == 1
    assert sum(a != b for a, b in zip(text.splitlines(), changed.splitlines(), strict=True)) <= 1
    return changed


def write_atomically(path: Path, text: str) -> None:
    temporary = path.with_suffix(".tmp")
    temporary.write_text(text, encoding="utf-8")
    os.replace(temporary, path)


def wait_until(check: Callable[[], bool], what: str, timeout: float = 15) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.05)


def counters(gateway: LiveGateway) -> dict[str, float]:
    """What tells the sides apart for the route: which side answered, and shadow outcomes."""
    seen = scrape(httpx.get(f"{gateway.url}/_strangler/metrics", timeout=5).text)
    found = {"legacy": 0.0, "native": 0.0, "outcomes": 0.0, "unsampled": 0.0}
    for (name, labels), value in seen.items():
        label = dict(labels)
        if label.get("route") != ROUTE:
            continue
        if name == "strangler_side_duration_seconds_count":
            found[label["side"]] += value
        elif name == "strangler_shadow_outcomes_total":
            found["outcomes"] += value
            if label["outcome"] == "unsampled":
                found["unsampled"] += value
    return found


def mode_in_force(gateway: LiveGateway, headers: dict[str, str] | None = None) -> str:
    answer = httpx.get(f"{gateway.url}/_strangler/routes", headers=headers, timeout=5)
    routes = answer.json()["routes"]
    return str(next(r["mode"] for r in routes if r["id"] == ROUTE))


def flip(gateway: LiveGateway, text: str) -> None:
    write_atomically(gateway.config, text)
    digest = hashlib.sha256(text.encode()).hexdigest()
    wait_until(
        lambda: httpx.get(f"{gateway.url}/_strangler/health", timeout=5).json()["digest"] == digest,
        "the reload to be applied",
    )


def list_invoices(gateway: LiveGateway, token: str, mode: str) -> None:
    for request_id in IDS:
        headers = {
            "Authorization": f"Bearer {token}",
            "Accept": "application/json",
            "X-Request-ID": f"{request_id}-{mode}" if mode != "shadow" else request_id,
        }
        response = httpx.get(f"{gateway.url}{API}/invoices", headers=headers, timeout=30)
        assert response.status_code == 200, response.text[:300]
        assert response.json()["data"]


def wait_for_outcomes(gateway: LiveGateway, total: float) -> None:
    wait_until(lambda: counters(gateway)["outcomes"] >= total, "every shadow outcome")


def strangler(
    *argv: str, env: dict[str, str], cwd: Path = ROOT
) -> subprocess.CompletedProcess[str]:
    environ = {k: v for k, v in os.environ.items() if not k.startswith("STRANGLER_")}
    return subprocess.run(
        [sys.executable, "-m", "proxy.cli", *argv],
        env={**environ, "PYTHONPATH": str(ROOT), **env},
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def demo_env(legacy: Legacy, directory: Path) -> dict[str, str]:
    return {
        "LEGACY_URL": legacy.url,
        "DATABASE_URL": legacy.db_url,
        "STRANGLER_STORE": f"sqlite:///{directory}/parity.db",
        "STRANGLER_RELOAD_INTERVAL": "0.05",
    }


@contextlib.contextmanager
def demo_gateway(legacy: Legacy, directory: Path) -> Iterator[LiveGateway]:
    with live_gateway(DEMO, directory, demo_env(legacy, directory)) as gateway:
        yield gateway


def test_flipping_a_route_with_its_own_shadow_block_is_a_one_line_edit(
    legacy: Legacy, tmp_path: Path
) -> None:
    env = demo_env(legacy, tmp_path)
    with demo_gateway(legacy, tmp_path) as gateway:
        assert mode_in_force(gateway) == "shadow"
        for mode in ("native", "legacy", "shadow"):
            before = counters(gateway)
            text = with_mode(DEMO, mode)
            flip(gateway, text)
            assert mode_in_force(gateway) == mode
            checked = strangler("check", str(gateway.config), env=env)
            assert checked.returncode == 0, checked.stderr
            kept = f"route '{ROUTE}': shadow: is kept but unused in mode {mode}"
            assert (kept in checked.stderr) is (mode != "shadow"), checked.stderr
            list_invoices(gateway, legacy.token, mode)
            if mode == "shadow":  # outcomes are counted once each candidate has finished
                wait_for_outcomes(gateway, before["outcomes"] + SENT)
            after = counters(gateway)
            grew = {key: after[key] - before[key] for key in after}
            if mode == "native":
                assert (grew["native"], grew["legacy"], grew["outcomes"]) == (SENT, 0, 0)
            elif mode == "legacy":
                assert (grew["native"], grew["legacy"], grew["outcomes"]) == (0, SENT, 0)
            else:  # PHP answers; the route's own `sample: 0.5` is back in force
                assert (grew["legacy"], grew["outcomes"]) == (SENT, SENT)
                assert (grew["unsampled"], grew["native"]) == (SENT - 1, 1)
        history = strangler(
            "history", "--config", str(gateway.config), "--route", ROUTE, "--format", "json",
            env=env,
        )  # fmt: skip
    assert history.returncode == 0, history.stderr
    flips = [
        (f["old_mode"], f["new_mode"], f["trigger"]) for f in json.loads(history.stdout)["flips"]
    ]
    assert flips[-3:] == [
        ("shadow", "native", "file"),
        ("native", "legacy", "file"),
        ("legacy", "shadow", "file"),
    ]


def test_a_native_app_that_cannot_be_imported_is_refused_on_reload_at_its_line(
    legacy: Legacy, tmp_path: Path
) -> None:
    env = demo_env(legacy, tmp_path)
    headers = {"Authorization": f"Bearer {legacy.token}", "Accept": "application/json"}
    line = 1 + DEMO.splitlines().index(next(x for x in DEMO.splitlines() if "app: handlers" in x))
    typo = DEMO.replace("app: handlers.app:app", "app: handlers.apps:app")
    expected = (
        f"{tmp_path / 'routing.yaml'}:{line}: native.app: no module named 'handlers.apps' "
        "(from 'handlers.apps:app')"
    )
    with demo_gateway(legacy, tmp_path) as gateway:
        in_force = httpx.get(f"{gateway.url}/_strangler/health", timeout=5).json()["digest"]
        write_atomically(gateway.config, typo)
        answer = httpx.post(f"{gateway.url}/_strangler/reload", timeout=30)
        assert answer.status_code == 422, answer.text
        assert answer.json()["problems"] == [expected]
        health = httpx.get(f"{gateway.url}/_strangler/health", timeout=5).json()
        assert health["digest"] == in_force
        # the native route is still served by the app that runs
        users = httpx.get(f"{gateway.url}{API}/users/1", headers=headers, timeout=30)
        assert users.status_code == 200
        checked = strangler("check", str(gateway.config), env=env)
        assert checked.returncode == 1
        assert checked.stderr == expected + "\n"


def test_a_refused_table_file_is_visible_until_the_file_is_put_back(
    legacy: Legacy, tmp_path: Path
) -> None:
    token = "journey-admin-token"
    env = {**demo_env(legacy, tmp_path), "STRANGLER_ADMIN_TOKEN": token}
    bearer = {"Authorization": f"Bearer {token}"}
    lines = DEMO.splitlines()
    line = 1 + next(i for i, x in enumerate(lines) if "id: invoices.list" in x) + 2
    assert lines[line - 1].strip() == "mode: shadow"
    broken = with_mode(DEMO, "nativ")
    reason = (
        f"{tmp_path / 'routing.yaml'}:{line}: route 'invoices.list': unknown mode 'nativ' "
        "(expected legacy, native, shadow, canary)"
    )
    with live_gateway(DEMO, tmp_path, env) as gateway:
        health = f"{gateway.url}/_strangler/health"
        in_force = httpx.get(health, timeout=5).json()["config"]
        assert in_force["state"] == "in_force"
        write_atomically(gateway.config, broken)
        wait_until(
            lambda: httpx.get(health, timeout=5).json()["config"]["state"] == "file_rejected",
            "the refusal to show",
        )
        # open to anyone: that the file was refused, which text and which table is in force
        seen = httpx.get(health, timeout=5).json()["config"]
        assert seen == {
            "state": "file_rejected",
            "in_force": in_force["in_force"],
            "rejected": {
                "digest": hashlib.sha256(broken.encode()).hexdigest(),
                "at": seen["rejected"]["at"],
                "trigger": "file",
            },
        }
        # the reasons, which quote the file, to whom the admin surface lets in
        told = httpx.get(health, headers=bearer, timeout=5).json()["config"]
        assert told["rejected"]["problems"] == [reason]
        routes = httpx.get(f"{gateway.url}/_strangler/routes", headers=bearer, timeout=5).json()
        assert routes["config"] == told
        assert mode_in_force(gateway, bearer) == "shadow"
        page = httpx.get(
            f"{gateway.url}/_strangler/", headers={**bearer, "Accept": "text/html"}, timeout=30
        ).text
        assert 'data-config="file_rejected"' in page
        assert html.escape(reason, quote=True) in page
        assert f"digest <code>{in_force['in_force']['digest'][:12]}</code>" in page
        # the table in force, put back: nothing left to say
        write_atomically(gateway.config, DEMO)
        wait_until(
            lambda: httpx.get(health, timeout=5).json()["config"]["state"] == "in_force",
            "the refusal to clear",
        )
        assert httpx.get(health, timeout=5).json()["config"] == in_force
        page = httpx.get(
            f"{gateway.url}/_strangler/", headers={**bearer, "Accept": "text/html"}, timeout=30
        ).text
        assert "data-config" not in page


def test_read_commands_find_the_gateways_store_from_anywhere_and_never_answer_wrongly(
    legacy: Legacy, tmp_path: Path
) -> None:
    env = {k: v for k, v in demo_env(legacy, tmp_path).items() if k != "STRANGLER_STORE"}
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    config = str(tmp_path / "routing.yaml")
    headers = {"Authorization": f"Bearer {legacy.token}", "Accept": "application/json"}
    with live_gateway(DEMO, tmp_path, env) as gateway:
        answer = httpx.get(f"{gateway.url}{API}/users", headers=headers, timeout=30)
        assert answer.status_code == 200
        assert gateway.stop() == 0  # the store is flushed on the way out
    # `store: sqlite:///var/parity.db` is beside the table, for the gateway and the CLI alike
    assert (tmp_path / "var" / "parity.db").exists()
    report = strangler("report", "--config", config, "--format", "json", cwd=elsewhere, env=env)
    assert report.returncode == 0, report.stderr
    [users] = [r for r in json.loads(report.stdout)["routes"] if r["route"] == "users.list"]
    assert users["requests"] == 1
    for command in ("report", "noise"):
        nope = strangler(command, "--config", config, "--route", "nope", cwd=elsewhere, env=env)
        assert (nope.returncode, nope.stdout) == (1, "")
        assert nope.stderr == (
            f"{config}: no such route 'nope' (not in the table, and nothing is stored for it)\n"
        )
    # a table whose store was never written: an error that names it, and nothing created
    other = elsewhere / "routing.yaml"
    other.write_text(DEMO, encoding="utf-8")
    for command in ("report", "noise", "gate", "history"):
        missing = strangler(command, cwd=elsewhere, env=env)
        assert missing.returncode == 1
        assert missing.stderr.startswith(f"no parity store at {elsewhere / 'var' / 'parity.db'}")
    assert not (elsewhere / "var").exists()
    # no table where the command runs: the path it tried
    other.unlink()
    lost = strangler("report", cwd=elsewhere, env=env)
    assert (lost.returncode, lost.stderr) == (
        1,
        "routing.yaml:0: cannot read the file: No such file or directory "
        f"(tried {elsewhere / 'routing.yaml'})\n",
    )


DEMO_SCRIPT = (ROOT / "scripts" / "demo.sh").read_text(encoding="utf-8")


def demo_banner() -> list[tuple[str, list[str]]]:
    """The commands the demo prints, under the comment that says what they do."""
    text = DEMO_SCRIPT.split("cat <<TXT\n", 1)[1].split("\nTXT\n", 1)[0]
    groups: list[tuple[str, list[str]]] = []
    for line in text.splitlines():
        line = line.strip()
        if line.startswith("# "):
            groups.append((line[2:], []))
        elif groups and line.startswith(("curl", ".venv")):
            groups[-1][1].append(line)
    return groups


# what a comment of the banner names, and the path a line under it must request
NAMED = {
    "login page": "/login",
    "health check": "/health",
    "one user": f"{API}/users/1",
    "users list": f"{API}/users",
    "routes": "/_strangler/routes",
}


def path_of(line: str) -> str:
    """The path a banner line requests: what follows $G, to a quote, a space or the end."""
    [found] = re.findall(r"\$G(\S*?)(?=['\s]|$)", line)
    return urlsplit(found).path


def access_lines(gateway: LiveGateway, path: str) -> list[dict[str, object]]:
    log = (gateway.config.parent / "gateway.log").read_text(encoding="utf-8")
    lines = [json.loads(x) for x in log.splitlines() if x.startswith("{")]
    return [x for x in lines if x.get("event") == "access" and x.get("path") == path]


def test_each_comment_of_the_demo_says_where_its_curl_lines_go(
    legacy: Legacy, tmp_path: Path
) -> None:
    groups = demo_banner()
    by_mode = {comment.split(":")[0]: lines for comment, lines in groups if ":" in comment}
    assert {"legacy", "native", "shadow"} <= set(by_mode)
    assert all(lines for _, lines in groups), groups  # no comment without its lines
    for comment, lines in groups:
        asked = {path_of(line) for line in lines if "$G" in line}
        for words, path in NAMED.items():
            assert words not in comment or path in asked, (comment, lines)
    env = {k: v for k, v in demo_env(legacy, tmp_path).items() if k != "STRANGLER_STORE"}
    with live_gateway(DEMO, tmp_path, env) as gateway:
        for mode in ("legacy", "native", "shadow"):
            for line in by_mode[mode]:
                command = line.replace("$G", gateway.url).replace("$TOKEN", legacy.token)
                path = path_of(line)
                seen = len(access_lines(gateway, path))
                done = subprocess.run(
                    ["bash", "-c", command + " -o /dev/null -w '%{http_code}'"],
                    capture_output=True, text=True, timeout=30, check=False,
                )  # fmt: skip
                assert done.stdout == "200", (line, done.stdout, done.stderr)
                wait_until(lambda n=seen, p=path: len(access_lines(gateway, p)) > n, "its line")
                assert access_lines(gateway, path)[seen]["mode"] == mode, line
        for comment, lines in groups:  # the operator's view: every line answers
            if comment.split(":")[0] in by_mode:
                continue
            for line in lines:
                command = line.replace("$G", gateway.url).replace(
                    ".venv/bin/strangler", f"{sys.executable} -m proxy.cli"
                )
                done = subprocess.run(
                    ["bash", "-c", command], cwd=tmp_path, capture_output=True, text=True,
                    timeout=60, check=False, env={**os.environ, "PYTHONPATH": str(ROOT), **env},
                )  # fmt: skip
                assert done.returncode == 0, (line, done.stderr)
