"""The admin surface: health, routes with counts, reload; who may use them."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx
import pytest

from proxy.settings import Settings
from proxy.table import load
from tests.gateway.conftest import FakeUpstream, gateway_for, running, table_text

ROUTES = "  - id: users.list\n    match: GET /users\n    mode: legacy\n"


def client_from(gateway: Any, ip: str) -> httpx.AsyncClient:
    transport = httpx.ASGITransport(gateway, client=(ip, 4444))
    return httpx.AsyncClient(transport=transport, base_url="http://public.test")


async def test_health_and_routes_report_the_table_and_counts(upstream: FakeUpstream) -> None:
    gateway = gateway_for(load_text(upstream.url))
    async with running(gateway) as client:
        await client.get("/users")
        await client.get("/users")
        await client.get("/other")
        health = (await client.get("/_strangler/health")).json()
        routes = (await client.get("/_strangler/routes")).json()
    assert health["status"] == "ok"
    assert health["routes"] == 1
    assert health["digest"] == gateway.holder.current.table.digest
    assert routes["routes"] == [
        {
            "id": "users.list",
            "methods": ["GET"],
            "path": "/users",
            "mode": "legacy",
            "line": 6,
            "requests": 2,
        }
    ]
    assert routes["unmatched"] == {"mode": "legacy", "requests": 1}


def load_text(url: str) -> Any:
    from proxy.table import parse

    return parse(table_text(url, ROUTES))


@pytest.mark.parametrize(("ip", "status"), [("127.0.0.1", 200), ("::1", 200), ("203.0.113.5", 403)])
async def test_without_a_token_only_loopback_is_served(
    upstream: FakeUpstream, ip: str, status: int
) -> None:
    gateway = gateway_for(load_text(upstream.url))
    async with running(gateway), client_from(gateway, ip) as client:
        assert (await client.get("/_strangler/routes")).status_code == status
        assert (await client.get("/_strangler/health")).status_code == 200


@pytest.mark.parametrize(
    ("authorization", "status"),
    [
        (None, 401),
        ("Bearer wrong", 401),
        ("Basic s3cret", 401),
        ("Bearer s3cret", 200),
        ("bearer s3cret", 200),
    ],
    ids=["missing", "wrong", "not bearer", "right", "scheme any case"],
)
async def test_with_a_token_a_bearer_is_required_from_anywhere(
    upstream: FakeUpstream, authorization: str | None, status: int
) -> None:
    settings = Settings(watch=False, admin_token="s3cret")
    gateway = gateway_for(load_text(upstream.url), settings=settings)
    headers = {"Authorization": authorization} if authorization else {}
    async with running(gateway):
        for ip in ("127.0.0.1", "203.0.113.5"):
            async with client_from(gateway, ip) as client:
                response = await client.get("/_strangler/routes", headers=headers)
                assert response.status_code == status
                health = await client.get("/_strangler/health")
                assert health.status_code == 200


async def test_reload_answers_why_a_table_was_refused(
    upstream: FakeUpstream, tmp_path: Path
) -> None:
    path = tmp_path / "routing.yaml"
    path.write_text(table_text(upstream.url, ROUTES))
    gateway = gateway_for(load(path), settings=Settings(config_path=path, watch=False))
    first = gateway.holder.current.table.digest
    async with running(gateway) as client:
        path.write_text(table_text(upstream.url, ROUTES.replace("legacy", "nativ")))
        refused = await client.post("/_strangler/reload")
        path.write_text(table_text(upstream.url, ROUTES.replace("/users", "/people")))
        applied = await client.post("/_strangler/reload")
    assert refused.status_code == 422
    body = refused.json()
    assert body["ok"] is False
    assert body["digest"] == first
    assert any(":8: route 'users.list': unknown mode 'nativ'" in p for p in body["problems"])
    assert applied.status_code == 200
    assert applied.json()["ok"] is True
    assert applied.json()["digest"] == gateway.holder.current.table.digest != first
    assert [r.trigger for r in gateway.reloader.history] == ["admin", "admin"]
