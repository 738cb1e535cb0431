"""Hot reload end to end: 100 reloads, good and bad alternating, under concurrent traffic.

Good table k sends everything to echo.php under the base path /t{k}; bad table k would send it
to /bad{k} but fails validation. Every answer's REQUEST_URI therefore names the table that
served it: it must be a good table that was in force, and no request may fail.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import os
from pathlib import Path

import httpx
import pytest

from tests.gateway.conftest import table_text
from tests.gateway.live import live_gateway, php_echo

pytestmark = pytest.mark.integration
ROUTES = "  - id: r\n    match: GET /routed/{x}\n    mode: {mode}\n"
ROUNDS = 100
CLIENTS = 6


def good(php: str, k: int) -> str:
    return table_text(f"{php}/t{k}", ROUTES.replace("{mode}", "legacy"), timeout="10s")


def bad(php: str, k: int) -> str:
    return table_text(f"{php}/bad{k}", ROUTES.replace("{mode}", "nativ"), timeout="10s")


def write_atomically(path: Path, text: str) -> None:
    # as editors and deploy tools do: the watcher never sees half a file
    temporary = path.with_suffix(".tmp")
    temporary.write_text(text)
    os.replace(temporary, path)


async def traffic(url: str, stop: asyncio.Event, markers: list[str], failures: list[str]) -> None:
    async with httpx.AsyncClient(base_url=url, timeout=10) as client:
        i = 0
        while not stop.is_set():
            i += 1
            path = "/routed/a" if i % 2 else "/plain"
            try:
                response = await client.get(path)
            except httpx.HTTPError as exc:
                failures.append(f"{path}: {exc!r}")
                continue
            if response.status_code != 200:
                failures.append(f"{path}: {response.status_code} {response.text[:200]}")
                continue
            markers.append(json.loads(response.content)["uri"].split("/")[1])


async def reload_rounds(url: str, config: Path, php: str, in_force: set[str]) -> list[dict]:
    answers = []
    async with httpx.AsyncClient(base_url=url, timeout=10) as admin:
        for k in range(ROUNDS):
            text = good(php, k) if k % 2 == 0 else bad(php, k)
            write_atomically(config, text)
            if k % 4 < 2:  # through the admin endpoint
                answer = (await admin.post("/_strangler/reload")).json()
                answers.append(answer)
                assert answer["ok"] is (k % 2 == 0), answer
            else:  # through the file watcher
                await asyncio.sleep(0.25)
            if k % 2 == 0:
                in_force.add(f"t{k}")
                digest = hashlib.sha256(text.encode()).hexdigest()
                async with asyncio.timeout(5):
                    health = "/_strangler/health"  # another process: poll it, with a deadline
                    while (await admin.get(health)).json()["digest"] != digest:  # noqa: ASYNC110
                        await asyncio.sleep(0.02)
            await asyncio.sleep(0.02)
    return answers


async def test_hundred_reloads_under_traffic(tmp_path: Path) -> None:
    with php_echo(tmp_path) as php:
        env = {"STRANGLER_RELOAD_INTERVAL": "0.05"}
        with live_gateway(good(php, -2), tmp_path, env) as gateway:
            in_force = {"t-2"}
            markers: list[str] = []
            failures: list[str] = []
            stop = asyncio.Event()
            clients = [
                asyncio.create_task(traffic(gateway.url, stop, markers, failures))
                for _ in range(CLIENTS)
            ]
            try:
                answers = await reload_rounds(gateway.url, gateway.config, php, in_force)
            finally:
                stop.set()
                await asyncio.gather(*clients)
    assert failures == []
    assert len(markers) > ROUNDS
    assert set(markers) <= in_force, set(markers) - in_force
    assert len(set(markers)) > 10  # traffic really ran across many tables
    rejected = [a for a in answers if not a["ok"]]
    assert rejected and all("unknown mode 'nativ'" in a["problems"][0] for a in rejected)
    log = (tmp_path / "gateway.log").read_text()
    # every bad table was refused and logged, by the endpoint or the watcher (or both)
    assert ROUNDS // 2 <= log.count('"event":"reload_rejected"') <= ROUNDS * 3 // 4
