"""The legacy PHP application and the native app, side by side: the same seeded-random requests
(reads and writes, good and bad) sent to both, in lockstep, each on its own copy of the same
seeded database, must give the same status, the same parsed body and the same key headers.

Each write pair starts early in a wall-clock second, so that both sides stamp the same
`created_at`/`updated_at` (otherwise sorting by them would order rows differently).

After the run, the two databases must hold the same rows (tests/handlers/diffstate.py lists
what it cannot compare and why).

Ignored, and why:
- Date-times that differ by at most TIME_TOLERANCE seconds: should a write pair still straddle a
  second, its timestamps differ by one. Everything else in the bodies is compared exactly.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import os
import re
import time
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import httpx
import pymysql
import pytest
import sqlalchemy as sa

from handlers.app import create_app
from tests.handlers.conftest import (
    Seeded,
    copy_sqlite,
    legacy_app,
    mariadb_seeded,
    native_client,
    sqlite_seeded,
)
from tests.handlers.diffgen import Call, Generator, World
from tests.handlers.diffstate import state_differences
from tests.support.services import (
    MARIADB_HOST,
    MARIADB_PASSWORD,
    MARIADB_PORT,
    MARIADB_USER,
    mariadb_database,
    mariadb_url,
)

# Overridable to explore further: DIFF_SEED=7 DIFF_REQUESTS=3000 pytest -k differential
REQUESTS = int(os.environ.get("DIFF_REQUESTS", "420"))
WRITE_SHARE = 0.3
SEED = int(os.environ.get("DIFF_SEED", "20261123"))
TIME_TOLERANCE = 2
HOST = "diff.test"
HEADERS_COMPARED = ("content-type", "allow", "location")
_ISO = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$")
TABLES = ["users", "tickets", "invoices", "credits", "orders", "services", "ticket_messages",
          "invoice_items", "products", "categories"]  # fmt: skip


def _clone_mariadb(source: str, target: str) -> None:
    """An exact copy: SHOW CREATE TABLE keeps foreign keys (cascades) and the next ids."""
    conn = pymysql.connect(host=MARIADB_HOST, port=MARIADB_PORT, user=MARIADB_USER,
                           password=MARIADB_PASSWORD, autocommit=True)  # fmt: skip
    try:
        with conn.cursor() as cur:
            cur.execute("SET FOREIGN_KEY_CHECKS = 0")
            cur.execute(f"SHOW TABLES FROM `{source}`")
            tables = [row[0] for row in cur.fetchall()]
            for table in tables:
                cur.execute(f"SHOW CREATE TABLE `{source}`.`{table}`")
                ddl = cur.fetchone()[1]
                cur.execute(f"USE `{target}`")
                cur.execute(ddl)
                cur.execute(f"INSERT INTO `{target}`.`{table}` SELECT * FROM `{source}`.`{table}`")
    finally:
        conn.close()


@contextlib.contextmanager
def twin_databases(kind: str, zone: str, workdir: Path) -> Iterator[tuple[Seeded, Seeded]]:
    if kind == "sqlite":
        first = sqlite_seeded(workdir / "legacy.sqlite", "--timezone", zone)
        yield first, copy_sqlite(first, workdir / "native.sqlite")
        return
    with mariadb_seeded("--timezone", zone) as first, mariadb_database("strangler_twin") as name:
        _clone_mariadb(first.url.rsplit("/", 1)[1].split("?")[0], name)
        yield first, Seeded(mariadb_url(name), {}, "mysql", first.tokens)


def world_of(seeded: Seeded) -> World:
    engine = sa.create_engine(seeded.url, poolclass=sa.NullPool)
    try:
        with engine.connect() as conn:
            ids = {t: list(conn.execute(sa.text(f"SELECT id FROM {t}")).scalars()) for t in TABLES}
            codes = list(conn.execute(sa.text("SELECT code FROM currencies")).scalars())
            numbers = conn.execute(sa.text("SELECT number FROM invoices WHERE number IS NOT NULL"))
            return World(ids, codes, [str(n) for n in numbers.scalars()])
    finally:
        engine.dispose()


async def start_of_a_second(call: Call) -> None:
    """Wait, if needed, so the two writes of a pair fit in one second (hashing a password at
    cost 12 takes a quarter of a second on each side)."""
    if call.method in ("GET", "HEAD", "OPTIONS"):
        return
    needed = 0.75 if "password" in (call.json or {}) else 0.3
    left = 1 - time.time() % 1
    if left < needed:
        await asyncio.sleep(left + 0.01)


def build(call: Call, tokens: dict[str, str]) -> dict[str, Any]:
    headers = {"Host": HOST}
    if call.token is not None:
        headers["Authorization"] = f"Bearer {tokens.get(call.token, 'PAYM' + call.token)}"
    if call.accept is not None:
        headers["Accept"] = call.accept
    if call.content_type is not None:
        headers["Content-Type"] = call.content_type
    headers.update(dict(call.headers))
    request: dict[str, Any] = {"headers": headers, "params": call.params}
    if call.json is not None:
        request["json"] = call.json
    if call.content is not None:
        request["content"] = call.content
    return request


def observe(response: httpx.Response) -> dict[str, Any]:
    kind = response.headers.get("content-type", "")
    body: Any = response.text
    if "json" in kind and response.content:
        body = response.json()
    headers = {h: response.headers.get(h) for h in HEADERS_COMPARED}
    return {"status": response.status_code, "headers": headers, "body": body}


def _close_in_time(a: str, b: str) -> bool:
    parse = dt.datetime.fromisoformat
    return abs((parse(a) - parse(b)).total_seconds()) <= TIME_TOLERANCE


def differences(legacy: Any, native: Any, path: str = "") -> list[str]:
    if isinstance(legacy, dict) and isinstance(native, dict):
        if list(legacy) != list(native):
            return [f"{path}: keys {list(legacy)} != {list(native)}"]
        return [d for k in legacy for d in differences(legacy[k], native[k], f"{path}.{k}")]
    if isinstance(legacy, list) and isinstance(native, list):
        if len(legacy) != len(native):
            return [f"{path}: {len(legacy)} items != {len(native)} items"]
        return [d for i, (a, b) in enumerate(zip(legacy, native, strict=True))
                for d in differences(a, b, f"{path}[{i}]")]  # fmt: skip
    if (
        isinstance(legacy, str)
        and isinstance(native, str)
        and _ISO.match(legacy)
        and _ISO.match(native)
    ):
        return [] if _close_in_time(legacy, native) else [f"{path}: {legacy!r} != {native!r}"]
    same = type(legacy) is type(native) and legacy == native
    return [] if same else [f"{path}: {legacy!r} != {native!r}"]


@contextlib.asynccontextmanager
async def clients(legacy: Seeded, native: Seeded) -> AsyncIterator[tuple[httpx.AsyncClient, ...]]:
    with legacy_app(legacy) as url:
        async with (
            httpx.AsyncClient(base_url=url, timeout=60) as php,
            native_client(create_app(native.url)) as py,
        ):
            yield php, py


@pytest.mark.parametrize(
    ("kind", "zone"),
    [("sqlite", "UTC"), ("mariadb", "UTC"), ("sqlite", "Europe/Amsterdam")],
    ids=["sqlite", "mariadb", "sqlite-amsterdam"],
)
async def test_native_answers_like_legacy(kind: str, zone: str, tmp_path: Path) -> None:
    with twin_databases(kind, zone, tmp_path) as (legacy, native):
        generator = Generator(world_of(legacy), SEED)
        calls = [generator.write() if generator.rng.random() < WRITE_SHARE else generator.read()
                 for _ in range(REQUESTS)]  # fmt: skip
        mismatches: list[str] = []
        async with clients(legacy, native) as (php, py):
            for number, call in enumerate(calls):
                url = "/api/v1/admin/" + call.path
                request = build(call, legacy.tokens)
                await start_of_a_second(call)
                expected = observe(await php.request(call.method, url, **request))
                actual = observe(await py.request(call.method, url, **request))
                for diff in differences(expected, actual)[:3]:
                    mismatches.append(
                        f"#{number} {call.method} {url} {call.params} {call.json}: {diff}"
                    )
        statuses = {c.method for c in calls}
        assert statuses >= {"GET", "POST", "PATCH", "DELETE"}
        assert mismatches == [], f"{len(mismatches)} differences:\n" + "\n".join(mismatches[:40])
        left_behind = state_differences(legacy.url, native.url)
        assert left_behind == [], "databases differ:\n" + "\n".join(left_behind[:40])
