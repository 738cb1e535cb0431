"""`strangler serve --workers 2` and SIGHUP: every worker reloads its table in place.

uvicorn's own supervisor would replace the workers one by one; the gateway's passes the signal
on, so the workers keep running (same processes, same uptime) and a bad table is refused by each
of them while the one in force stays.
"""

from __future__ import annotations

import hashlib
import os
import signal
import time
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.gateway.conftest import table_text
from tests.gateway.live import live_gateway

pytestmark = pytest.mark.integration
ROUTE = "  - id: r\n    match: GET /r\n    mode: legacy\n"


def children(pid: int) -> set[int]:
    found: set[int] = set()
    for task in Path(f"/proc/{pid}/task").iterdir():
        found |= {int(c) for c in (task / "children").read_text().split()}
    return found


def healths(url: str, n: int = 40) -> list[dict[str, Any]]:
    # a new connection per request, so that both workers answer
    return [httpx.get(f"{url}/_strangler/health", timeout=5).json() for _ in range(n)]


def settled(url: str, digest: str) -> list[dict[str, Any]]:
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline:
        seen = healths(url)
        if all(h["digest"] == digest for h in seen):
            return seen
        time.sleep(0.1)
    raise AssertionError(f"not every worker reached {digest}")


def test_sighup_reloads_every_worker_in_place(tmp_path: Path, closed_port_url: str) -> None:
    env = {"STRANGLER_RELOAD_INTERVAL": "3600"}  # the file watcher stays out of it
    with live_gateway(table_text(closed_port_url), tmp_path, env, workers=2) as gateway:
        url, supervisor, config = gateway.url, gateway.proc.pid, gateway.config
        assert {h["generation"] for h in healths(url)} == {1}
        workers = children(supervisor)
        assert len(workers) >= 2
        time.sleep(1)

        config.write_text(table_text(closed_port_url, ROUTE))
        digest = hashlib.sha256(config.read_bytes()).hexdigest()
        os.kill(supervisor, signal.SIGHUP)
        after = settled(url, digest)
        assert {h["generation"] for h in after} == {2}
        assert min(h["uptime_s"] for h in after) >= 1.0  # no worker was replaced
        assert children(supervisor) == workers

        config.write_text(table_text(closed_port_url, ROUTE.replace("legacy", "nativ")))
        os.kill(supervisor, signal.SIGHUP)
        time.sleep(1)
        assert {(h["digest"], h["generation"]) for h in healths(url)} == {(digest, 2)}
        assert children(supervisor) == workers
