"""Authentication, check order, routing errors, HTML versus JSON, encoding (paymenter-api.md
§1.2-§1.4, §2.6, §2.7)."""

from __future__ import annotations

import hashlib
import json
import secrets

import httpx
import pytest
import sqlalchemy as sa

from tests.contract.conftest import Api, Target
from tests.contract.expect import rows, scalar
from tests.contract.test_formats import global_setting

MISSING_BEARER = {"error": "The request is missing a valid bearer token."}
INVALID_KEY = {"message": "The provided API key is invalid or has been disabled."}
NO_ACCESS = {"message": "You do not have permission to access this resource."}
UNAUTHORIZED = {"message": "This action is unauthorized."}
SERVER_ERROR = {"message": "Server Error"}


def pretty(body: dict[str, str]) -> str:
    return json.dumps(body, indent=4, ensure_ascii=True)


@pytest.mark.parametrize("accept", [None, "application/json", "*/*", "text/html"])
def test_missing_bearer_is_always_compact_json(api: Api, accept: str | None) -> None:
    r = api.get("users", token=None, accept=accept)
    assert r.status_code == 401
    assert r.headers["content-type"].startswith("application/json")
    assert r.json() == MISSING_BEARER
    assert r.text == json.dumps(MISSING_BEARER, separators=(",", ":"))


@pytest.mark.parametrize("header", ["Bearer", "Basic dXNlcjpwYXNz", "Token abc"])
def test_other_authorization_schemes_are_missing_bearer(api: Api, header: str) -> None:
    r = api.get("users", token=None, headers={"Authorization": header})
    assert r.status_code == 401
    assert r.json() == MISSING_BEARER


def test_unknown_key_is_401_pretty_printed(api: Api) -> None:
    r = api.get("users", token="PAYM" + "0" * 64)
    assert r.status_code == 401
    assert r.headers["content-type"].startswith("application/json")
    assert r.json() == INVALID_KEY
    assert r.text == pretty(INVALID_KEY)


def test_disabled_key_is_401(api: Api) -> None:
    r = api.get("users", token="disabled")
    assert r.status_code == 401
    assert r.json() == INVALID_KEY


@pytest.mark.parametrize("token", ["wrong_type", "ip_locked"])
def test_wrong_type_or_ip_is_403(api: Api, token: str) -> None:
    r = api.get("users", token=token)
    assert r.status_code == 403
    assert r.json() == NO_ACCESS


def test_forwarded_for_counts_only_from_trusted_proxies(api: Api, db: sa.Engine) -> None:
    forwarded = {"X-Forwarded-For": "10.9.9.9"}
    with global_setting(db, "trusted_proxies", "[]", "array"):
        r = api.get("users", token="ip_locked", headers=forwarded)
        assert r.status_code == 403
        assert r.json() == NO_ACCESS
    with global_setting(db, "trusted_proxies", '["127.0.0.1"]', "array"):
        assert api.get("users", token="ip_locked", headers=forwarded).status_code == 200
        assert api.get("users", token="ip_locked").status_code == 403


@pytest.mark.parametrize(
    ("method", "path"),
    [("GET", "services"), ("GET", "credits"), ("POST", "users"), ("DELETE", "users/1")],
)
def test_missing_permission_is_403(api: Api, method: str, path: str) -> None:
    r = api.request(method, path, token="restricted", json_body={} if method == "POST" else None)
    assert r.status_code == 403
    assert r.json() == UNAUTHORIZED


def test_a_star_permission_is_not_a_wildcard(api: Api, db: sa.Engine) -> None:
    token = "PAYM" + secrets.token_hex(32)
    with db.connect() as conn:
        conn.execute(
            sa.text(
                "INSERT INTO api_keys"
                " (name, permissions, token, type, enabled, created_at, updated_at)"
                " VALUES ('star', :p, :t, 'admin', 1, :now, :now)"
            ),
            {
                "p": json.dumps(["*"]),
                "t": hashlib.sha256(token.encode()).hexdigest(),
                "now": "2025-01-01 00:00:00",
            },
        )
    r = api.get("users", token=token)
    assert r.status_code == 403
    assert r.json() == UNAUTHORIZED


def test_binding_404_comes_before_authentication(api: Api, db: sa.Engine) -> None:
    missing = (scalar(db, "SELECT MAX(id) FROM users") or 0) + 1000
    existing = scalar(db, "SELECT MIN(id) FROM users")
    expected = {"message": f"No query results for model [App\\Models\\User] {missing}"}
    assert api.get(f"users/{missing}", token=None).status_code == 404
    assert api.get(f"users/{missing}", token=None).json() == expected
    assert api.get(f"users/{missing}", token="PAYM" + "1" * 64).json() == expected
    assert api.get(f"services/{missing + 5}", token="restricted").status_code == 404
    assert api.delete(f"users/{missing}", token=None).status_code == 404
    assert api.get(f"users/{existing}", token=None).json() == MISSING_BEARER
    assert api.get(f"users/{existing}", token="PAYM" + "1" * 64).json() == INVALID_KEY


def test_last_used_at_is_set_without_an_audit_row(api: Api, db: sa.Engine, target: Target) -> None:
    token_hash = hashlib.sha256(target.tokens["restricted"].encode()).hexdigest()
    audits_before = scalar(db, "SELECT COUNT(*) FROM audits")
    with db.connect() as conn:
        conn.execute(
            sa.text("UPDATE api_keys SET last_used_at = NULL WHERE token = :t"), {"t": token_hash}
        )
    assert api.get("users", token="restricted").status_code == 200
    used = rows(db, "SELECT last_used_at FROM api_keys WHERE token = :t", t=token_hash)
    assert used[0]["last_used_at"] is not None
    assert scalar(db, "SELECT COUNT(*) FROM audits") == audits_before


def test_unknown_route_is_404(api: Api) -> None:
    r = api.get("nope")
    assert r.status_code == 404
    assert r.json() == {"message": "The route api/v1/admin/nope could not be found."}
    r = api.get("users/1/extra")
    assert r.json() == {"message": "The route api/v1/admin/users/1/extra could not be found."}


@pytest.mark.parametrize(
    ("method", "path", "allowed"),
    [
        ("DELETE", "users", "GET, HEAD, POST"),
        ("PUT", "invoices", "GET, HEAD, POST"),
        ("POST", "users/1", "GET, HEAD, PUT, PATCH, DELETE"),
        ("POST", "ticket-messages/1", "GET, HEAD, PUT, PATCH, DELETE"),
        ("PATCH", "products", "GET, HEAD, POST"),
    ],
)
def test_wrong_method_is_405(api: Api, method: str, path: str, allowed: str) -> None:
    r = api.request(method, path)
    assert r.status_code == 405
    assert r.headers["allow"] == allowed
    route = f"api/v1/admin/{path}"
    assert r.json() == {
        "message": f"The {method} method is not supported for route {route}. "
        f"Supported methods: {allowed}."
    }


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("POST", "products"),
        ("PUT", "products/1"),
        ("DELETE", "products/1"),
        ("PATCH", "categories/1"),
        ("POST", "categories"),
        ("PUT", "ticket-messages/1"),
        ("PATCH", "ticket-messages/1"),
    ],
)
def test_routes_without_a_controller_method_are_500(api: Api, method: str, path: str) -> None:
    r = api.request(method, path, json_body={"name": "x"} if method != "DELETE" else None)
    assert r.status_code == 500
    assert r.json() == SERVER_ERROR
    assert r.text == pretty(SERVER_ERROR)


def test_head_answers_get_routes_without_a_body(api: Api) -> None:
    r = api.request("HEAD", "users")
    assert r.status_code == 200
    assert r.headers["content-type"] == "application/vnd.api+json"
    assert r.content == b""
    assert api.request("HEAD", "users/1").status_code == 200


def test_trailing_slash_is_the_same_route(api: Api) -> None:
    assert api.get("users/").json()["data"] == api.get("users").json()["data"]


@pytest.mark.parametrize("accept", [None, "*/*", "text/html", "text/html, application/json"])
def test_errors_are_html_unless_json_is_expected(api: Api, accept: str | None) -> None:
    r = api.get("users", token="PAYM" + "2" * 64, accept=accept)
    assert r.status_code == 401
    assert r.headers["content-type"].startswith("text/html")
    assert "<html" in r.text.lower()
    r = api.get("nope", accept=accept)
    assert r.status_code == 404
    assert r.headers["content-type"].startswith("text/html")


@pytest.mark.parametrize(
    "headers",
    [
        {"Accept": "application/vnd.api+json"},
        {"Accept": "text/html;q=0.5, application/json"},
        {"Accept": "*/*", "X-Requested-With": "XMLHttpRequest"},
    ],
)
def test_json_errors_when_json_is_expected(
    http: httpx.Client, target: Target, headers: dict[str, str]
) -> None:
    h = {"Authorization": "Bearer PAYM" + "3" * 64, **headers}
    r = http.get("/api/v1/admin/users", headers=h)
    assert r.status_code == 401
    assert r.json() == INVALID_KEY


def test_success_bodies_escape_slashes_and_unicode(api: Api, db: sa.Engine) -> None:
    r = api.get("users", params={"per_page": 100})
    assert "\\/api\\/v1\\/admin\\/users" in r.text
    assert "\n" not in r.text
    non_ascii = [
        x
        for x in rows(db, "SELECT first_name FROM users ORDER BY id LIMIT 100")
        if x["first_name"] and not x["first_name"].isascii()
    ]
    if non_ascii:
        assert r.text.isascii()
        assert "\\u" in r.text


def test_cors_on_api_routes(http: httpx.Client, api: Api) -> None:
    r = http.options(
        "/api/v1/admin/users",
        headers={
            "Origin": "https://panel.example.test",
            "Access-Control-Request-Method": "GET",
            "Access-Control-Request-Headers": "authorization",
        },
    )
    assert r.status_code == 204
    assert r.headers["access-control-allow-origin"] == "*"
    assert r.headers["access-control-allow-methods"] == "GET"
    assert r.headers["access-control-allow-headers"] == "authorization"
    r = api.get("users", headers={"Origin": "https://panel.example.test"})
    assert r.headers["access-control-allow-origin"] == "*"


def test_non_numeric_ids_are_404_with_the_value(api: Api) -> None:
    r = api.get("users/abc")
    assert r.status_code == 404
    assert r.json() == {"message": "No query results for model [App\\Models\\User] abc"}
    r = api.get("orders/abc", token=None)
    assert r.status_code == 404


@pytest.mark.parametrize(
    ("content", "content_type"),
    [
        (b'{"email": "broken@example.test", "password":', "application/json"),
        (b"email=plain%40example.test&password=long-enough", "text/plain"),
    ],
)
def test_unreadable_bodies_count_as_empty(
    http: httpx.Client, api: Api, content: bytes, content_type: str
) -> None:
    headers = {**api.headers(), "Content-Type": content_type}
    r = http.post("/api/v1/admin/users", content=content, headers=headers)
    assert r.status_code == 422
    assert r.json()["errors"] == {
        "email": ["The email field is required."],
        "password": ["The password field is required."],
    }


def test_form_encoded_bodies_are_read(http: httpx.Client, api: Api, db: sa.Engine) -> None:
    address = f"form-{secrets.token_hex(5)}@example.test"
    r = http.post(
        "/api/v1/admin/users",
        data={"email": address, "password": "form password"},
        headers=api.headers(),
    )
    assert r.status_code == 201
    assert r.json()["data"]["attributes"]["email"] == address


def test_huge_per_page_returns_everything(api: Api, db: sa.Engine) -> None:
    doc = api.get("users", params={"per_page": 1000000}).json()
    assert len(doc["data"]) == scalar(db, "SELECT COUNT(*) FROM users")
    assert doc["meta"]["per_page"] == "1000000"
    assert "next" not in doc["links"]
