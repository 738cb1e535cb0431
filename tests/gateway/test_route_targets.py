"""Routes that send a side another path (legacy_path, native_path) and routes that answer
themselves (respond, redirect), through the in-process gateway."""

from __future__ import annotations

import asyncio
from typing import Any

from tests.gateway.conftest import FakeUpstream, gateway_for, make_table, running

NATIVE = "  app: tests.gateway.test_route_targets:native_app\n  timeout: 1s\n"
ROUTES = """\
  - id: me
    match: GET /api/me
    mode: native
    native_path: /api/v1/profile/me
  - id: php
    match: {prefix: /api/php/}
    mode: legacy
    legacy_path: /{rest}
  - id: users
    match: GET /u/{id:int}
    mode: legacy
    legacy_path: /users.php/{id}
    native_path: /api/v1/users/{id}
  - id: compared
    match: GET /c/{id:int}
    mode: shadow
    legacy_path: /old/{id}
    native_path: /new/{id}
  - id: dot-files
    match: {regex: '/\\.'}
    respond: 403
  - id: health
    match: {exact: /health}
    respond: {status: 200, body: "ok\\n", content_type: text/plain; charset=utf-8}
  - id: pages
    match: {regex: '^/legacy/(?<page>[^/]+)\\.html$'}
    redirect: {status: 301, to: '/pages/{page}'}
  - id: admin
    match: {prefix: /old-admin}
    redirect: {status: 302, to: 'https://admin.example.com{request_uri}'}
  - id: canonical
    match: {exact: /www}
    redirect: {status: 308, to: '{scheme}://{host}/home{is_args}{args}'}
"""
seen_by_native: list[str] = []


async def native_app(scope: dict[str, Any], receive: Any, send: Any) -> None:
    seen_by_native.append(scope["path"])
    body = f"native {scope['path']} {scope['raw_path'].decode()}".encode()
    await send({"type": "http.response.start", "status": 200, "headers": []})
    await send({"type": "http.response.body", "body": body})


def gateway(upstream: FakeUpstream) -> Any:
    return gateway_for(make_table(upstream.url, ROUTES, NATIVE))


async def test_a_renamed_endpoint_is_served_natively_at_its_new_path(
    upstream: FakeUpstream,
) -> None:
    async with running(gateway(upstream)) as client:
        response = await client.get("/api/me?x=1")
    assert response.text == "native /api/v1/profile/me /api/v1/profile/me"
    assert upstream.seen == []


async def test_a_prefix_is_replaced_as_nginx_replaces_a_location(upstream: FakeUpstream) -> None:
    async with running(gateway(upstream)) as client:
        plain = await client.get("/api/php/users?page=2")
        spaced = await client.get("/api/php//a%20b/../c%3Fd")
    assert plain.json()["uri"] == "/users?page=2"
    assert spaced.json()["uri"] == "/c%3Fd"


async def test_a_legacy_route_keeps_its_native_path_for_the_flip(upstream: FakeUpstream) -> None:
    async with running(gateway(upstream)) as client:
        response = await client.get("/u/7")
    assert response.json()["uri"] == "/users.php/7"


async def test_shadow_sends_each_side_its_own_path(upstream: FakeUpstream) -> None:
    seen_by_native.clear()
    gw = gateway(upstream)
    async with running(gw) as client:
        response = await client.get("/c/5")
        for _ in range(100):  # the candidate runs in the background
            if seen_by_native:
                break
            await asyncio.sleep(0.01)
    assert response.json()["uri"] == "/old/5"
    assert seen_by_native == ["/new/5"]


async def test_a_denied_path_is_answered_403_without_a_side(upstream: FakeUpstream) -> None:
    async with running(gateway(upstream)) as client:
        response = await client.get("/app/.env", headers={"X-Request-ID": "r-9"})
        head = await client.head("/.git/config")
    assert response.status_code == 403
    assert response.json() == {"error": "forbidden", "request_id": "r-9"}
    assert head.status_code == 403
    assert upstream.seen == []


async def test_a_body_is_answered_as_written(upstream: FakeUpstream) -> None:
    async with running(gateway(upstream)) as client:
        response = await client.get("/health")
        head = await client.head("/health")
    assert (response.status_code, response.text) == (200, "ok\n")
    assert response.headers["content-type"] == "text/plain; charset=utf-8"
    assert (head.status_code, head.content, head.headers["content-length"]) == (200, b"", "3")


async def test_redirects_fill_captures_and_variables(upstream: FakeUpstream) -> None:
    async with running(gateway(upstream)) as client:
        page = await client.get("/legacy/a%20b.html")
        admin = await client.get("/old-admin//y?q=1")
        canonical = await client.get("/www?a=1", headers={"Host": "Shop.Example:8443"})
        bare = await client.get("/www")
    assert (page.status_code, page.headers["location"]) == (301, "/pages/a%20b")
    assert admin.headers["location"] == "https://admin.example.com/old-admin//y?q=1"
    assert (canonical.status_code, canonical.headers["location"]) == (
        308,
        "http://shop.example/home?a=1",
    )
    assert bare.headers["location"] == "http://public.test/home"
    assert upstream.seen == []


async def test_answered_routes_are_counted_and_logged_as_their_kind(
    upstream: FakeUpstream, log_lines: Any
) -> None:
    gw = gateway(upstream)
    async with running(gw) as client:
        await client.get("/.env")
        await client.get("/old-admin")
    assert gw.holder.counts == {"dot-files": 1, "admin": 1}
    access = [line for line in log_lines() if line.get("event") == "access"]
    modes = [(line["route"], line["mode"]) for line in access]
    assert modes == [("dot-files", "respond"), ("admin", "redirect")]
