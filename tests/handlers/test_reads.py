"""Read endpoints in-process against a seeded database: documents, auth order, includes."""

from __future__ import annotations

import sqlite3

import httpx
import pytest
import sqlalchemy as sa
from sqlalchemy import event

from handlers.app import create_app
from tests.handlers.conftest import Seeded, auth, native_client

ENDPOINTS = [
    "users",
    "services",
    "orders",
    "invoices",
    "invoice-items",
    "tickets",
    "ticket-messages",
    "credits",
    "products",
    "categories",
]


@pytest.mark.parametrize("path", ENDPOINTS)
async def test_index_is_a_json_api_collection(
    native: httpx.AsyncClient, seeded_sqlite: Seeded, path: str
) -> None:
    response = await native.get(f"/api/v1/admin/{path}", headers=auth(seeded_sqlite))
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/vnd.api+json"
    body = response.json()
    assert list(body) == ["data", "links", "meta"]
    first = body["data"][0]
    assert list(first)[:3] == ["id", "type", "attributes"]
    assert first["id"] == str(first["attributes"]["id"])
    assert body["meta"]["path"] == f"http://native.test/api/v1/admin/{path}"
    assert body["meta"]["per_page"] == 15


async def test_missing_model_is_404_even_without_a_token(native: httpx.AsyncClient) -> None:
    response = await native.get(
        "/api/v1/admin/users/99999999", headers={"Accept": "application/json"}
    )
    assert response.status_code == 404
    assert response.json() == {"message": "No query results for model [App\\Models\\User] 99999999"}


async def test_existing_model_without_a_token_is_401(native: httpx.AsyncClient) -> None:
    response = await native.get("/api/v1/admin/users/1", headers={"Accept": "application/json"})
    assert response.status_code == 401
    assert response.json() == {"error": "The request is missing a valid bearer token."}


@pytest.mark.parametrize(
    ("token", "status", "message"),
    [
        ("disabled", 401, "The provided API key is invalid or has been disabled."),
        ("wrong_type", 403, "You do not have permission to access this resource."),
        ("ip_locked", 403, "You do not have permission to access this resource."),
    ],
)
async def test_bad_keys_are_refused(
    native: httpx.AsyncClient, seeded_sqlite: Seeded, token: str, status: int, message: str
) -> None:
    response = await native.get("/api/v1/admin/users", headers=auth(seeded_sqlite, token))
    assert (response.status_code, response.json()) == (status, {"message": message})


async def test_restricted_key_lacks_the_services_permission(
    native: httpx.AsyncClient, seeded_sqlite: Seeded
) -> None:
    response = await native.get("/api/v1/admin/services", headers=auth(seeded_sqlite, "restricted"))
    assert (response.status_code, response.json()) == (
        403,
        {"message": "This action is unauthorized."},
    )


async def test_errors_render_html_for_clients_that_do_not_ask_for_json(
    native: httpx.AsyncClient, seeded_sqlite: Seeded
) -> None:
    headers = {"Authorization": auth(seeded_sqlite)["Authorization"]}
    response = await native.get("/api/v1/admin/users?filter[nope]=1", headers=headers)
    assert response.status_code == 400
    assert response.headers["content-type"] == "text/html; charset=UTF-8"
    assert '<div class="code">400</div>' in response.text


async def test_includes_add_relationships_and_deduplicated_included(
    native: httpx.AsyncClient, seeded_sqlite: Seeded
) -> None:
    response = await native.get(
        "/api/v1/admin/invoices?include=user,items&per_page=50", headers=auth(seeded_sqlite)
    )
    body = response.json()
    for resource in body["data"]:
        assert list(resource["relationships"]) == ["user", "items"]
    keys = [(r["type"], r["id"]) for r in body.get("included", [])]
    assert len(keys) == len(set(keys))
    user_ids = {r["relationships"]["user"]["data"]["id"] for r in body["data"]}
    assert user_ids <= {i for t, i in keys if t == "users"}


async def test_sparse_fieldsets_keep_declared_order(
    native: httpx.AsyncClient, seeded_sqlite: Seeded
) -> None:
    response = await native.get(
        "/api/v1/admin/users?fields[users]=email,id", headers=auth(seeded_sqlite)
    )
    assert list(response.json()["data"][0]["attributes"]) == ["id", "email"]


def _count_selects(engine: sa.Engine) -> list[str]:
    """The SELECTs the sqlite3 connections of `engine` run (statements go to the driver's own
    cursor, past SQLAlchemy's execution events, so they are counted where SQLite sees them)."""
    seen: list[str] = []

    def _record(statement: str) -> None:
        # The key's last_used_at write is skipped within the same second, so only reads count.
        if statement.lstrip().upper().startswith("SELECT"):
            seen.append(statement)

    @event.listens_for(engine, "connect")
    def _trace(dbapi_connection: sqlite3.Connection, _record_: object) -> None:
        dbapi_connection.set_trace_callback(_record)

    return seen


# settings + API key + the page, then one IN query per relation (per referenced type for the
# polymorphic invoice-item reference); a relation with no parents on the page runs none.
STATEMENT_BOUNDS = {
    "users?include=role,properties,invoices,orders": 3 + 4,
    "categories?include=products.plans.prices,parent,children": 3 + 5,
    "invoice-items?include=reference,invoice": 3 + 3 + 1,
}


@pytest.mark.parametrize("path", list(STATEMENT_BOUNDS))
async def test_statements_do_not_grow_with_the_page_size(seeded_sqlite: Seeded, path: str) -> None:
    app = create_app(seeded_sqlite.url)
    statements = _count_selects(app.state.engines.read)
    counts = {}
    async with native_client(app) as client:
        for per_page in (1, 5, 100, 500):
            statements.clear()
            response = await client.get(
                f"/api/v1/admin/{path}&per_page={per_page}", headers=auth(seeded_sqlite)
            )
            assert response.status_code == 200
            counts[per_page] = len(statements)
    assert max(counts.values()) <= STATEMENT_BOUNDS[path]
    assert counts[100] == counts[500]


@pytest.mark.parametrize("path", ENDPOINTS)
async def test_index_on_mariadb_types_values_like_pdo(seeded_mariadb: Seeded, path: str) -> None:
    async with native_client(create_app(seeded_mariadb.url)) as client:
        response = await client.get(
            f"/api/v1/admin/{path}?per_page=50", headers=auth(seeded_mariadb)
        )
    assert response.status_code == 200
    for resource in response.json()["data"]:
        attributes = resource["attributes"]
        assert isinstance(attributes["id"], int)
        for name in ("price", "amount"):
            if attributes.get(name) is not None:
                assert isinstance(attributes[name], str) and attributes[name].count(".") == 1
        for name in ("created_at", "updated_at"):
            if attributes.get(name) is not None:
                assert attributes[name].endswith(".000000Z")
