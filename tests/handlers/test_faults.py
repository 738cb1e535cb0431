"""Faults: an unreachable database answers 503 JSON and logs what failed; bad input answers
like the legacy side."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest
from structlog.testing import capture_logs

from handlers.app import create_app
from tests.handlers.conftest import Seeded, auth, native_client


async def test_unreachable_database_is_a_503_without_details(tmp_path: Path) -> None:
    app = create_app(f"sqlite:///{tmp_path / 'missing' / 'db.sqlite'}")
    async with native_client(app) as client:
        with capture_logs() as logs:
            response = await client.get("/api/v1/admin/users", headers={"Accept": "text/html"})
    assert response.status_code == 503
    assert response.json() == {"message": "Service Unavailable"}
    assert [entry["event"] for entry in logs] == ["database unreachable"]
    assert "unable to open database file" in logs[0]["error"]


async def test_unreachable_mariadb_is_a_503() -> None:
    app = create_app("mysql+pymysql://root@127.0.0.1:9/none")
    async with native_client(app) as client:
        with capture_logs() as logs:
            response = await client.get("/api/v1/admin/users/1")
    assert (response.status_code, response.json()) == (503, {"message": "Service Unavailable"})
    assert logs[0]["event"] == "database unreachable"


async def test_malformed_json_is_an_empty_body(
    native: httpx.AsyncClient, seeded_sqlite: Seeded
) -> None:
    headers = {**auth(seeded_sqlite), "Content-Type": "application/json"}
    response = await native.post("/api/v1/admin/orders", content=b"{nope", headers=headers)
    assert response.status_code == 422
    assert response.json()["message"] == "The user id field is required. (and 1 more error)"


async def test_non_numeric_id_is_a_404(native: httpx.AsyncClient, seeded_sqlite: Seeded) -> None:
    response = await native.get("/api/v1/admin/orders/abc", headers=auth(seeded_sqlite))
    assert (response.status_code, response.json()) == (
        404,
        {"message": "No query results for model [App\\Models\\Order] abc"},
    )


async def test_unknown_route_and_method(native: httpx.AsyncClient) -> None:
    headers = {"Accept": "application/json"}
    missing = await native.get("/api/v1/admin/nothing", headers=headers)
    assert (missing.status_code, missing.json()["message"]) == (
        404,
        "The route api/v1/admin/nothing could not be found.",
    )
    wrong = await native.delete("/api/v1/admin/products", headers=headers)
    assert wrong.status_code == 405
    assert wrong.headers["allow"] == "GET, HEAD, POST"


async def test_a_crash_answers_500_without_a_trace(
    native: httpx.AsyncClient, seeded_sqlite: Seeded, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(*_args: object) -> None:
        raise KeyError("secret_column")

    monkeypatch.setattr("handlers.api.dispatch", broken)
    with capture_logs() as logs:
        response = await native.get("/api/v1/admin/users", headers=auth(seeded_sqlite))
    assert (response.status_code, response.json()) == (500, {"message": "Server Error"})
    assert "secret_column" not in response.text
    assert [entry["event"] for entry in logs] == ["request crashed"]
