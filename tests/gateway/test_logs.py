"""Logs: one access line per request with its fields, the request id everywhere, no secrets."""

from __future__ import annotations

import asyncio
import io
import json
import os
import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace
from typing import IO, Any, cast

import httpx
import pytest
import structlog

from proxy import logs
from proxy.logs import mask_credentials
from tests.gateway.conftest import FakeUpstream, gateway_for, make_table, running, table_text
from tests.gateway.live import live_gateway
from tests.support.services import ROOT

ROUTES = "  - id: users.list\n    match: GET /users\n    mode: legacy\n"


async def test_one_access_line_per_request(upstream: FakeUpstream, log_lines: Any) -> None:
    async with running(gateway_for(make_table(upstream.url, ROUTES))) as client:
        response = await client.get("/users?page=2", headers={"X-Request-ID": "rid-7"})
        await client.get("/%2f")
    access = [line for line in log_lines() if line["event"] == "access"]
    assert len(access) == 2
    first = access[0]
    assert {k: first[k] for k in ("request_id", "route", "mode", "method", "path", "status")} == {
        "request_id": "rid-7",
        "route": "users.list",
        "mode": "legacy",
        "method": "GET",
        "path": "/users",
        "status": 200,
    }
    assert first["bytes_out"] == len(response.content)
    assert isinstance(first["duration_ms"], float) and first["duration_ms"] > 0
    assert access[1]["status"] == 400
    assert first["level"] == "info" and "timestamp" in first


async def test_every_line_of_a_request_carries_its_id(closed_port_url: str, log_lines: Any) -> None:
    async with running(gateway_for(make_table(closed_port_url))) as client:
        await client.get("/x", headers={"X-Request-ID": "rid-8"})
    lines = [line for line in log_lines() if line.get("request_id") == "rid-8"]
    assert {line["event"] for line in lines} == {"upstream_failed", "access"}


async def test_a_native_failure_is_logged_with_the_request_id(
    closed_port_url: str, log_lines: Any
) -> None:
    async def broken(scope: dict[str, Any], receive: Any, send: Any) -> None:
        structlog.get_logger("handlers").info("handler_started")  # the app's own structlog line
        raise RuntimeError("handler bug")

    routes = "  - id: native.x\n    match: GET /x\n    mode: native\n"
    table = make_table(closed_port_url, routes, native="  app: x:y\n  timeout: 1s\n")
    async with running(gateway_for(table, native_app=broken)) as client:
        assert (await client.get("/x", headers={"X-Request-ID": "rid-9"})).status_code == 502
        await client.get("/x", headers={"X-Request-ID": "rid-10"})
    mine = [line["event"] for line in log_lines() if line.get("request_id") == "rid-9"]
    assert mine == ["handler_started", "native_failed", "access"]


class Recorder(io.RawIOBase):
    """A binary stream that keeps each write(2) apart, like stderr under PYTHONUNBUFFERED=1."""

    def __init__(self) -> None:
        self.writes: list[bytes] = []

    def writable(self) -> bool:
        return True

    def write(self, data: Any) -> int:
        self.writes.append(bytes(data))
        return len(data)


def recorded() -> list[bytes]:
    """Logs configured to a stderr-like stream; the writes its binary buffer receives."""
    recorder = Recorder()
    stderr = SimpleNamespace(buffer=recorder, isatty=lambda: False)
    logs.configure(json=True, stream=cast(IO[Any], stderr))
    return recorder.writes


async def test_access_lines_wait_in_memory_and_the_lifespan_shutdown_writes_them(
    upstream: FakeUpstream, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(logs, "FLUSH_EVERY", 60.0)  # no timer flush within the test
    writes = recorded()
    async with running(gateway_for(make_table(upstream.url, ROUTES))) as client:
        for i in range(20):
            await client.get("/users", headers={"X-Request-ID": f"b{i}"})
        assert writes == []  # 20 requests, no write yet
    [batch] = writes  # the shutdown wrote them, in one call
    ids = [json.loads(line)["request_id"] for line in batch.splitlines()]
    assert ids == [f"b{i}" for i in range(20)]


async def test_a_batch_is_written_within_flush_every(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(logs, "FLUSH_EVERY", 0.01)
    writes = recorded()
    for i in range(3):
        logs.access(f"t{i}", "r", "legacy", "GET", "/", 200, 1.0, 2)
    assert writes == []
    await asyncio.sleep(0.1)
    [batch] = writes
    assert len(batch.splitlines()) == 3


async def test_a_full_buffer_is_written_at_once(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(logs, "FLUSH_EVERY", 60.0)
    writes = recorded()
    path = "/" + "p" * 1000
    for i in range(70):  # ~1.2 KB a line: 64 KiB is reached before the 70th
        logs.access(f"f{i}", "r", "legacy", "GET", path, 200, 1.0, 2)
    [batch] = writes
    assert logs.FLUSH_AT <= len(batch) < logs.FLUSH_AT + 2000


async def test_any_other_line_writes_the_waiting_access_lines_first(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(logs, "FLUSH_EVERY", 60.0)
    writes = recorded()
    logs.access("o1", "r", "legacy", "GET", "/", 200, 1.0, 2)
    logs.get_logger("test").warning("something_else")
    [batch] = writes
    assert [json.loads(line)["event"] for line in batch.splitlines()] == [
        "access",
        "something_else",
    ]


EXITS_AT_ONCE = """
import asyncio, sys
from proxy import logs
logs.configure(json=True)
async def main():
    logs.access("x1", "r", "legacy", "GET", "/", 200, 1.0, 2)
asyncio.run(main())  # the loop ends before the flush it scheduled
"""


def test_lines_waiting_at_exit_are_written() -> None:
    env = {**os.environ, "PYTHONUNBUFFERED": "1", "PYTHONPATH": str(ROOT)}
    done = subprocess.run(
        [sys.executable, "-c", EXITS_AT_ONCE], env=env, capture_output=True, timeout=60
    )
    assert done.returncode == 0
    assert json.loads(done.stderr.decode().splitlines()[-1])["request_id"] == "x1"


def test_access_lines_written_just_before_sigterm_are_in_the_log(tmp_path: Path) -> None:
    env = {"PYTHONUNBUFFERED": "1"}  # stderr unbuffered, as in the Docker image
    with live_gateway(table_text("http://127.0.0.1:9"), tmp_path, env) as gateway:
        with httpx.Client(base_url=gateway.url) as client:
            for i in range(30):
                client.get("/_strangler/health", headers={"X-Request-ID": f"s{i}"})
        assert gateway.stop() == 0  # at once: the last lines are still in memory
    text = (tmp_path / "gateway.log").read_text()
    lines = [json.loads(line) for line in text.splitlines() if line.startswith("{")]
    ids = [line["request_id"] for line in lines if line["event"] == "access"]
    assert [f"s{i}" for i in range(30)] == [i for i in ids if i.startswith("s")]


SECRETS = ("Bearer tok-123", "session=abc456", "c0=v0-secret")


async def test_credentials_never_reach_the_log(upstream: FakeUpstream) -> None:
    stream = io.StringIO()
    logs.configure(json=True, stream=stream)
    try:
        async with running(gateway_for(make_table(upstream.url))) as client:
            await client.get("/x", headers={"Authorization": SECRETS[0], "Cookie": SECRETS[1]})
        log = logs.get_logger("test")
        log.info(
            "headers_seen",
            authorization=SECRETS[0],
            headers=[("Cookie", SECRETS[1]), (b"set-cookie", SECRETS[2].encode())],
            request={"headers": {"Set-Cookie": SECRETS[2]}},
        )
    finally:
        logs.configure(json=True, stream=io.StringIO())
    text = stream.getvalue()
    assert "headers_seen" in text
    for secret in SECRETS:
        assert secret not in text
    line = json.loads(text.splitlines()[-1])
    assert line["authorization"] == "***"
    assert line["headers"][0] == ["Cookie", "***"]
    assert line["request"] == {"headers": {"Set-Cookie": "***"}}


def test_mask_leaves_other_values_alone() -> None:
    event = {"event": "x", "path": "/a", "headers": [("Accept", "*/*")], "count": 3}
    assert mask_credentials(None, "info", dict(event)) == {**event, "headers": [("Accept", "*/*")]}


def test_console_output_on_a_terminal() -> None:
    class Tty(io.StringIO):
        def isatty(self) -> bool:
            return True

    stream = Tty()
    logs.configure(stream=stream)
    try:
        logs.get_logger("test").info("hello", cookie="secret-value")
    finally:
        logs.configure(json=True, stream=io.StringIO())
    text = stream.getvalue()
    assert "hello" in text and "secret-value" not in text
    assert not text.lstrip().startswith("{")


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


@pytest.mark.parametrize(
    ("as_json", "level", "shown"),
    [(None, "info", False), (None, "debug", True), (True, "info", True)],
    ids=["console", "console-debug", "json"],
)
def test_a_terminal_shows_access_lines_only_at_debug_level(
    as_json: bool | None, level: str, shown: bool
) -> None:
    stream = Terminal()
    logs.configure(json=as_json, level=level, stream=stream)
    try:
        logs.access("t1", "users.list", "legacy", "GET", "/users", 200, 1.5, 10)
        logs.get_logger("test").info("reload_applied")
    finally:
        logs.configure(json=True, stream=io.StringIO())
    text = stream.getvalue()
    assert "reload_applied" in text
    assert ("/users" in text) is shown
