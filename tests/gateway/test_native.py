"""Native mode: the in-process app (scope, request id, failures, lifespan) and native.url."""

from __future__ import annotations

import asyncio
import contextlib
import datetime
import email.utils
from collections.abc import AsyncIterator
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse
from starlette.routing import Route

from tests.gateway.conftest import FakeUpstream, gateway_for, make_table, running

ROUTES = '  - id: api\n    match: "* /api/{rest:path}"\n    mode: native\n'
NATIVE = "  app: tests.gateway.test_native:app\n  timeout: 300ms\n"
events: list[str] = []


@contextlib.asynccontextmanager
async def lifespan(_app: Starlette) -> AsyncIterator[dict[str, Any]]:
    events.append("startup")
    yield {"greeting": "hello"}
    events.append("shutdown")


async def echo(request: Request) -> JSONResponse:
    return JSONResponse(
        {
            "path": request.url.path,
            "request_id": request.headers.get("x-request-id"),
            "dry_run": request.headers.get("x-strangler-dry-run"),
            "greeting": request.state.greeting,
            "body": (await request.body()).decode(),
        }
    )


async def boom(_request: Request) -> PlainTextResponse:
    raise RuntimeError("secret detail")


async def slow(_request: Request) -> PlainTextResponse:
    await asyncio.sleep(5)
    return PlainTextResponse("late")


app = Starlette(
    routes=[
        Route("/api/echo", echo, methods=["GET", "POST"]),
        Route("/api/boom", boom),
        Route("/api/slow", slow),
    ],
    lifespan=lifespan,
)


def native_table() -> Any:
    return make_table("http://127.0.0.1:1", ROUTES, NATIVE)


async def test_native_app_sees_the_normalised_path_and_the_request_id() -> None:
    events.clear()
    async with running(gateway_for(native_table())) as client:
        response = await client.post(
            "/x/../api//echo",
            content=b"payload",
            headers={"X-Request-ID": "rid-9", "X-Strangler-Dry-Run": "1"},
        )
        assert events == ["startup"]
    assert events == ["startup", "shutdown"]
    assert response.json() == {
        "path": "/api/echo",
        "request_id": "rid-9",
        "dry_run": None,
        "greeting": "hello",
        "body": "payload",
    }
    assert response.headers["x-request-id"] == "rid-9"


async def test_an_exception_is_502_without_its_detail(log_lines: Any) -> None:
    async with running(gateway_for(native_table())) as client:
        response = await client.get("/api/boom")
    assert response.status_code == 502
    assert response.json()["error"] == "native handler failed"
    assert "secret" not in response.text
    failures = [line for line in log_lines() if line["event"] == "native_failed"]
    assert "RuntimeError: secret detail" in failures[0]["exception"]


async def test_a_slow_native_app_is_504() -> None:
    async with running(gateway_for(native_table())) as client:
        response = await client.get("/api/slow")
    assert response.status_code == 504
    assert response.json()["error"] == "native handler timed out"


async def test_native_url_forwards_like_legacy(upstream: FakeUpstream) -> None:
    native = f"  url: {upstream.url}/svc\n  timeout: 1s\n"
    table = make_table("http://127.0.0.1:1", ROUTES, native)
    async with running(gateway_for(table)) as client:
        response = await client.get("/api/things?x=1")
    assert response.json()["uri"] == "/svc/api/things?x=1"


async def test_an_injected_native_app_replaces_the_named_one() -> None:
    async def other(scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] == "lifespan":
            raise RuntimeError("no lifespan here")
        await send({"type": "http.response.start", "status": 201, "headers": []})
        await send({"type": "http.response.body", "body": b"injected"})

    async with running(gateway_for(native_table(), native_app=other)) as client:
        response = await client.get("/api/x")
    assert (response.status_code, response.text) == (201, "injected")


async def test_a_500_the_app_returns_itself_reaches_the_client() -> None:
    async def five_hundred(scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] == "lifespan":
            raise RuntimeError("no lifespan here")
        await send({"type": "http.response.start", "status": 500, "headers": []})
        await send({"type": "http.response.body", "body": b"own error page"})

    async with running(gateway_for(native_table(), native_app=five_hundred)) as client:
        response = await client.get("/api/x")
    assert (response.status_code, response.text) == (500, "own error page")


async def test_answers_the_gateway_makes_carry_one_date() -> None:
    async def dated(scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] == "lifespan":
            raise RuntimeError("no lifespan here")
        headers = [(b"date", b"Thu, 01 Jan 1970 00:00:00 GMT")] if "dated" in scope["path"] else []
        await send({"type": "http.response.start", "status": 200, "headers": headers})
        await send({"type": "http.response.body", "body": b"ok"})

    async with running(gateway_for(native_table(), native_app=dated)) as client:
        plain = await client.get("/api/x")
        own = await client.get("/api/dated")
    async with running(gateway_for(native_table())) as client:
        failed = await client.get("/api/boom")
    for response in (plain, failed):
        assert len(response.headers.get_list("date")) == 1
        sent = email.utils.parsedate_to_datetime(response.headers["date"])
        assert abs((sent - datetime.datetime.now(datetime.UTC)).total_seconds()) < 5
    assert own.headers.get_list("date") == ["Thu, 01 Jan 1970 00:00:00 GMT"]
