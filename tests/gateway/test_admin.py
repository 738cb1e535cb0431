"""The admin surface: health, routes with counts, reload; who may use them (a bearer from
anywhere, a browser's session cookie for reading only, loopback clients without a token)."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import httpx
import pytest

from proxy.operator import signin
from proxy.settings import Settings
from proxy.table.parser import load
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
            "effective_mode": "legacy",
            "why": "mode legacy in the table",
        }
    ]
    assert routes["unmatched"] == {"mode": "legacy", "requests": 1}


def load_text(url: str) -> Any:
    from proxy.table.parser import parse

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
    ("ip", "token", "status"),
    [
        ("127.0.0.1", None, 403),  # a loopback TLS terminator forwards remote clients
        ("127.0.0.2", None, 200),  # loopback, and not the proxy
        ("127.0.0.1", "s3cret", 200),
    ],
    ids=["proxy without token", "other loopback", "proxy with token"],
)
async def test_a_trusted_proxy_is_not_a_local_client(
    upstream: FakeUpstream, ip: str, token: str | None, status: int
) -> None:
    from proxy.table.parser import parse

    table = parse(table_text(upstream.url, ROUTES, extra="edge: {trusted_proxies: [127.0.0.1]}\n"))
    gateway = gateway_for(table, settings=Settings(watch=False, admin_token=token))
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    async with running(gateway), client_from(gateway, ip) as client:
        answer = await client.get("/_strangler/routes", headers=headers)
        forwarded = await client.get(
            "/_strangler/routes", headers={**headers, "X-Forwarded-For": "127.0.0.1"}
        )
        assert (await client.get("/_strangler/health")).status_code == 200
    assert (answer.status_code, forwarded.status_code) == (status, status)
    if status == 403:
        assert "set STRANGLER_ADMIN_TOKEN" in answer.json()["error"]
        assert "trusted proxy" in answer.json()["error"]


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


@pytest.mark.parametrize(
    ("token", "ip", "authorization", "told"),
    [
        (None, "127.0.0.1", None, True),
        (None, "203.0.113.5", None, False),
        ("s3cret", "127.0.0.1", None, False),
        ("s3cret", "203.0.113.5", "Bearer s3cret", True),
    ],
    ids=["loopback", "elsewhere", "token-no-bearer", "bearer"],
)
async def test_health_says_a_file_was_refused_and_why_only_to_whom_admin_lets_in(
    upstream: FakeUpstream, tmp_path: Path, token: str | None, ip: str, authorization: str | None,
    told: bool,
) -> None:  # fmt: skip
    path = tmp_path / "routing.yaml"
    path.write_text(table_text(upstream.url, ROUTES))
    settings = Settings(config_path=path, watch=False, admin_token=token)
    gateway = gateway_for(load(path), settings=settings)
    digest = gateway.holder.current.table.digest
    headers = {"Authorization": authorization} if authorization else {}
    async with running(gateway), client_from(gateway, ip) as client:
        before = (await client.get("/_strangler/health", headers=headers)).json()["config"]
        path.write_text(table_text(upstream.url, ROUTES.replace("legacy", "nativ")))
        await gateway.reloader.reload("sighup")
        after = (await client.get("/_strangler/health", headers=headers)).json()["config"]
    assert before["state"] == "in_force" and before["in_force"]["digest"] == digest
    assert after["state"] == "file_rejected" and after["in_force"] == before["in_force"]
    assert after["rejected"]["trigger"] == "sighup"
    assert ("problems" in after["rejected"], "source" in after["in_force"]) == (told, told)
    if told:
        [problem] = after["rejected"]["problems"]
        assert problem.startswith(f"{path}:8: route 'users.list': unknown mode 'nativ'")


BROWSER = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"


@pytest.mark.parametrize(
    ("method", "path", "accept", "redirected"),
    [
        ("GET", "/_strangler/routes", BROWSER, True),
        ("HEAD", "/_strangler/", BROWSER, True),
        ("GET", "/_strangler/routes", None, False),
        ("GET", "/_strangler/routes", "application/json", False),
        ("GET", "/_strangler/metrics", "text/plain", False),
        ("POST", "/_strangler/reload", BROWSER, False),  # a form post is not sent to sign in
    ],
    ids=["browser", "browser head", "no accept", "json", "prometheus", "browser post"],
)
async def test_with_a_token_a_browser_is_sent_to_sign_in_and_an_api_client_gets_401(
    upstream: FakeUpstream, method: str, path: str, accept: str | None, redirected: bool
) -> None:
    settings = Settings(watch=False, admin_token="s3cret")
    gateway = gateway_for(load_text(upstream.url), settings=settings)
    headers = {"Accept": accept} if accept else {}
    async with running(gateway), client_from(gateway, "203.0.113.5") as client:
        response = await client.request(method, path, headers=headers)
    if redirected:
        assert response.status_code == 303
        assert response.headers["location"] == "/_strangler/login?next=" + path.replace("/", "%2F")
    else:
        assert response.status_code == 401
        assert response.json() == {"error": "a valid bearer token is required"}
        assert response.headers["www-authenticate"] == 'Bearer realm="strangler"'


async def test_a_browser_signs_in_and_its_cookie_reads_but_never_reloads(
    upstream: FakeUpstream,
) -> None:
    settings = Settings(watch=False, admin_token="s3cret")
    gateway = gateway_for(load_text(upstream.url), settings=settings)
    async with running(gateway), client_from(gateway, "203.0.113.5") as client:
        wrong = await client.post("/_strangler/login", data={"token": "s3cre7"})
        signed = await client.post(
            "/_strangler/login", data={"token": "s3cret", "next": "/_strangler/routes"}
        )
        cookie = {"Cookie": signed.headers["set-cookie"].split(";")[0], "Accept": BROWSER}
        routes = await client.get("/_strangler/routes", headers=cookie)
        reload = await client.post("/_strangler/reload", headers=cookie)
    assert wrong.status_code == 401 and "set-cookie" not in wrong.headers
    assert signed.status_code == 303 and signed.headers["location"] == "/_strangler/routes"
    assert routes.status_code == 200 and routes.json()["routes"][0]["id"] == "users.list"
    assert reload.status_code == 401  # a cross-site form could carry a cookie, not a header
    assert reload.json() == {"error": "a valid bearer token is required"}


async def test_a_new_token_turns_away_the_cookies_of_the_old_one(upstream: FakeUpstream) -> None:
    issued = signin.issue("old-token", time.time())
    cookie = {"Cookie": f"{signin.COOKIE}={issued}", "Accept": BROWSER}
    for token, status in (("old-token", 200), ("new-token", 303)):
        settings = Settings(watch=False, admin_token=token)
        gateway = gateway_for(load_text(upstream.url), settings=settings)
        async with running(gateway), client_from(gateway, "203.0.113.5") as client:
            assert (await client.get("/_strangler/", headers=cookie)).status_code == status
