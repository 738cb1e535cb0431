"""Dispatch: bad paths, modes, per-route counts, the shadow placeholder, pluggable handlers."""

from __future__ import annotations

import dataclasses
from typing import Any

from proxy.modes.call import Call
from proxy.sides.forwarder import Exchange
from proxy.table.model import Mode
from tests.gateway.conftest import FakeUpstream, gateway_for, make_table, running

ROUTES = """\
  - id: admin.api
    match: "* /api/v1/admin/{rest:path}"
    mode: native
  - id: users.list
    match: GET /users
    mode: shadow
  - id: orders.list
    match: GET /orders
    mode: shadow
    shadow:
      primary: native
"""
NATIVE = "  app: tests.gateway.test_dispatch:native_app\n  timeout: 1s\n"


async def native_app(scope: dict[str, Any], receive: Any, send: Any) -> None:
    body = f"native {scope['path']} {scope['raw_path'].decode()}".encode()
    marks = [v for n, v in scope["headers"] if n == b"x-strangler-dry-run"]
    if marks:
        body += b" dry-run=" + b",".join(marks)
    await send({"type": "http.response.start", "status": 200, "headers": [(b"x-side", b"n")]})
    await send({"type": "http.response.body", "body": body})


def table_for(upstream: FakeUpstream) -> Any:
    return make_table(upstream.url, ROUTES, NATIVE)


async def test_bad_path_is_400_json_and_never_forwarded(upstream: FakeUpstream) -> None:
    async with running(gateway_for(table_for(upstream))) as client:
        response = await client.get("/api%2fv1/admin/users", headers={"X-Request-ID": "r-1"})
    assert response.status_code == 400
    assert response.json()["request_id"] == "r-1"
    assert "encoded" in response.json()["error"]
    assert upstream.seen == []


async def test_modes_route_to_their_side(upstream: FakeUpstream) -> None:
    async with running(gateway_for(table_for(upstream))) as client:
        native = await client.get("/x/../api/v1/admin/users")
        legacy = await client.get("/api/v2/admin/users")
        shadow_legacy = await client.get("/users")
        shadow_native = await client.get("/orders")
    assert native.text == "native /api/v1/admin/users /api/v1/admin/users"
    assert native.headers["x-request-id"]
    assert legacy.json()["uri"] == "/api/v2/admin/users"
    assert shadow_legacy.json()["uri"] == "/users"
    assert shadow_native.text.startswith("native /orders")


async def test_requests_are_counted_per_route(upstream: FakeUpstream) -> None:
    gateway = gateway_for(table_for(upstream))
    async with running(gateway) as client:
        for path in ("/users", "/users", "/elsewhere", "/api/v1/admin/a"):
            await client.get(path)
    assert gateway.holder.counts == {"users.list": 2, "(unmatched)": 1, "admin.api": 1}


async def test_dry_run_mark_is_stripped_from_clients(upstream: FakeUpstream) -> None:
    async with running(gateway_for(table_for(upstream))) as client:
        response = await client.get("/p", headers={"X-Strangler-Dry-Run": "1"})
    names = [name.lower() for name, _ in response.json()["headers"]]
    assert "x-strangler-dry-run" not in names


async def test_a_mode_handler_can_be_plugged_in(upstream: FakeUpstream) -> None:
    seen: list[tuple[str, str | None]] = []

    async def shadow(call: Call) -> None:
        seen.append((call.path, call.route.id if call.route else None))
        await call.send({"type": "http.response.start", "status": 299, "headers": []})
        await call.send({"type": "http.response.body", "body": b"shadowed"})

    gateway = gateway_for(table_for(upstream), mode_handlers={Mode.SHADOW: shadow})
    async with running(gateway) as client:
        response = await client.get("/users")
    assert (response.status_code, response.text) == (299, "shadowed")
    assert seen == [("/users", "users.list")]


async def test_a_request_finishes_on_the_table_it_started_with(upstream: FakeUpstream) -> None:
    gateway = gateway_for(make_table(upstream.url))
    other = make_table("http://127.0.0.1:1")

    original = gateway.handlers[Mode.LEGACY]

    async def swap_then_forward(call: Call) -> None:
        gateway.holder.swap(other)  # a reload lands while this request is in flight
        await original(call)

    gateway.handlers[Mode.LEGACY] = swap_then_forward
    async with running(gateway) as client:
        response = await client.get("/inflight")
    assert response.status_code == 200
    assert gateway.holder.current.table.legacy.url == "http://127.0.0.1:1"


class Tap:
    def __init__(self) -> None:
        self.status = 0
        self.body = b""
        self.complete: bool | None = None

    def start(self, status: int, headers: list[tuple[bytes, bytes]]) -> None:
        self.status = status

    def chunk(self, data: bytes) -> None:
        self.body += data

    def end(self, complete: bool) -> None:
        self.complete = complete


async def test_a_shadow_handler_can_run_both_sides_and_observe_them(
    upstream: FakeUpstream,
) -> None:
    taps: dict[str, Tap] = {}
    candidate: list[dict[str, Any]] = []

    async def shadow(call: Call) -> None:
        taps["legacy"] = Tap()
        await gateway.legacy(call, taps["legacy"])  # the primary answers the client

        async def discard(message: dict[str, Any]) -> None:
            candidate.append(message)

        async def replay() -> dict[str, Any]:
            return {"type": "http.request", "body": b"", "more_body": False}

        marked = {**call.scope, "headers": [*call.scope["headers"], (b"x-strangler-dry-run", b"1")]}
        other = dataclasses.replace(
            call, scope=marked, receive=replay, send=discard, exchange=Exchange("shadow")
        )
        taps["native"] = Tap()
        await gateway.native(other, taps["native"])

    gateway = gateway_for(table_for(upstream), mode_handlers={Mode.SHADOW: shadow})
    async with running(gateway) as client:
        response = await client.get("/users", headers={"X-Strangler-Dry-Run": "from-client"})
    assert taps["legacy"].body == response.content
    assert (taps["legacy"].status, taps["legacy"].complete) == (200, True)
    sent_upstream = [name.lower() for name, _ in response.json()["headers"]]
    assert "x-strangler-dry-run" not in sent_upstream
    assert taps["native"].body == b"native /users /users dry-run=1"
    assert taps["native"].complete is True
    assert candidate[0]["type"] == "http.response.start"
