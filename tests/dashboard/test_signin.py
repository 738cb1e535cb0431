"""Signing in from a browser: the session cookie (proxy.operator.signin), the login and logout
pages, and what the cookie opens (GET pages) and does not (any POST: that stays the bearer's)."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from starlette.applications import Starlette

from proxy.operator import signin
from proxy.operator.signin import COOKIE, LIFETIME
from tests.dashboard.conftest import Evidence, admin_app

TOKEN = "s3cret-token"
T0 = 1_800_000_000.0
HTML = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"  # what a browser sends


class Clock:
    def __init__(self) -> None:
        self.now = T0

    def __call__(self) -> float:
        return self.now


def client_for(app: Starlette, base: str = "http://gw.test") -> httpx.AsyncClient:
    transport = httpx.ASGITransport(app, client=("10.0.0.9", 1))  # not loopback: a token's case
    return httpx.AsyncClient(transport=transport, base_url=base)


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
async def gw(evidence: Evidence, clock: Clock) -> AsyncIterator[httpx.AsyncClient]:
    async with client_for(admin_app(evidence, token=TOKEN, wall=clock)) as client:
        yield client


async def sign_in(
    client: httpx.AsyncClient, token: str = TOKEN, next_path: str = "/_strangler/"
) -> httpx.Response:
    return await client.post("/_strangler/login", data={"token": token, "next": next_path})


def session(response: httpx.Response) -> str:
    found = re.match(rf"{COOKIE}=([^;]*);", response.headers["set-cookie"])
    assert found is not None, response.headers.get("set-cookie")
    return found[1]


def with_cookie(value: str, accept: str = HTML) -> dict[str, str]:
    return {"Cookie": f"{COOKIE}={value}", "Accept": accept}


# ---------------------------------------------------------------- the cookie value


def test_a_cookie_holds_under_its_token_until_its_expiry() -> None:
    value = signin.issue(TOKEN, T0)
    assert signin.verify(value, TOKEN, T0)
    assert signin.verify(value, TOKEN, T0 + LIFETIME - 1)
    assert not signin.verify(value, TOKEN, T0 + LIFETIME)
    assert not signin.verify(value, "another-token", T0)  # a rotated token
    assert TOKEN not in value


def _tampered() -> list[tuple[str, str]]:
    good = signin.issue(TOKEN, T0)
    _, expiry, mac = good.split(".")
    later = str(int(expiry) + 3600)
    return [
        ("raw token", TOKEN),
        ("empty", ""),
        ("no mac", f"v1.{expiry}"),
        ("other version", f"v2.{expiry}.{mac}"),
        ("expiry moved on", f"v1.{later}.{mac}"),
        ("mac cut short", f"v1.{expiry}.{mac[:32]}"),
        ("mac of another token", signin.issue("guess", T0)),
        ("far-future expiry", signin.issue(TOKEN, T0 + 30 * LIFETIME)),
        ("expired", signin.issue(TOKEN, T0 - LIFETIME - 1)),
        ("arabic-indic digits", f"v1.{chr(0x661) * 10}.{mac}"),
        ("non-ascii mac", f"v1.{expiry}.{'é' * 64}"),
    ]


@pytest.mark.parametrize(("value"), [v for _, v in _tampered()], ids=[i for i, _ in _tampered()])
def test_a_forged_or_stale_cookie_is_refused(value: str) -> None:
    assert not signin.verify(value, TOKEN, T0)


@pytest.mark.parametrize(
    "target",
    ["/_strangler/", "/_strangler/route/users.list", "/_strangler/route/a%20b/samples?field=x"],
)
def test_next_keeps_a_path_under_the_admin_prefix(target: str) -> None:
    assert signin.safe_next(target, "/_strangler", "/_strangler/") == target


@pytest.mark.parametrize(
    "target",
    [
        "https://evil.test/_strangler/",
        "//evil.test/_strangler/",
        "/\\evil.test/",
        "/_strangler\\..\\x",
        "/_strangler/../../evil",
        "/_strangler/%2e%2e/elsewhere",
        "/_strangler//evil.test",
        "/elsewhere",
        "/_stranglerx/",
        "javascript:alert(1)",
        " /_strangler/",
        "/_strangler/\r\nSet-Cookie: x=1",
        "",
    ],
)
def test_next_refuses_anything_else_for_the_dashboard(target: str) -> None:
    assert signin.safe_next(target, "/_strangler", "/_strangler/") == "/_strangler/"


# ---------------------------------------------------------------- the login page


async def test_the_login_page_is_a_form_that_may_post_here_only(gw: httpx.AsyncClient) -> None:
    response = await gw.get(
        "/_strangler/login",
        params={"next": "/_strangler/route/users.list"},
        headers={"Accept": HTML},
    )
    assert response.status_code == 200
    page = response.text
    assert '<form method="post" action="/_strangler/login">' in page
    assert '<input type="hidden" name="next" value="/_strangler/route/users.list">' in page
    assert 'type="password"' in page and "<script" not in page.lower()
    policy = response.headers["content-security-policy"]
    assert "form-action 'self'" in policy and "default-src 'none'" in policy
    assert response.headers["cache-control"] == "no-store"


async def test_the_login_page_drops_a_next_that_leaves_the_dashboard(
    gw: httpx.AsyncClient,
) -> None:
    page = (await gw.get("/_strangler/login", params={"next": "https://evil.test/"})).text
    assert '<input type="hidden" name="next" value="/_strangler/">' in page
    assert "evil.test" not in page


async def test_signing_in_sets_a_strict_httponly_cookie_that_is_not_the_token(
    gw: httpx.AsyncClient, clock: Clock
) -> None:
    response = await sign_in(gw, next_path="/_strangler/route/users.list")
    assert response.status_code == 303
    assert response.headers["location"] == "/_strangler/route/users.list"
    cookie = response.headers["set-cookie"]
    attributes = {a.strip().lower() for a in cookie.split(";")[1:]}
    assert attributes == {"httponly", f"max-age={LIFETIME}", "path=/_strangler", "samesite=strict"}
    assert TOKEN not in cookie
    assert signin.verify(session(response), TOKEN, clock.now + LIFETIME - 1)
    assert not signin.verify(session(response), TOKEN, clock.now + LIFETIME)


@pytest.mark.parametrize(
    ("base", "headers", "secure"),
    [
        ("http://gw.test", {}, False),
        ("https://gw.test", {}, True),
        ("http://gw.test", {"X-Forwarded-Proto": "https"}, True),  # behind a TLS terminator
    ],
    ids=["http", "https", "tls terminated in front"],
)
async def test_the_cookie_is_secure_when_the_browser_came_over_https(
    evidence: Evidence, base: str, headers: dict[str, str], secure: bool
) -> None:
    async with client_for(admin_app(evidence, token=TOKEN), base) as client:
        response = await client.post("/_strangler/login", data={"token": TOKEN}, headers=headers)
    assert response.status_code == 303
    assert ("; secure" in response.headers["set-cookie"].lower()) is secure


@pytest.mark.parametrize(
    "target",
    ["https://evil.test/", "//evil.test/", "/\\evil.test", "/_strangler/../evil",
     "/_strangler/login", "/_strangler/logout"],
)  # fmt: skip
async def test_after_signing_in_a_browser_only_goes_to_the_dashboard(
    gw: httpx.AsyncClient, target: str
) -> None:
    response = await sign_in(gw, next_path=target)
    assert response.status_code == 303
    assert response.headers["location"] == "/_strangler/"


async def test_a_wrong_token_shows_the_form_again_with_a_401(gw: httpx.AsyncClient) -> None:
    response = await sign_in(gw, token="s3cret-tokem", next_path="/_strangler/route/users.list")
    assert response.status_code == 401
    assert "set-cookie" not in response.headers
    assert response.headers["www-authenticate"] == 'Bearer realm="strangler"'
    assert "That is not this gateway&#x27;s admin token" in response.text
    assert 'name="next" value="/_strangler/route/users.list"' in response.text
    assert "form-action 'self'" in response.headers["content-security-policy"]


@pytest.mark.parametrize(
    ("content", "content_type", "status"),
    [
        (b'{"token": "s3cret-token"}', "application/json", 415),
        (b"token=" + b"a" * 10_000, "application/x-www-form-urlencoded", 413),
        (b"&".join(b"f%d=1" % i for i in range(20)), "application/x-www-form-urlencoded", 400),
        (b"token=%ff%fe", "application/x-www-form-urlencoded", 400),
    ],
    ids=["not a form", "too large", "too many fields", "not utf-8"],
)
async def test_a_post_that_is_not_the_login_form_is_refused(
    gw: httpx.AsyncClient, content: bytes, content_type: str, status: int
) -> None:
    response = await gw.post(
        "/_strangler/login", content=content, headers={"Content-Type": content_type}
    )
    assert response.status_code == status
    assert "set-cookie" not in response.headers


async def test_without_a_token_the_login_page_says_loopback_only(evidence: Evidence) -> None:
    async with client_for(admin_app(evidence)) as client:
        page = await client.get("/_strangler/login")
        posted = await client.post("/_strangler/login", data={"token": "anything"})
    assert page.status_code == 200
    assert "loopback clients only" in page.text
    assert "<form" not in page.text
    assert "form-action 'none'" in page.headers["content-security-policy"]
    assert posted.status_code == 409 and "set-cookie" not in posted.headers


# ---------------------------------------------------------------- what the cookie opens


@pytest.mark.parametrize(
    "path", ["/_strangler/", "/_strangler/route/users.list", "/_strangler/routes"]
)
async def test_the_cookie_reads_the_pages(gw: httpx.AsyncClient, path: str) -> None:
    value = session(await sign_in(gw))
    assert (await gw.get(path, headers=with_cookie(value))).status_code == 200
    assert (await gw.head(path, headers=with_cookie(value))).status_code == 200
    json_client = with_cookie(value, accept="application/json")
    assert (await gw.get(path, headers=json_client)).status_code == 200


async def test_the_cookie_never_authorises_a_post(gw: httpx.AsyncClient) -> None:
    value = session(await sign_in(gw))
    refused = await gw.post("/_strangler/reload", headers=with_cookie(value))
    assert refused.status_code == 401
    assert refused.json() == {"error": "a valid bearer token is required"}
    bearer = await gw.post("/_strangler/reload", headers={"Authorization": f"Bearer {TOKEN}"})
    assert bearer.status_code == 422  # let in: this admin app has no table file to reload
    assert bearer.json()["problems"] == ["no table file to reload from"]


async def test_a_cookie_stops_working_after_its_lifetime(
    gw: httpx.AsyncClient, clock: Clock
) -> None:
    value = session(await sign_in(gw))
    clock.now += LIFETIME - 60
    assert (await gw.get("/_strangler/", headers=with_cookie(value))).status_code == 200
    clock.now += 60
    expired = await gw.get("/_strangler/", headers=with_cookie(value))
    assert expired.status_code == 303
    assert expired.headers["location"].startswith("/_strangler/login?")
    login = await gw.get(expired.headers["location"], headers=with_cookie(value))
    assert "Your sign-in has ended" in login.text


async def test_rotating_the_token_signs_every_browser_out(evidence: Evidence) -> None:
    async with client_for(admin_app(evidence, token="old-token")) as old:
        value = session(await sign_in(old, token="old-token"))
        assert (await old.get("/_strangler/", headers=with_cookie(value))).status_code == 200
    async with client_for(admin_app(evidence, token="new-token")) as new:
        response = await new.get("/_strangler/", headers=with_cookie(value))
        api = await new.get("/_strangler/routes", headers=with_cookie(value, "application/json"))
    assert response.status_code == 303
    assert api.status_code == 401


@pytest.mark.parametrize(
    "value",
    [TOKEN, signin.issue("guess", T0), "v1.1800043200.0000", "garbage"],
    ids=["raw token", "other key", "made up mac", "garbage"],
)
async def test_a_forged_cookie_is_sent_to_sign_in(gw: httpx.AsyncClient, value: str) -> None:
    response = await gw.get("/_strangler/", headers=with_cookie(value))
    assert response.status_code == 303
    assert response.headers["location"] == "/_strangler/login?next=%2F_strangler%2F"


async def test_a_browser_is_sent_to_sign_in_and_back_to_where_it_was(
    gw: httpx.AsyncClient,
) -> None:
    path = "/_strangler/route/users.list/samples?field=body.meta.total"
    response = await gw.get(path, headers={"Accept": HTML})
    assert response.status_code == 303
    location = urlsplit(response.headers["location"])
    assert location.path == "/_strangler/login"
    assert parse_qs(location.query) == {"next": [path]}
    signed = await sign_in(gw, next_path=parse_qs(location.query)["next"][0])
    assert signed.headers["location"] == path


@pytest.mark.parametrize("accept", [None, "*/*", "application/json"])
async def test_an_api_client_still_gets_the_json_401(
    gw: httpx.AsyncClient, accept: str | None
) -> None:
    headers = {"Accept": accept} if accept else {}
    response = await gw.get("/_strangler/", headers=headers)
    assert response.status_code == 401
    assert response.json() == {"error": "a valid bearer token is required"}
    assert response.headers["www-authenticate"] == 'Bearer realm="strangler"'


# ---------------------------------------------------------------- signing out


async def test_only_a_cookie_session_is_offered_to_sign_out(gw: httpx.AsyncClient) -> None:
    value = session(await sign_in(gw))
    for path in ("/_strangler/", "/_strangler/route/users.list", "/_strangler/route/nope"):
        by_cookie = await gw.get(path, headers=with_cookie(value))
        assert '<form class="account" method="post" action="/_strangler/logout">' in by_cookie.text
        assert "form-action 'self'" in by_cookie.headers["content-security-policy"]
        by_bearer = await gw.get(path, headers={"Authorization": f"Bearer {TOKEN}"})
        assert "/_strangler/logout" not in by_bearer.text
        assert "form-action 'none'" in by_bearer.headers["content-security-policy"]


async def test_signing_out_clears_the_cookie(gw: httpx.AsyncClient) -> None:
    value = session(await sign_in(gw))
    response = await gw.post("/_strangler/logout", headers=with_cookie(value))
    assert response.status_code == 303
    assert response.headers["location"] == "/_strangler/login"
    cleared = response.headers["set-cookie"].lower()
    assert cleared.startswith(f'{COOKIE}=""; ') or cleared.startswith(f"{COOKIE}=; ")
    assert "max-age=0" in cleared and "path=/_strangler" in cleared


async def test_a_sign_out_without_the_cookie_clears_nothing(gw: httpx.AsyncClient) -> None:
    # what a form on another site gets: SameSite=Strict keeps the cookie off its post
    response = await gw.post("/_strangler/logout")
    assert response.status_code == 303
    assert "set-cookie" not in response.headers
