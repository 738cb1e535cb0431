"""Shadow mode's rules in the gateway: sampling, A/A, dry-run writes, `primary: native`, and the
per-snapshot settings."""

from __future__ import annotations

import dataclasses

from proxy.modes.shadow import WRITE_IGNORES, ShadowMode, plan_routes, shadow_settings
from proxy.table.model import ShadowConfig, Side, Writes
from proxy.table.parser import parse
from shadow.report import build_report
from shadow.settings import ShadowSettings, sampled
from shadow.store import Store
from tests.gateway_shadow.conftest import (
    Legacy,
    Native,
    fake_upstream,
    running,
    settle,
    shadow_gateway,
    table_text,
)


async def test_sampling_is_decided_by_the_request_id(
    legacy: Legacy, native: Native, store: Store
) -> None:
    ids = [f"req-{i}" for i in range(40)]
    chosen = [i for i in ids if sampled(i, 0.5)]
    assert 0 < len(chosen) < len(ids)  # the test means something only if both kinds occur
    gateway = shadow_gateway(legacy.url, native, store, "  sample: 0.5\n  noise_sample: 0\n")
    async with running(gateway) as client:
        for request_id in ids:
            response = await client.get("/users", headers={"X-Request-ID": request_id})
            assert response.status_code == 200
    assert len(native.seen) == len(chosen)
    [report] = build_report(store.read_rows()).routes
    assert (report.compared, report.unsampled) == (len(chosen), len(ids) - len(chosen))


async def test_aa_calls_the_primary_again_for_safe_requests_only(
    legacy: Legacy, native: Native, store: Store
) -> None:
    gateway = shadow_gateway(legacy.url, native, store, "  noise_sample: 1.0\n")
    async with running(gateway) as client:
        await client.get("/users")
        await settle(gateway)
        assert [s["method"] for s in legacy.seen] == ["GET", "GET"]  # client's, then A/A
        await client.post("/users", json={"name": "Cy"})
        await settle(gateway)
    assert [s["method"] for s in legacy.seen] == ["GET", "GET", "POST"]
    reports = {r.route: r for r in build_report(store.read_rows()).routes}
    assert reports["users.list"].aa_compared == 1
    assert reports["users.create"].aa_compared == 0


async def test_a_write_runs_the_dry_run_candidate_first_and_the_primary_once(
    legacy: Legacy, native: Native, store: Store, events: list[str]
) -> None:
    gateway = shadow_gateway(legacy.url, native, store)
    async with running(gateway) as client:
        response = await client.post(
            "/users", json={"name": "Cy"}, headers={"X-Strangler-Dry-Run": "1"}
        )
    assert response.status_code == 201 and response.json()["data"]["id"] == "9"
    assert events == ["native POST /users mark=1", "legacy POST /users"]
    [sent] = legacy.seen
    assert "x-strangler-dry-run" not in {name.lower() for name, _ in sent["headers"]}


async def test_writes_ignore_ids_and_timestamps_and_reads_do_not(
    legacy: Legacy, native: Native, store: Store
) -> None:
    # the same pair of answers (other id, other second) on a write route and on a read route
    routes = (
        "  - id: users.create\n    match: POST /users\n    mode: shadow\n"
        "    shadow: {writes: dry_run}\n"
        "  - id: users.echo\n    match: GET /created\n    mode: shadow\n"
    )
    gateway = shadow_gateway(legacy.url, native, store, "  noise_sample: 0\n", routes)
    async with running(gateway) as client:
        assert (await client.post("/users", json={"name": "Cy"})).status_code == 201
        assert (await client.get("/created")).status_code == 200
    reports = {r.route: r for r in build_report(store.read_rows()).routes}
    write, read = reports["users.create"], reports["users.echo"]
    assert (write.compared, write.mismatched, write.matched + write.ignored) == (1, 0, 1)
    assert (read.compared, read.mismatched) == (1, 1)
    assert sorted(f.field for f in read.fields) == [
        "body.data.attributes.created_at", "body.data.attributes.updated_at", "body.data.id",
    ]  # fmt: skip
    settings = plan_routes(parse(table_text(legacy.url, "", routes)))
    assert set(WRITE_IGNORES) <= set(settings["users.echo"].writes.ignore)
    assert not set(WRITE_IGNORES) & set(settings["users.echo"].reads.ignore)


async def test_with_primary_native_the_client_gets_native_and_writes_never_reach_legacy(
    legacy: Legacy, native: Native, store: Store
) -> None:
    gateway = shadow_gateway(legacy.url, native, store, "  noise_sample: 0\n")
    async with running(gateway) as client:
        mark = {"X-Strangler-Dry-Run": "1"}  # a client's mark is dropped before any side
        read = await client.get("/native-first", headers=mark)
        write = await client.post("/native-first", json={"a": 1}, headers=mark)
        await settle(gateway)
    assert read.json() == write.json() == {"ok": True}  # the native side's answer
    assert [s["method"] for s in legacy.seen] == ["GET"]  # the candidate of the read only
    assert [s["mark"] for s in native.seen] == [None, None]  # the primary is never marked
    [report] = build_report(store.read_rows()).routes
    assert (report.compared, report.skipped) == (1, 1)


async def test_a_native_service_at_a_url_is_called_as_the_candidate_marked_dry_run(
    legacy: Legacy, store: Store, events: list[str]
) -> None:
    async with fake_upstream([]) as service:
        text = table_text(legacy.url, "  noise_sample: 0\n").replace(
            "  app: tests.gateway_shadow.conftest:unused\n", f"  url: {service.url}\n"
        )
        async with running(shadow_gateway(legacy.url, None, store, text=text)) as client:
            assert (await client.get("/users")).status_code == 200
            assert (await client.post("/users", json={"name": "Cy"})).status_code == 201
    marks = sorted(
        (seen["method"], {k.lower(): v for k, v in seen["headers"]}.get("x-strangler-dry-run"))
        for seen in service.seen
    )
    assert marks == [("GET", "1"), ("POST", "1")]
    assert [s["method"] for s in legacy.seen] == ["GET", "POST"]
    reports = {r.route: r for r in build_report(store.read_rows()).routes}
    assert reports["users.list"].matched == 1  # the same fake on both sides
    assert reports["users.create"].compared == 1


async def test_observers_hear_of_every_result_and_cannot_break_the_experiment(
    legacy: Legacy, native: Native, store: Store
) -> None:
    gateway = shadow_gateway(legacy.url, native, store, "  noise_sample: 0\n")
    mode: ShadowMode = gateway.shadow
    heard: list[str] = []

    def broken(_result: object) -> None:
        raise RuntimeError("metrics are down")

    mode.experiment.observers += [broken, lambda result: heard.append(result.outcome.value)]
    async with running(gateway) as client:
        assert (await client.get("/users")).status_code == 200
        await settle(gateway)
    assert heard == ["matched"] and mode.experiment.faults == 1
    [report] = build_report(store.read_rows()).routes
    assert report.matched == 1


def test_route_settings_are_converted_once_per_snapshot(legacy: Legacy, store: Store) -> None:
    config = ShadowConfig(
        primary=Side.NATIVE, sample=0.25, noise_sample=0.5, timeout=0.5, max_in_flight=7,
        max_body=99, headers=("etag",), ignore=("body.a",), redact=("body.b",),
        writes=Writes.DRY_RUN,
    )  # fmt: skip
    assert shadow_settings(config) == ShadowSettings(
        primary="native", sample=0.25, noise_sample=0.5, timeout=0.5, max_in_flight=7,
        max_body=99, headers=("etag",), ignore=("body.a",), redact=("body.b",), writes="dry_run",
    )  # fmt: skip

    gateway = shadow_gateway(legacy.url, Native([]), store)
    mode: ShadowMode = gateway.shadow
    snapshot = gateway.holder.current
    route = snapshot.table.routes[0]
    assert mode.plan(snapshot, route) is mode.plan(snapshot, route)
    reloaded = gateway.holder.install(dataclasses.replace(snapshot))
    assert mode.plan(reloaded, route) is not mode.plan(snapshot, route)
    assert mode.plan(reloaded, route) == mode.plan(snapshot, route)
