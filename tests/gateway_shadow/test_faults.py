"""A candidate that hangs, raises, answers garbage or nothing, or is shed changes nothing for the
client: same status, headers and bytes as legacy mode, at once; the fault is in the store."""

from __future__ import annotations

import asyncio
import time

import httpx
import pytest

from proxy.modes.shadow import ShadowMode
from shadow.report import build_report
from shadow.store import Store
from tests.gateway_shadow.conftest import Legacy, Native, running, settle, shadow_gateway

LEGACY_ROUTES = "  - id: users.list\n    match: GET /users\n    mode: legacy\n"
QUIET = "  noise_sample: 0\n  timeout: 1s\n"

# tests of the count cap: the share of the time stays out of their way
ALL_TIME = "  in_process_share: 1\n"


def seen(response: httpx.Response) -> tuple[int, list[tuple[str, str]], bytes]:
    headers = [(k, v) for k, v in response.headers.multi_items() if k != "date"]
    return response.status_code, headers, response.content


async def legacy_mode_answer(legacy: Legacy, native: Native, store: Store) -> httpx.Response:
    async with running(shadow_gateway(legacy.url, native, store, routes=LEGACY_ROUTES)) as client:
        return await client.get("/users", headers={"X-Request-ID": "r-1"})


@pytest.mark.parametrize(
    ("fault", "error"),
    [
        ("hang", "timed out after 1s"),
        ("raise", "raised RuntimeError: the candidate broke"),
        ("garbage", "invalid JSON"),
        ("silent", "no response"),
    ],
    ids=["hangs", "raises", "answers-garbage", "answers-nothing"],
)
async def test_a_failing_candidate_changes_nothing_for_the_client(
    legacy: Legacy, native: Native, store: Store, fault: str, error: str
) -> None:
    expected = await legacy_mode_answer(legacy, native, store)
    native.fault = fault
    gateway = shadow_gateway(legacy.url, native, store, QUIET)
    shadow: ShadowMode = gateway.shadow
    async with running(gateway) as client:
        began = time.perf_counter()
        response = await client.get("/users", headers={"X-Request-ID": "r-1"})
        took = time.perf_counter() - began
        if fault == "hang":
            # answered while the candidate still hangs: the client never waited for it
            assert shadow.experiment.in_flight == 1 and took < 1.0
        await settle(gateway)
    assert seen(response) == seen(expected)
    [report] = build_report(store.read_rows()).routes
    assert (report.compared, report.errored, report.matched) == (1, 1, 0)
    assert report.error is not None and error in report.error
    assert native.seen == [{"method": "GET", "path": "/users", "mark": "1"}]


async def test_candidates_over_the_in_flight_cap_are_shed_and_the_clients_served(
    legacy: Legacy, native: Native, store: Store
) -> None:
    expected = await legacy_mode_answer(legacy, native, store)
    native.fault = "hang"
    # max_in_flight is the cap here
    cap = QUIET + "  max_in_flight: 2\n  max_in_process: 8\n" + ALL_TIME
    gateway = shadow_gateway(legacy.url, native, store, cap)
    async with running(gateway) as client:
        answers = [await client.get("/users", headers={"X-Request-ID": "r-1"}) for _ in range(5)]
        assert len(native.seen) == 2  # the cap: the 3 others never reached the native side
        native.released.set()
    assert all(seen(a) == seen(expected) for a in answers)
    [report] = build_report(store.read_rows()).routes
    assert (report.compared, report.matched, report.shed) == (2, 2, 3)


async def test_in_process_candidates_over_their_cap_are_shed_counted_and_the_clients_served(
    legacy: Legacy, native: Native, store: Store
) -> None:
    expected = await legacy_mode_answer(legacy, native, store)
    native.fault = "hang"
    cap = QUIET + "  max_in_flight: 64\n  max_in_process: 2\n" + ALL_TIME
    gateway = shadow_gateway(legacy.url, native, store, cap)
    shadow: ShadowMode = gateway.shadow
    async with running(gateway) as client:
        began = time.perf_counter()
        answers = await asyncio.gather(
            *(client.get("/users", headers={"X-Request-ID": "r-1"}) for _ in range(6))
        )
        took = time.perf_counter() - began
        # two candidates hang in this process; the four others were shed, not queued behind them
        assert (len(native.seen), shadow.experiment.in_process, shadow.experiment.shed) == (2, 2, 4)
        native.released.set()
    assert took < 1.0  # nobody waited for a candidate
    assert all(seen(a) == seen(expected) for a in answers)
    [report] = build_report(store.read_rows()).routes
    assert (report.compared, report.matched, report.shed) == (2, 2, 4)


async def test_a_write_over_the_in_process_cap_is_not_dry_run_and_is_counted_as_shed(
    legacy: Legacy, native: Native, store: Store, events: list[str]
) -> None:
    native.fault = "hang"
    gateway = shadow_gateway(legacy.url, native, store, QUIET + "  max_in_process: 1\n" + ALL_TIME)
    async with running(gateway) as client:
        await client.get("/users")  # its candidate hangs in this process, holding the one place
        began = time.perf_counter()
        response = await client.post("/users", json={"name": "Cy"})
        took = time.perf_counter() - began
        native.released.set()
    assert response.status_code == 201 and took < 1.0  # the write did not wait for a dry run
    assert events == ["legacy GET /users", "native GET /users mark=1", "legacy POST /users"]
    reports = {r.route: r for r in build_report(store.read_rows()).routes}
    assert (reports["users.create"].compared, reports["users.create"].shed) == (0, 1)


async def test_a_dry_run_holds_the_in_process_place_while_it_runs(
    legacy: Legacy, native: Native, store: Store
) -> None:
    native.fault = "hang"
    one = "  timeout: 2s\n  max_in_process: 1\n" + ALL_TIME
    gateway = shadow_gateway(legacy.url, native, store, one)
    async with running(gateway) as client:
        write = asyncio.create_task(client.post("/users", json={"name": "Cy"}))
        for _ in range(500):  # until the write's dry run has started (it hangs)
            if native.seen:
                break
            await asyncio.sleep(0.01)
        read = await client.get("/users")  # its candidate finds the one place taken: shed
        native.released.set()
        assert (await write).status_code == 201 and read.status_code == 200
    assert [s["method"] for s in native.seen] == ["POST"]
    reports = {r.route: r for r in build_report(store.read_rows()).routes}
    assert (reports["users.list"].shed, reports["users.create"].compared) == (1, 1)


async def test_a_mismatching_candidate_is_stored_and_the_client_gets_legacy(
    legacy: Legacy, native: Native, store: Store
) -> None:
    expected = await legacy_mode_answer(legacy, native, store)
    native.fault = "differ"
    gateway = shadow_gateway(legacy.url, native, store, QUIET)
    async with running(gateway) as client:
        response = await client.get("/users", headers={"X-Request-ID": "r-1"})
    assert seen(response) == seen(expected)
    [report] = build_report(store.read_rows()).routes
    assert report.mismatched == 1
    assert [(f.field, f.kinds) for f in report.fields] == [("body.data[*].name", ("value",))]


async def test_a_write_waits_for_its_dry_run_candidate_at_most_the_route_timeout(
    legacy: Legacy, native: Native, store: Store, events: list[str]
) -> None:
    native.fault = "hang"
    gateway = shadow_gateway(legacy.url, native, store, "  timeout: 300ms\n")
    async with running(gateway) as client:
        began = time.perf_counter()
        response = await client.post("/users", json={"name": "Cy"})
        took = time.perf_counter() - began
    assert response.status_code == 201 and response.json()["data"]["id"] == "9"
    assert 0.3 <= took < 2.0
    assert events == ["native POST /users mark=1", "legacy POST /users"]
    [report] = build_report(store.read_rows()).routes
    assert report.errored == 1 and "timed out" in (report.error or "")


async def test_the_client_is_served_when_the_store_fails(
    legacy: Legacy, native: Native, store: Store
) -> None:
    expected = await legacy_mode_answer(legacy, native, store)

    def refuse(_batch: object) -> None:
        raise OSError("disk full")

    store.write = refuse  # type: ignore[method-assign]
    gateway = shadow_gateway(legacy.url, native, store, QUIET + "  max_in_process: 3\n" + ALL_TIME)
    shadow: ShadowMode = gateway.shadow
    async with running(gateway) as client:
        answers = await asyncio.gather(
            *(client.get("/users", headers={"X-Request-ID": "r-1"}) for _ in range(3))
        )
        await shadow.experiment.drain()
        writer = shadow.stores.writer
        assert writer is not None
        await writer.flush()
        assert writer.dropped == 3 and writer.failures >= 1
        assert shadow.stores.dropped() == 3
    assert all(seen(a) == seen(expected) for a in answers)
