"""Logs: one access line per request with its fields, the request id everywhere, no secrets."""

from __future__ import annotations

import io
import json
from typing import Any

from proxy import logs
from proxy.logs import mask_credentials
from tests.gateway.conftest import FakeUpstream, gateway_for, make_table, running

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
