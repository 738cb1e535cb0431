"""Fixtures of the shadow-mode gateway tests: a fake legacy upstream, a native app whose faults
are chosen per test, and the real gateway app (create_app) with a parity store in memory."""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import json
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web

from proxy.app import create_app
from proxy.dispatch import Gateway
from proxy.modes.shadow import ShadowMode
from proxy.settings import Settings
from proxy.table.parser import parse
from shadow.store import Store, open_store
from tests.gateway.conftest import quiet_logs, running

__all__ = ["quiet_logs", "running"]

USERS = {"data": [{"id": 1, "name": "Ann"}, {"id": 2, "name": "Bob"}], "meta": {"page": 1}}


def created(user_id: int, second: str) -> dict[str, Any]:
    """A write's answer: ids and timestamps are what a dry run cannot reproduce."""
    at = f"2026-01-01T00:00:{second}.000000Z"
    attributes = {"name": "Cy", "created_at": at, "updated_at": at}
    return {"data": {"id": str(user_id), "type": "users", "attributes": attributes}}


@dataclass
class Legacy:
    url: str
    seen: list[dict[str, Any]]
    events: list[str]


@dataclass
class Native:
    """The native side: answers like the fake legacy, or fails as `fault` says."""

    events: list[str]
    fault: str = ""  # "", hang, raise, garbage, silent, differ
    seen: list[dict[str, Any]] = field(default_factory=list)
    released: asyncio.Event = field(default_factory=asyncio.Event)

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            return
        body = b""
        while True:
            message = await receive()
            body += message.get("body", b"")
            if not message.get("more_body", False):
                break
        headers = {k.decode(): v.decode() for k, v in scope["headers"]}
        mark = headers.get("x-strangler-dry-run")
        self.seen.append({"method": scope["method"], "path": scope["path"], "mark": mark})
        self.events.append(f"native {scope['method']} {scope['path']} mark={mark}")
        if self.fault == "hang":
            await self.released.wait()
        if self.fault == "raise":
            raise RuntimeError("the candidate broke")
        if self.fault == "silent":
            return
        path = scope["path"]
        answer = created(8, "02") if scope["method"] == "POST" or path == "/created" else USERS
        payload = json.dumps(answer if path in ("/users", "/created") else {"ok": True}).encode()
        if path == "/clock":
            payload = json.dumps({"name": "Ann", "at": 0}).encode()
        if self.fault == "garbage":
            payload = b'{"data": [1, 2'
        if self.fault == "differ":
            payload = payload.replace(b"Bob", b"Rob")
        status = 201 if scope["method"] == "POST" else 200
        start = [(b"content-type", b"application/json; charset=utf-8")]
        await send({"type": "http.response.start", "status": status, "headers": start})
        await send({"type": "http.response.body", "body": payload})


async def _legacy_handler(request: web.Request) -> web.StreamResponse:
    body = await request.read()
    events: list[str] = request.app[EVENTS]
    events.append(f"legacy {request.method} {request.path}")
    request.app[SEEN].append(
        {
            "method": request.method,
            "uri": request.raw_path,
            "headers": [[k, v] for k, v in request.headers.items()],
            "body_sha256": hashlib.sha256(body).hexdigest(),
            "body_length": len(body),
        }
    )
    if "big" in request.query:  # a streamed answer of N chunks of 64 KiB
        response = web.StreamResponse(status=200, headers={"Content-Type": "text/plain"})
        await response.prepare(request)
        for _ in range(int(request.query["big"])):
            await response.write(b"x" * 65536)
        await response.write_eof()
        return response
    if request.path == "/clock":  # a field that differs between any two answers: noise
        return web.json_response({"name": "Ann", "at": len(request.app[SEEN])})
    if request.path == "/created":
        return web.json_response(created(9, "03"))
    if request.path == "/users":
        headers = {"Set-Cookie": "legacy_session=abc; Path=/", "X-Legacy": "1"}
        if request.method == "POST":  # the real insert took the next id, in the next second
            return web.json_response(created(9, "03"), status=201, headers=headers)
        return web.json_response(USERS, headers=headers)
    return web.json_response(request.app[SEEN][-1], headers={"X-Legacy": "1"})


SEEN = web.AppKey("seen", list)
EVENTS = web.AppKey("events", list)


@pytest.fixture
def events() -> list[str]:
    return []


@pytest.fixture
async def legacy(events: list[str]) -> AsyncIterator[Legacy]:
    async with fake_upstream(events) as upstream:
        yield upstream


@contextlib.asynccontextmanager
async def fake_upstream(events: list[str]) -> AsyncIterator[Legacy]:
    """The fake legacy application (also a stand-in for a native service at native.url)."""
    app = web.Application(client_max_size=64 * 1024 * 1024)
    app[SEEN] = []
    app[EVENTS] = events
    app.router.add_route("*", "/{tail:.*}", _legacy_handler)
    runner = web.AppRunner(app, handle_signals=False)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]
    try:
        yield Legacy(f"http://127.0.0.1:{port}", app[SEEN], events)
    finally:
        await runner.cleanup()


@pytest.fixture
def native(events: list[str]) -> Iterator[Native]:
    app = Native(events)
    yield app
    app.released.set()


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    # a file, not ":memory:": there, every thread shares one connection, so the flip history
    # writing beside the parity writer could roll back the writer's transaction
    opened = open_store(f"sqlite:///{tmp_path}/parity.db")
    yield opened
    opened.close()


ROUTES = """\
  - id: clock
    match: GET /clock
    mode: shadow
  - id: users.list
    match: GET /users
    mode: shadow
  - id: users.create
    match: POST /users
    mode: shadow
    shadow: {writes: dry_run}
  - id: echo.shadow
    match: "GET|POST|PUT /echo/{rest:path}"
    mode: shadow
    shadow: {writes: dry_run}
  - id: native.first
    match: "GET|POST /native-first"
    mode: shadow
    shadow: {primary: native, writes: dry_run}
"""


# requests are sent one after the other, yet a candidate may still run when the next comes (a
# loaded machine): room for all of them, unless a test is about the in-process cap itself
ROOM = "  max_in_process: 16\n  in_process_share: 1\n"


def table_text(legacy_url: str, shadow: str = "", routes: str = ROUTES) -> str:
    if "max_in_process" not in shadow:
        shadow = ROOM + shadow
    block = f"shadow:\n{shadow}"
    return (
        f"version: 1\nlegacy:\n  url: {legacy_url}\n  timeout: 5s\n"
        "native:\n  app: tests.gateway_shadow.conftest:unused\n  timeout: 5s\n"
        f"{block}routes:\n{routes}"
    )


def shadow_gateway(
    legacy_url: str,
    native: Any,
    store: Store | None,
    shadow: str = "",
    routes: str = ROUTES,
    *,
    text: str | None = None,
    settings: Settings | None = None,
) -> Gateway:
    """The real gateway app, as `strangler serve` builds it, with the test's edges."""
    table = parse(text if text is not None else table_text(legacy_url, shadow, routes))
    return create_app(
        settings or Settings(watch=False), table=table, native_app=native, store=store
    )


async def settle(gateway: Gateway) -> None:
    """Wait until the experiments running now have finished and their results are stored
    (requests that were not compared are counted in bulk: see them after the shutdown)."""
    shadow: ShadowMode = gateway.shadow
    await shadow.experiment.drain()
    writer = shadow.stores.writer
    assert writer is not None
    await writer.flush()
