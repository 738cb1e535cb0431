"""A live gateway (`strangler serve`, uvicorn) in shadow mode in front of PHP: whatever the
candidate does, the client gets the bytes a gateway in legacy mode sends, without waiting; and
the parity store, flushed on SIGTERM, records each fault."""

from __future__ import annotations

import json
import time
from pathlib import Path

import httpx
import pytest

from proxy.cli.main import main
from tests.e2e.conftest import API, Legacy, table_text
from tests.gateway.live import live_gateway

pytestmark = pytest.mark.integration

FAULTS = ["", "hang", "raise", "garbage"]


def table(legacy_url: str, mode: str) -> str:
    route = f"  - id: users.list\n    match: GET {API}/users\n    mode: {mode}\n"
    text = table_text(legacy_url, route, "  noise_sample: 0\n")
    text = text.replace("  app: handlers.app:app\n", "  app: tests.e2e.faulty:app\n")
    # room for every fault at once: the hanging candidate holds its place for its whole 1s
    cap = "shadow:\n  timeout: 1s\n  max_in_process: 4\n  in_process_share: 1\n"
    return text.replace("shadow:\n  timeout: 20s\n", cap)


def seen(response: httpx.Response) -> tuple[int, list[tuple[str, str]], bytes]:
    headers = [(k, v) for k, v in response.headers.multi_items() if k != "date"]
    return response.status_code, headers, response.content


def call(base: str, token: str, fault: str) -> tuple[httpx.Response, float]:
    headers = {
        "Authorization": f"Bearer {token}",
        "Accept": "application/json",
        "X-Request-ID": f"live-{fault or 'none'}",
        "X-Test-Fault": fault,
        "Host": "shop.example.test",  # the same for both gateways: PHP echoes it, links use it
    }
    began = time.perf_counter()
    response = httpx.get(f"{base}{API}/users", headers=headers, timeout=30)
    return response, time.perf_counter() - began


def test_a_live_shadow_gateway_answers_as_legacy_mode_whatever_the_candidate_does(
    legacy: Legacy, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    store = f"sqlite:///{tmp_path}/parity.db"
    env = {"DATABASE_URL": legacy.db_url, "STRANGLER_STORE": store}
    plain = tmp_path / "legacy-mode"
    plain.mkdir()
    with live_gateway(table(legacy.url, "legacy"), plain, env) as gateway:
        expected = {fault: seen(call(gateway.url, legacy.token, fault)[0]) for fault in FAULTS}
    shadowed = tmp_path / "shadow-mode"
    shadowed.mkdir()
    with live_gateway(table(legacy.url, "shadow"), shadowed, env) as gateway:
        for fault in FAULTS:
            response, took = call(gateway.url, legacy.token, fault)
            assert seen(response) == expected[fault], fault
            assert took < 0.9, fault  # under the candidate's 1s budget: never waited for
        assert gateway.stop() == 0  # SIGTERM: experiments finish, the store is flushed

    assert main(["report", "--store", store, "--format", "json"]) == 0
    [report] = json.loads(capsys.readouterr().out)["routes"]
    assert (report["compared"], report["matched"], report["errored"]) == (4, 1, 3)
