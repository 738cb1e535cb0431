"""The server-rendered part: login form with CSRF token, PHP session cookie, redirects, the admin
page of recent invoices, logout and the health check. These routes stay on the legacy side."""

from __future__ import annotations

import html
import re
import uuid
from collections.abc import Iterator

import httpx
import pytest
import sqlalchemy as sa

from tests.contract.conftest import Api, Target
from tests.contract.expect import rows

# These routes stay on the legacy side: tests/contract/conftest.py collects this module for the
# legacy targets only (a deselection, not a skip).
LEGACY_ONLY = True


@pytest.fixture
def browser(target: Target) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=target.base_url, timeout=30, follow_redirects=False) as client:
        yield client


def csrf_token(page: str) -> str:
    match = re.search(r'name="_token" value="([^"]+)"', page)
    assert match, "the login form carries a CSRF token"
    return match.group(1)


def session_cookie(r: httpx.Response) -> str:
    for header in r.headers.get_list("set-cookie"):
        if header.startswith("PHPSESSID="):
            return header
    raise AssertionError("no PHPSESSID cookie")


@pytest.fixture
def account(api: Api) -> tuple[str, str]:
    address = f"web-{uuid.uuid4().hex[:10]}@example.test"
    password = "web password 123"
    assert api.post("users", {"email": address, "password": password}).status_code == 201
    return address, password


def test_health(browser: httpx.Client) -> None:
    r = browser.get("/health")
    assert r.status_code == 200
    assert r.headers["content-type"].startswith("application/json")
    assert r.json() == {"status": "ok"}


def test_login_form_sets_a_session_cookie(browser: httpx.Client) -> None:
    r = browser.get("/login")
    assert r.status_code == 200
    assert r.headers["content-type"].startswith("text/html")
    assert '<form method="POST" action="/login">' in r.text
    csrf_token(r.text)
    cookie = session_cookie(r).lower()
    assert "httponly" in cookie
    assert "samesite=lax" in cookie


def test_login_with_a_bad_csrf_token_is_419(
    browser: httpx.Client, account: tuple[str, str]
) -> None:
    browser.get("/login")
    r = browser.post(
        "/login", data={"_token": "forged", "email": account[0], "password": account[1]}
    )
    assert r.status_code == 419
    assert r.headers["content-type"].startswith("text/html")


def test_login_with_a_wrong_password_goes_back_with_a_message(
    browser: httpx.Client, target: Target, account: tuple[str, str]
) -> None:
    token = csrf_token(browser.get("/login").text)
    r = browser.post("/login", data={"_token": token, "email": account[0], "password": "wrong"})
    assert r.status_code == 302
    assert r.headers["location"] == f"{target.base_url}/login"
    page = browser.get("/login").text
    assert "These credentials do not match our records." in page
    assert browser.get("/admin").status_code == 302


def test_login_admin_logout(
    browser: httpx.Client, target: Target, db: sa.Engine, account: tuple[str, str]
) -> None:
    first = browser.get("/login")
    before = session_cookie(first).split(";")[0]
    r = browser.post(
        "/login",
        data={"_token": csrf_token(first.text), "email": account[0], "password": account[1]},
    )
    assert r.status_code == 302
    assert r.headers["location"] == f"{target.base_url}/admin"
    after = session_cookie(r).split(";")[0]
    assert after != before, "the session id is regenerated on login"
    page = browser.get("/admin")
    assert page.status_code == 200
    assert page.headers["content-type"].startswith("text/html")
    recent = rows(
        db,
        "SELECT invoices.number, invoices.status, invoices.due_at, users.email FROM invoices"
        " LEFT JOIN users ON users.id = invoices.user_id"
        " ORDER BY invoices.created_at DESC, invoices.id DESC LIMIT 20",
    )
    body = page.text
    assert body.count("<tr") == len(recent) + 1
    for invoice in recent:
        assert html.escape(str(invoice["email"])) in body
        if invoice["number"] is not None:
            assert f">{html.escape(str(invoice['number']))}<" in body
    r = browser.get("/logout")
    assert r.status_code == 302
    assert r.headers["location"] == f"{target.base_url}/login"
    assert browser.get("/admin").status_code == 302


def test_admin_requires_a_session(browser: httpx.Client, target: Target) -> None:
    r = browser.get("/admin")
    assert r.status_code == 302
    assert r.headers["location"] == f"{target.base_url}/login"
