"""Canary mode in the gateway: sticky cohorts answered by native, the rest by legacy."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import httpx

from proxy.operator.metrics import Metrics
from shadow.report import build_report
from shadow.store import Store
from tests.modes.conftest import Faulty, Legacy, gateway, running, sample, settle, table

CANARY = """\
  - id: users.list
    match: GET /users
    mode: canary
    canary: {share: 0.5, cohort: "header:x-user", force: "header:x-strangler-side"}
"""


def side_of(response: httpx.Response) -> str:
    return "native" if response.json().get("side") == "native" else "legacy"


async def test_each_cohort_is_answered_by_one_side_and_about_half_by_native(
    legacy: Legacy, native: Faulty, store: Store, metrics: Metrics
) -> None:
    async with running(gateway(table(legacy.url, CANARY), native, store, metrics)) as client:
        sides = {}
        for user in range(100):
            seen = {side_of(await client.get("/users", headers={"x-user": f"u{user}"}))
                    for _ in range(3)}  # fmt: skip
            assert len(seen) == 1
            sides[user] = seen.pop()
    native_share = sum(s == "native" for s in sides.values()) / len(sides)
    assert 0.35 <= native_share <= 0.65
    answered = {
        side: sample(metrics, "strangler_side_answers_total", route="users.list", side=side,
                     result="ok")
        for side in ("legacy", "native")
    }  # fmt: skip
    assert answered == {"native": 3 * native_share * 100, "legacy": 3 * (1 - native_share) * 100}


async def test_a_request_without_the_cohort_header_goes_to_legacy(
    legacy: Legacy, native: Faulty, store: Store, metrics: Metrics
) -> None:
    async with running(gateway(table(legacy.url, CANARY), native, store, metrics)) as client:
        responses = [await client.get("/users") for _ in range(20)]
    assert {side_of(r) for r in responses} == {"legacy"}
    assert native.calls == []


async def test_a_loopback_tester_forces_native_and_a_stranger_cannot(
    legacy: Legacy, native: Faulty, store: Store, metrics: Metrics
) -> None:
    gw = gateway(table(legacy.url, CANARY.replace("0.5", "0.0")), native, store, metrics)
    forced = {"x-user": "u1", "x-strangler-side": "native"}
    async with running(gw) as client:  # its client is 127.0.0.1
        assert side_of(await client.get("/users", headers=forced)) == "native"
        transport = httpx.ASGITransport(gw, client=("203.0.113.9", 5555))
        async with httpx.AsyncClient(transport=transport, base_url="http://x") as stranger:
            assert side_of(await stranger.get("/users", headers=forced)) == "legacy"


async def test_the_cohort_key_never_reaches_logs_metrics_or_the_store(
    legacy: Legacy,
    native: Faulty,
    store: Store,
    metrics: Metrics,
    log_lines: Callable[[], list[dict[str, Any]]],
) -> None:
    secret = "Bearer sekrit-token-4711"
    routes = CANARY.replace('"header:x-user"', '"header:authorization"').replace(
        "share: 0.5", "share: 1.0, compare: true"
    )
    gw = gateway(table(legacy.url, routes), native, store, metrics)
    async with running(gw) as client:
        for _ in range(5):
            await client.get("/users", headers={"authorization": secret})
        await settle(gw)
    exposition = metrics.exposition().decode()
    stored = repr(store.read_rows())
    assert "sekrit" not in exposition and "sekrit" not in stored
    logged = json.dumps(log_lines())
    assert "users.list" in logged and "sekrit" not in logged
    assert build_report(store.read_rows()).routes[0].compared == 5


async def test_compare_runs_the_other_side_as_the_candidate(
    legacy: Legacy, native: Faulty, store: Store, metrics: Metrics
) -> None:
    routes = CANARY.replace("share: 0.5", "share: 0.5, compare: true")
    no_aa = "  noise_sample: 0\n"  # no second call of the answering side
    gw = gateway(table(legacy.url, routes, no_aa), native, store, metrics)
    async with running(gw) as client:
        sides = [side_of(await client.get("/users", headers={"x-user": f"u{i}"}))
                 for i in range(20)]  # fmt: skip
        await settle(gw)
    assert {"native", "legacy"} == set(sides)
    # every request ran both sides: the native app saw every one, as answer or candidate
    assert len(native.calls) == 20
    [report] = build_report(store.read_rows()).routes
    assert report.compared == 20
