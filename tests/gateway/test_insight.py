"""The operator's view of a running gateway: metrics scraped from /_strangler/metrics, reloads
that flip a route recorded in the history with their trigger, the dashboard served."""

from __future__ import annotations

import asyncio
import hashlib
from pathlib import Path
from typing import Any

from prometheus_client import CollectorRegistry
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from proxy.operator.history import FlipStore
from proxy.operator.metrics import Metrics
from proxy.settings import Settings
from proxy.table.parser import load
from shadow.store import open_store
from tests.gateway.conftest import FakeUpstream, gateway_for, make_table, running, table_text
from tests.proxy.test_metrics import scrape


async def hello(_request: Request) -> JSONResponse:
    return JSONResponse({"hello": "native"})


NATIVE_APP = Starlette(routes=[Route("/n", hello)])
NATIVE = "  app: tests.gateway.test_insight:NATIVE_APP\n"
ROUTES = (
    "  - {id: r.legacy, match: GET /r, mode: legacy}\n"
    "  - {id: r.native, match: GET /n, mode: native}\n"
)


def metrics() -> Metrics:
    """Metrics of one test's gateway alone (the default registry is the process's)."""
    return Metrics(CollectorRegistry())


async def test_requests_are_counted_by_route_mode_status_and_side(upstream: FakeUpstream) -> None:
    table = make_table(upstream.url, ROUTES, NATIVE)
    gateway = gateway_for(table, native_app=NATIVE_APP, metrics=metrics())
    async with running(gateway) as client:
        for path in ("/r", "/r?status=503", "/n", "/elsewhere", "/%2e%2e/%2e%2e/x"):
            await client.get(path)
        response = await client.get("/_strangler/metrics")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain; version=")
    seen = scrape(response.text)

    def requests(route: str, mode: str, status: str) -> float:
        key = (("mode", mode), ("route", route), ("status", status))
        return seen.get(("strangler_requests_total", key), 0)

    assert requests("r.legacy", "legacy", "200") == 1
    assert requests("r.legacy", "legacy", "503") == 1
    assert requests("r.native", "native", "200") == 1
    assert requests("(unmatched)", "legacy", "200") == 1
    assert requests("-", "-", "400") == 1  # a path refused before any route is looked at

    def timed(route: str, side: str) -> float:
        key = (("route", route), ("side", side))
        return seen.get(("strangler_side_duration_seconds_count", key), 0)

    assert (timed("r.legacy", "legacy"), timed("r.native", "native")) == (2, 1)
    assert seen["strangler_in_flight_requests", ()] == 1  # the scrape itself


async def test_the_dashboard_is_served_beside_the_json_routes(upstream: FakeUpstream) -> None:
    gateway = gateway_for(make_table(upstream.url, ROUTES, NATIVE), metrics=metrics())
    async with running(gateway) as client:
        page = await client.get("/_strangler/")
        bare = await client.get("/_strangler", follow_redirects=True)
        routes = await client.get("/_strangler/routes")
        one = await client.get("/_strangler/route/r.native")
    assert page.status_code == 200 and "r.legacy" in page.text and "r.native" in page.text
    assert bare.status_code == 200 and "r.legacy" in bare.text
    assert routes.headers["content-type"] == "application/json"
    assert [r["id"] for r in routes.json()["routes"]] == ["r.legacy", "r.native"]
    assert one.status_code == 200 and "mode-native" in one.text


def shadow_table(legacy_url: str, store: str, mode: str) -> str:
    routes = f"  - {{id: users.list, match: GET /users, mode: {mode}}}\n"
    extra = f"shadow:\n  store: {store}\n"
    return table_text(legacy_url, routes, NATIVE, extra)


async def test_a_reload_that_flips_a_route_is_recorded_with_its_trigger(
    upstream: FakeUpstream, tmp_path: Path
) -> None:
    store = f"sqlite:///{tmp_path}/parity.db"
    path = tmp_path / "routing.yaml"
    path.write_text(shadow_table(upstream.url, store, "shadow"))
    settings = Settings(config_path=path, watch=True, reload_interval=0.05)
    # the flips go to the parity store's database, here a file the test reads too
    parity = open_store(store)
    gateway = gateway_for(
        load(path), settings=settings, native_app=NATIVE_APP, metrics=metrics(), store=parity
    )
    recorded = FlipStore.open(store)
    async with running(gateway) as client:
        path.write_text(shadow_table(upstream.url, store, "native"))
        flipped = await client.post("/_strangler/reload")
        assert flipped.json()["changed"] is True
        path.write_text(shadow_table(upstream.url, store, "shadow") + "# back\n")
        await wait_for(lambda: gateway.holder.current.table.routes[0].mode.value == "shadow")
        path.write_text("version: 1\nroutes: [\n")  # rejected: counted, never recorded
        await client.post("/_strangler/reload")
        # flips are written off the event loop: wait for the third
        await wait_for(lambda: len(recorded.read()) == 3)
        seen = scrape((await client.get("/_strangler/metrics")).text)
        page = (await client.get("/_strangler/route/users.list")).text
    flips = recorded.read()
    parity.close()
    recorded.close()
    assert [(f.route, f.old, f.new, f.trigger) for f in reversed(flips)] == [
        ("users.list", None, "shadow", "startup"),
        ("users.list", "shadow", "native", "admin"),
        ("users.list", "native", "shadow", "file"),
    ]
    native_text = shadow_table(upstream.url, store, "native")
    assert flips[1].digest == hashlib.sha256(native_text.encode()).hexdigest()
    assert seen["strangler_reloads_total", (("outcome", "applied"), ("trigger", "admin"))] == 1
    assert seen["strangler_reloads_total", (("outcome", "applied"), ("trigger", "file"))] == 1
    assert seen["strangler_reload_errors_total", (("trigger", "admin"),)] == 1
    assert "<td>shadow → native</td><td>admin</td>" in page


async def wait_for(predicate: Any) -> None:
    # the watcher polls a file: there is no event to wait on, so poll too, with a deadline
    async with asyncio.timeout(5):
        while not predicate():  # noqa: ASYNC110
            await asyncio.sleep(0.02)


async def test_the_admin_token_guards_metrics_and_the_dashboard(upstream: FakeUpstream) -> None:
    settings = Settings(watch=False, admin_token="t0ken")
    gateway = gateway_for(make_table(upstream.url, ROUTES, NATIVE), settings=settings,
                          metrics=metrics())  # fmt: skip
    async with running(gateway) as client:
        for path in ("/_strangler/", "/_strangler/metrics", "/_strangler/route/r.legacy"):
            assert (await client.get(path)).status_code == 401
            auth = {"Authorization": "Bearer t0ken"}
            assert (await client.get(path, headers=auth)).status_code == 200
