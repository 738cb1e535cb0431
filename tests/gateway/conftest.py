"""Fixtures of the gateway tests: tables, an in-process gateway, fake upstreams, captured logs."""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import io
import json
import socket
import struct
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from aiohttp import web

from proxy import logs
from proxy.app import create_app
from proxy.dispatch import Gateway
from proxy.settings import Settings
from proxy.sides.native import Lifespan
from proxy.table.parser import parse
from shadow.store import open_store


def table_text(
    legacy_url: str, routes: str = "", native: str = "", extra: str = "", timeout: str = "2s"
) -> str:
    """A routing.yaml; `routes` is the YAML of the route list items, already indented."""
    text = f"version: 1\nlegacy:\n  url: {legacy_url}\n  timeout: {timeout}\n"
    if native:
        text += f"native:\n{native}"
    text += extra
    text += "routes:\n" + routes if routes else "routes: []\n"
    return text


def make_table(legacy_url: str, routes: str = "", native: str = "", extra: str = "") -> Any:
    return parse(table_text(legacy_url, routes, native, extra))


@contextlib.asynccontextmanager
async def running(gateway: Gateway) -> AsyncIterator[httpx.AsyncClient]:
    """The gateway with its lifespan started, and an in-process client."""
    lifespan = Lifespan(gateway)
    await lifespan.startup()
    try:
        transport = httpx.ASGITransport(gateway, client=("127.0.0.1", 5555))
        async with httpx.AsyncClient(transport=transport, base_url="http://public.test") as c:
            yield c
    finally:
        await lifespan.shutdown()


@dataclass
class FakeUpstream:
    url: str
    seen: list[dict[str, Any]]


SEEN = web.AppKey("seen", list)


async def _echo(request: web.Request) -> web.StreamResponse:
    body = await request.read()
    report = {
        "method": request.method,
        "uri": request.raw_path,
        "headers": [[k, v] for k, v in request.headers.items()],
        "body_length": len(body),
        "body_sha256": hashlib.sha256(body).hexdigest(),
    }
    request.app[SEEN].append(report)
    q = request.query
    if "sleep" in q:
        await asyncio.sleep(float(q["sleep"]))
    if "stream" in q:
        response = web.StreamResponse(status=200)
        await response.prepare(request)
        for _ in range(int(q["stream"])):
            await response.write(b"x" * 65536)
            await asyncio.sleep(0.01)
        await response.write_eof()
        return response
    status = int(q.get("status", "200"))
    headers = {"X-Upstream": "fake"}
    if "location" in q:
        headers["Location"] = q["location"]
    if status in (204, 304):
        return web.Response(status=status, headers=headers)
    return web.json_response(report, status=status, headers=headers)


@pytest.fixture
async def upstream() -> AsyncIterator[FakeUpstream]:
    """An aiohttp server that reports what it received (like tests/gateway/php/echo.php)."""
    app = web.Application()
    app[SEEN] = []
    app.router.add_route("*", "/{tail:.*}", _echo)
    runner = web.AppRunner(app, handle_signals=False)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]
    try:
        yield FakeUpstream(f"http://127.0.0.1:{port}", app[SEEN])
    finally:
        await runner.cleanup()


@pytest.fixture
async def rude_upstream() -> AsyncIterator[str]:
    """A raw server that misbehaves by path: /reset (RST), /truncate (body cut short)."""

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        head = await reader.readuntil(b"\r\n\r\n")
        target = head.split(b" ", 2)[1]
        sock = writer.get_extra_info("socket")
        if target.startswith(b"/reset"):
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        elif target.startswith(b"/truncate"):
            writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 100000\r\n\r\n" + b"y" * 1000)
            await writer.drain()
            await asyncio.sleep(0.05)
        writer.close()
        with contextlib.suppress(OSError):
            await writer.wait_closed()

    server = await asyncio.start_server(handle, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.close()
        await server.wait_closed()


@pytest.fixture
def closed_port_url() -> str:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    return f"http://127.0.0.1:{port}"


@pytest.fixture(autouse=True)
def quiet_logs() -> Iterator[None]:
    """Every test starts and ends with logs going nowhere (some tests point them elsewhere)."""
    logs.configure(json=True, stream=io.StringIO())
    yield
    logs.configure(json=True, stream=io.StringIO())


@pytest.fixture
def log_lines() -> Iterator[Callable[[], list[dict[str, Any]]]]:
    """Logs as parsed JSON lines, through the production processors (masking included)."""
    stream = io.StringIO()
    logs.configure(json=True, stream=stream)

    def lines() -> list[dict[str, Any]]:
        return [json.loads(line) for line in stream.getvalue().splitlines() if line]

    try:
        yield lines
    finally:
        logs.configure(json=True, stream=io.StringIO())


def gateway_for(table: Any, **kwargs: Any) -> Gateway:
    settings = kwargs.pop("settings", Settings(watch=False))
    # shadow routes store their comparisons: in memory, not in the table's file under the cwd
    kwargs.setdefault("store", open_store("sqlite://"))
    return create_app(settings, table=table, **kwargs)
