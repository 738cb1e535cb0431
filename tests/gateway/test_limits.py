"""limits.request_body: a body over the limit is answered 413 before a side sees it whole."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import PlainTextResponse
from starlette.routing import Route

from proxy.table.model import TableError
from proxy.table.parser import parse
from tests.gateway.conftest import FakeUpstream, gateway_for, make_table, running, table_text

LIMIT = "limits:\n  request_body: 1KiB\n"
NATIVE_ROUTE = '  - id: api\n    match: "* /api/{rest:path}"\n    mode: native\n'
NATIVE = "  app: tests.gateway.test_limits:app\n"
native_bodies: list[int] = []


async def upload(request: Request) -> PlainTextResponse:
    body = await request.body()
    native_bodies.append(len(body))
    return PlainTextResponse(f"native read {len(body)}")


app = Starlette(routes=[Route("/api/upload", upload, methods=["POST"])])


async def chunks(n: int, size: int = 300) -> AsyncIterator[bytes]:
    for _ in range(n):
        yield b"z" * size


async def test_a_declared_length_over_the_limit_never_reaches_the_upstream(
    upstream: FakeUpstream,
) -> None:
    async with running(gateway_for(make_table(upstream.url, extra=LIMIT))) as client:
        refused = await client.post("/upload", content=b"x" * 1025, headers={"X-Request-ID": "r1"})
        taken = await client.post("/upload", content=b"x" * 1024)
    assert refused.status_code == 413
    assert refused.json() == {"error": "request body over the limit", "request_id": "r1"}
    assert taken.status_code == 200 and taken.json()["body_length"] == 1024
    assert len(upstream.seen) == 1


async def test_a_chunked_body_is_counted_as_it_streams(upstream: FakeUpstream) -> None:
    async with running(gateway_for(make_table(upstream.url, extra=LIMIT))) as client:
        refused = await client.put("/upload", content=chunks(4))  # 1,200 bytes
        taken = await client.put("/upload", content=chunks(3))  # 900 bytes
    assert refused.status_code == 413
    assert refused.json()["error"] == "request body over the limit"
    assert taken.status_code == 200 and taken.json()["body_length"] == 900
    assert [seen["body_length"] for seen in upstream.seen] == [900]  # the cut one never arrived


async def test_the_native_side_gets_the_same_limit() -> None:
    native_bodies.clear()
    table = make_table("http://127.0.0.1:1", NATIVE_ROUTE, NATIVE, LIMIT)
    async with running(gateway_for(table)) as client:
        refused = await client.post("/api/upload", content=chunks(4))
        declared = await client.post("/api/upload", content=b"x" * 2000)
        taken = await client.post("/api/upload", content=chunks(2))
    assert (refused.status_code, declared.status_code) == (413, 413)
    assert (taken.status_code, taken.text) == (200, "native read 600")
    assert native_bodies == [600]


async def test_without_a_limit_bodies_pass_whatever_their_size(upstream: FakeUpstream) -> None:
    async with running(gateway_for(make_table(upstream.url))) as client:
        response = await client.put("/upload", content=chunks(100))
    assert response.json()["body_length"] == 30000


@pytest.mark.parametrize(
    ("limits", "message"),
    [
        ("limits:\n  request_body: huge\n", "limits.request_body: bad size 'huge'"),
        ("limits:\n  request_body: 0\n", "limits.request_body: size 0 must be positive"),
        ("limits:\n  body: 1MiB\n", "unknown key 'body' in limits"),
        ("limits: 1MiB\n", "limits must be a mapping"),
    ],
)
def test_bad_limits_are_named_in_the_table(limits: str, message: str) -> None:
    with pytest.raises(TableError) as caught:
        parse(table_text("http://127.0.0.1:8080", extra=limits))
    assert any(message in str(problem) for problem in caught.value.problems), caught.value


def test_the_limit_is_read_in_bytes() -> None:
    table: Any = parse(
        table_text("http://127.0.0.1:8080", extra="limits:\n  request_body: 10MiB\n")
    )
    assert table.limits.request_body == 10 * 1024 * 1024
