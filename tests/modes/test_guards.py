"""Guards: a failing native side rolls its route back to legacy, everywhere, until resumed."""

from __future__ import annotations

from pathlib import Path

import httpx

from proxy.dispatch import Gateway
from proxy.modes.guards import Guards
from proxy.modes.rollbacks import RollbackStore
from proxy.operator.history import FlipStore, record_flip
from proxy.operator.metrics import Metrics
from proxy.table.parser import parse
from proxy.table.snapshot import TableHolder, build_snapshot
from shadow.store import Store
from tests.modes.conftest import Faulty, Legacy, gateway, running, sample, table

GUARDED = """\
  - id: users.list
    match: GET /users
    mode: native
    guard: {max_error_rate: 0.02, min_requests: 20, window: 5m}
"""
REASON = "error rate 50 % > 2 % over 5m, 20 requests"


def sides(responses: list[httpx.Response]) -> list[str]:
    return ["native" if r.json().get("side") == "native" else "legacy" for r in responses]


async def judged(client: httpx.AsyncClient, gw: Gateway, requests: int) -> None:
    """`requests` calls to the route, then the guard's tick that judges them."""
    for _ in range(requests):
        await client.get("/users")
    await gw.guards.cycle()


async def test_half_failing_trips_the_guard_at_min_requests_and_legacy_answers_next(
    legacy: Legacy, native: Faulty, store: Store, metrics: Metrics
) -> None:
    native.fault, native.every = "500", 2
    gw = gateway(table(legacy.url, GUARDED), native, store, metrics)
    async with running(gw) as client:
        answered = sides([await client.get("/users") for _ in range(30)])
        await gw.guards.cycle()
        routes = (await client.get("/_strangler/routes")).json()["routes"]
    assert answered == ["native"] * 20 + ["legacy"] * 10
    assert len(native.calls) == 20
    [route] = routes
    assert (route["mode"], route["effective_mode"]) == ("native", "legacy")
    assert route["why"].startswith("rolled back by guard at ") and route["why"].endswith(REASON)
    assert sample(metrics, "strangler_guard_rollbacks_total", route="users.list") == 1
    [flip] = FlipStore(store.engine).read(route="users.list")[:1]
    assert (flip.old, flip.new, flip.trigger) == ("native", "legacy", "guard")


async def test_resume_restores_native_everywhere_and_is_recorded(
    legacy: Legacy, native: Faulty, store: Store, metrics: Metrics
) -> None:
    native.fault, native.every = "500", 2
    gw = gateway(table(legacy.url, GUARDED), native, store, metrics)
    async with running(gw) as client:
        await judged(client, gw, 21)
        native.fault = ""
        resumed = await client.post("/_strangler/routes/users.list/resume")
        after = sides([await client.get("/users") for _ in range(5)])
        again = await client.post("/_strangler/routes/users.list/resume")
    assert resumed.status_code == 200
    assert resumed.json()["rollback"]["reason"] == REASON
    assert after == ["native"] * 5
    assert again.status_code == 409
    flips = FlipStore(store.engine).read(route="users.list")
    assert [(f.old, f.new, f.trigger) for f in flips[:2]] == [
        ("legacy", "native", "resume"),
        ("native", "legacy", "guard"),
    ]


async def test_a_resumed_guard_judges_only_what_came_after(
    legacy: Legacy, native: Faulty, store: Store, metrics: Metrics
) -> None:
    native.fault, native.every = "500", 2
    gw = gateway(table(legacy.url, GUARDED), native, store, metrics)
    async with running(gw) as client:
        await judged(client, gw, 20)
        await gw.guards.resume("users.list")
        await gw.guards.cycle()
        native.fault = ""
        answered = sides([await client.get("/users") for _ in range(25)])
    assert answered == ["native"] * 25


async def test_a_reload_of_an_unchanged_table_keeps_the_rollback_and_a_changed_route_lifts_it(
    legacy: Legacy, native: Faulty, store: Store, metrics: Metrics, tmp_path: Path
) -> None:
    native.fault, native.every = "500", 2
    config = tmp_path / "routing.yaml"
    text = table(legacy.url, GUARDED)
    gw = gateway(text, native, store, metrics, config)
    async with running(gw) as client:
        await judged(client, gw, 21)
        config.write_text(text + "  - {id: other, match: GET /other, mode: legacy}\n")
        assert (await gw.reloader.reload("admin")).changed  # another route changed
        await gw.guards.drain()
        config.write_text(config.read_text())
        await gw.reloader.reload("sighup")  # the same text again
        await gw.guards.drain()
        kept = sides([await client.get("/users") for _ in range(3)])
        native.fault = ""
        config.write_text(text.replace("min_requests: 20", "min_requests: 50"))
        await gw.reloader.reload("file")
        await gw.guards.drain()
        lifted = sides([await client.get("/users") for _ in range(3)])
    assert kept == ["legacy"] * 3
    assert lifted == ["native"] * 3
    flips = FlipStore(store.engine).read(route="users.list")
    assert (flips[0].old, flips[0].new, flips[0].trigger) == ("legacy", "native", "file")


async def test_a_canary_route_rolls_back_whole(
    legacy: Legacy, native: Faulty, store: Store, metrics: Metrics
) -> None:
    native.fault = "raise"
    routes = GUARDED.replace(
        "mode: native", "mode: canary\n    canary: {share: 1.0, cohort: 'header:x-user'}"
    )
    gw = gateway(table(legacy.url, routes), native, store, metrics)
    async with running(gw) as client:
        answered = sides(
            [await client.get("/users", headers={"x-user": f"u{i}"}) for i in range(25)]
        )
    assert answered[20:] == ["legacy"] * 5
    assert len(native.calls) == 20


def guards_on(store: Store, text: str) -> Guards:
    holder = TableHolder(build_snapshot(parse(text)))
    return Guards(holder, lambda: store.engine, flips=record_flip, interval=3600)


async def test_two_processes_judge_everyones_answers_and_both_roll_back(
    legacy: Legacy, store: Store
) -> None:
    text = table(legacy.url, GUARDED)
    rolled: list[str] = []
    one, two = guards_on(store, text), guards_on(store, text)
    one.on_rollback = two.on_rollback = rolled.append
    route = one.holder.current.table.routes[0]
    for i in range(12):  # 12 answers here, 6 of them errors: under min_requests alone
        one.record(route, "native", 0.01, i % 2 == 0)
    await one.cycle()
    assert one.rolled_back("users.list") is None
    await two.cycle()  # the other process's tick: it reads one's 12 from the store
    for i in range(8):  # 8 more there: 20 in all, half errors
        assert two.rolled_back("users.list") is None
        two.record(route, "native", 0.01, i % 2 == 0)
    assert two.rolled_back("users.list") is not None  # at its 8th, at once
    await two.cycle()  # written
    assert one.rolled_back("users.list") is None
    await one.cycle()  # and read by the first at its next tick
    assert one.rolled_back("users.list") is not None
    assert rolled == ["users.list"]  # counted once, by the process that wrote it
    [row] = RollbackStore(store.engine).read().values()
    assert row.reason == REASON
    assert len(FlipStore(store.engine).read(route="users.list")) == 1


async def test_a_store_that_cannot_be_reached_keeps_the_rollback_in_the_process(
    legacy: Legacy, store: Store
) -> None:
    guards = guards_on(store, table(legacy.url, GUARDED))
    guards.engine = lambda: None  # no store open
    route = guards.holder.current.table.routes[0]
    for _ in range(20):
        guards.record(route, "native", 0.01, True)
    await guards.cycle()
    assert guards.rolled_back("users.list") is not None
