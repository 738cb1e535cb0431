"""PHP and Python creating invoices at the same moment never take the same number."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
import sqlalchemy as sa

from handlers.app import create_app
from tests.handlers.conftest import (
    Seeded,
    auth,
    legacy_app,
    mariadb_seeded,
    native_client,
    sqlite_seeded,
)

PER_SIDE = 15


@contextlib.contextmanager
def database(kind: str, workdir: Path) -> Iterator[Seeded]:
    if kind == "sqlite":
        yield sqlite_seeded(workdir / "paymenter.sqlite")
        return
    with mariadb_seeded() as seeded:
        yield seeded


def scalars(seeded: Seeded, sql: str) -> list[object]:
    engine = sa.create_engine(seeded.url, poolclass=sa.NullPool)
    try:
        with engine.connect() as conn:
            return list(conn.execute(sa.text(sql)).scalars())
    finally:
        engine.dispose()


@pytest.mark.parametrize("kind", ["sqlite", "mariadb"])
async def test_php_and_python_never_share_an_invoice_number(kind: str, tmp_path: Path) -> None:
    with database(kind, tmp_path) as seeded, legacy_app(seeded) as url:
        user = scalars(seeded, "SELECT MIN(id) FROM users")[0]
        counter = scalars(seeded, "SELECT value FROM settings WHERE `key` = 'invoice_number'")
        start = int(str(counter[0])) if counter else 0
        body = {"user_id": user, "currency_code": "USD"}
        headers = auth(seeded)
        async with (
            httpx.AsyncClient(base_url=url, timeout=60) as php,
            native_client(create_app(seeded.url)) as py,
        ):
            sends = [
                client.post("/api/v1/admin/invoices", json=body, headers=headers)
                for _ in range(PER_SIDE)
                for client in (php, py)
            ]
            responses = await asyncio.gather(*sends)
        assert [r.status_code for r in responses] == [201] * (2 * PER_SIDE)
        ids = ",".join(r.json()["data"]["id"] for r in responses)
        numbers = scalars(seeded, f"SELECT number FROM invoices WHERE id IN ({ids})")
        assert sorted(int(str(n)) for n in numbers) == list(
            range(start + 1, start + 1 + 2 * PER_SIDE)
        )
