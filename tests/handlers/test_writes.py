"""Writes in-process: echoes, validation, audit rows, passwords, invoice numbers, ticket
status flips and the dry-run mark."""

from __future__ import annotations

import subprocess
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
import sqlalchemy as sa

from handlers.app import create_app
from tests.handlers.conftest import Seeded, auth, native_client
from tests.support.services import php_binary


@pytest.fixture
async def client(fresh_sqlite: Seeded) -> AsyncIterator[httpx.AsyncClient]:
    async with native_client(create_app(fresh_sqlite.url)) as c:
        yield c


def php_verifies(plain: str, hashed: str) -> bool:
    code = "echo json_encode(password_verify($argv[1], $argv[2]));"
    out = subprocess.run(
        [php_binary(), "-r", code, "--", plain, hashed], capture_output=True, text=True, check=True
    )
    return out.stdout == "true"


def query(seeded: Seeded, sql: str, **params: Any) -> list[Any]:
    engine = sa.create_engine(seeded.url, poolclass=sa.NullPool)
    try:
        with engine.connect() as conn:
            return list(conn.execute(sa.text(sql), params).mappings())
    finally:
        engine.dispose()


async def test_create_user_echoes_raw_input_and_hashes_for_php(
    client: httpx.AsyncClient, fresh_sqlite: Seeded
) -> None:
    body = {"email": "new@example.test", "password": "s3cret-pass", "first_name": " Ann "}
    response = await client.post("/api/v1/admin/users", json=body, headers=auth(fresh_sqlite))
    assert response.status_code == 201
    data = response.json()["data"]
    assert data["attributes"]["first_name"] == "Ann"
    assert data["attributes"]["last_name"] is None
    stored = query(fresh_sqlite, "SELECT password FROM users WHERE id = :id", id=int(data["id"]))
    hashed = stored[0]["password"]
    assert hashed.startswith("$2y$12$")
    assert php_verifies("s3cret-pass", hashed)
    audits = query(
        fresh_sqlite,
        "SELECT event, auditable_type FROM audits WHERE auditable_id = :id AND auditable_type = :t",
        id=int(data["id"]),
        t="App\\Models\\User",
    )
    assert [dict(a) for a in audits] == [
        {"event": "created", "auditable_type": "App\\Models\\User"}
    ]


async def test_validation_summarises_every_error(
    client: httpx.AsyncClient, fresh_sqlite: Seeded
) -> None:
    response = await client.post(
        "/api/v1/admin/users", json={"email": "nope", "password": "x"}, headers=auth(fresh_sqlite)
    )
    assert response.status_code == 422
    assert response.json() == {
        "message": "The email field must be a valid email address. (and 1 more error)",
        "errors": {
            "email": ["The email field must be a valid email address."],
            "password": ["The password field must be at least 8 characters."],
        },
    }


async def test_invoices_take_consecutive_numbers(
    client: httpx.AsyncClient, fresh_sqlite: Seeded
) -> None:
    before = query(fresh_sqlite, "SELECT value FROM settings WHERE `key` = 'invoice_number'")
    start = int(before[0]["value"]) if before else 0
    user = query(fresh_sqlite, "SELECT id FROM users ORDER BY id LIMIT 1")[0]["id"]
    ids = []
    for _ in range(3):
        response = await client.post(
            "/api/v1/admin/invoices",
            json={"user_id": user, "currency_code": "USD"},
            headers=auth(fresh_sqlite),
        )
        assert response.status_code == 201, response.text
        ids.append(int(response.json()["data"]["id"]))
    rows = query(
        fresh_sqlite, f"SELECT number FROM invoices WHERE id IN ({','.join(map(str, ids))})"
    )
    numbers = sorted(int(r["number"]) for r in rows)
    assert numbers == [start + 1, start + 2, start + 3]


async def test_a_staff_message_marks_the_ticket_replied(
    client: httpx.AsyncClient, fresh_sqlite: Seeded
) -> None:
    ticket = query(fresh_sqlite, "SELECT id, user_id FROM tickets ORDER BY id LIMIT 1")[0]
    other = query(
        fresh_sqlite, "SELECT id FROM users WHERE id <> :u ORDER BY id LIMIT 1", u=ticket["user_id"]
    )[0]["id"]
    for author, status in ((other, "replied"), (ticket["user_id"], "open")):
        response = await client.post(
            "/api/v1/admin/ticket-messages",
            json={"message": "hello", "user_id": author, "ticket_id": ticket["id"]},
            headers=auth(fresh_sqlite),
        )
        assert response.status_code == 201
        row = query(fresh_sqlite, "SELECT status FROM tickets WHERE id = :id", id=ticket["id"])
        assert row[0]["status"] == status


async def test_dry_run_answers_normally_and_leaves_no_trace(
    client: httpx.AsyncClient, fresh_sqlite: Seeded
) -> None:
    before = query(fresh_sqlite, "SELECT COUNT(*) AS n FROM invoices")[0]["n"]
    counter = query(fresh_sqlite, "SELECT value FROM settings WHERE `key` = 'invoice_number'")
    user = query(fresh_sqlite, "SELECT id FROM users ORDER BY id LIMIT 1")[0]["id"]
    headers = {**auth(fresh_sqlite), "X-Strangler-Dry-Run": "1"}
    response = await client.post(
        "/api/v1/admin/invoices", json={"user_id": user, "currency_code": "USD"}, headers=headers
    )
    assert response.status_code == 201
    assert query(fresh_sqlite, "SELECT COUNT(*) AS n FROM invoices")[0]["n"] == before
    assert (
        query(fresh_sqlite, "SELECT value FROM settings WHERE `key` = 'invoice_number'") == counter
    )


async def test_delete_answers_204_and_audits(
    client: httpx.AsyncClient, fresh_sqlite: Seeded
) -> None:
    credit = query(fresh_sqlite, "SELECT id FROM credits ORDER BY id LIMIT 1")[0]["id"]
    response = await client.delete(f"/api/v1/admin/credits/{credit}", headers=auth(fresh_sqlite))
    assert (response.status_code, response.content) == (204, b"")
    assert query(fresh_sqlite, "SELECT id FROM credits WHERE id = :id", id=credit) == []
    events = query(
        fresh_sqlite,
        "SELECT event FROM audits WHERE auditable_type = :t AND auditable_id = :id",
        id=credit,
        t="App\\Models\\Credit",
    )
    assert [e["event"] for e in events] == ["deleted"]
