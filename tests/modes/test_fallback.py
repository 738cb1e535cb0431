"""fallback: legacy: a safe request the native side fails is answered by legacy, once."""

from __future__ import annotations

import httpx
import pytest

from proxy.operator.metrics import Metrics
from shadow.compare import Outcome
from shadow.records import ERRORED_FIELD
from shadow.report import build_report
from shadow.store import Store
from tests.modes.conftest import Faulty, Legacy, gateway, running, sample, settle, table

ROUTES = """\
  - id: users.list
    match: GET|POST /users
    mode: native
    fallback: legacy
"""


@pytest.mark.parametrize(
    ("fault", "reason"), [("500", "5xx"), ("hang", "timeout"), ("raise", "error")],
    ids=["answers-500", "hangs", "raises"],
)  # fmt: skip
async def test_a_failed_get_is_answered_with_legacys_bytes(
    legacy: Legacy, native: Faulty, store: Store, metrics: Metrics, fault: str, reason: str
) -> None:
    native.fault = fault
    gw = gateway(table(legacy.url, ROUTES, native_timeout="200ms"), native, store, metrics)
    async with running(gw) as client:
        responses = [await client.get("/users") for _ in range(3)]
        await settle(gw)
    async with httpx.AsyncClient() as direct_client:
        direct = await direct_client.get(legacy.url + "/users")
    for response in responses:
        assert (response.status_code, response.content) == (200, direct.content)
        assert response.headers["x-legacy"] == "1"
    assert len(native.calls) == 3 and len(legacy.seen) == 3 + 1
    assert sample(metrics, "strangler_fallbacks_total", route="users.list", reason=reason) == 3
    [report] = build_report(store.read_rows()).routes
    assert (report.errored, report.compared) == (3, 3)
    errored = [s for s in store.read_rows().samples if s.field == ERRORED_FIELD]
    assert errored and all((s.error or "").startswith("fallback: native ") for s in errored)


async def test_a_post_the_native_side_fails_is_never_sent_again(
    legacy: Legacy, native: Faulty, store: Store, metrics: Metrics
) -> None:
    native.fault = "500"
    gw = gateway(table(legacy.url, ROUTES), native, store, metrics)
    async with running(gw) as client:
        response = await client.post("/users", json={"name": "Cy"})
    assert response.json() == {"side": "native", "status": 500}  # native's own answer
    assert native.calls == ["POST /users"]
    assert legacy.seen == []
    assert sample(metrics, "strangler_fallbacks_total", route="users.list", reason="5xx") == 0


async def test_a_healthy_native_side_answers_and_nothing_is_counted(
    legacy: Legacy, native: Faulty, store: Store, metrics: Metrics
) -> None:
    gw = gateway(table(legacy.url, ROUTES), native, store, metrics)
    async with running(gw) as client:
        responses = [await client.get("/users") for _ in range(4)]
        await settle(gw)
    assert [r.json() for r in responses] == [{"side": "native", "status": 200}] * 4
    assert legacy.seen == []
    assert store.read_rows().counts == ()


async def test_only_the_failing_requests_fall_back_and_the_counts_are_exact(
    legacy: Legacy, native: Faulty, store: Store, metrics: Metrics
) -> None:
    native.fault, native.every = "500", 3
    gw = gateway(table(legacy.url, ROUTES), native, store, metrics)
    async with running(gw) as client:
        sides = [(await client.get("/users")).json().get("side", "legacy") for _ in range(12)]
        await settle(gw)
    assert sides.count("legacy") == 4 and len(legacy.seen) == 4
    assert sample(metrics, "strangler_fallbacks_total", route="users.list", reason="5xx") == 4
    [report] = build_report(store.read_rows()).routes
    assert report.errored == 4
    assert Outcome.ERRORED.value == "errored"
