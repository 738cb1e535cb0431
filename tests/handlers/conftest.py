"""Seeded databases (the legacy seeder, on SQLite and MariaDB) and the native app in-process."""

from __future__ import annotations

import contextlib
import shutil
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest
from starlette.applications import Starlette

from handlers.app import create_app
from tests.support.services import (
    ROOT,
    mariadb_database,
    mariadb_dsn,
    mariadb_url,
    php_server,
    seed_legacy,
)

SCALE = 20
SEED = 11
PUBLIC = ROOT / "legacy" / "public"
HOST = "native.test"


@dataclass(frozen=True)
class Seeded:
    """A seeded database: how Python and PHP reach it, and the seeder's report."""

    url: str
    env: dict[str, str]
    dialect: str
    tokens: dict[str, str]
    counts: dict[str, int] = field(default_factory=dict)


def seed(env: dict[str, str], *extra: str, scale: int = SCALE) -> dict[str, Any]:
    return seed_legacy(env, "--scale", str(scale), "--seed", str(SEED), *extra)


def sqlite_seeded(path: Path, *extra: str) -> Seeded:
    env = {"DB_DSN": f"sqlite:{path}"}
    report = seed(env, *extra)
    return Seeded(f"sqlite:///{path}", env, "sqlite", report["tokens"], report.get("counts", {}))


def copy_sqlite(source: Seeded, path: Path) -> Seeded:
    """An identical, independent copy of a seeded SQLite database."""
    shutil.copyfile(source.url.removeprefix("sqlite:///"), path)
    return Seeded(f"sqlite:///{path}", {"DB_DSN": f"sqlite:{path}"}, "sqlite", source.tokens)


@contextlib.contextmanager
def mariadb_seeded(*extra: str) -> Iterator[Seeded]:
    with mariadb_database("strangler_handlers") as name:
        env = mariadb_dsn(name)
        report = seed(env, *extra)
        yield Seeded(mariadb_url(name), env, "mysql", report["tokens"], report.get("counts", {}))


@pytest.fixture(scope="session")
def seeded_sqlite(tmp_path_factory: pytest.TempPathFactory) -> Seeded:
    """A read-only seeded SQLite database shared by the whole session."""
    return sqlite_seeded(tmp_path_factory.mktemp("seeded") / "paymenter.sqlite")


@pytest.fixture
def fresh_sqlite(seeded_sqlite: Seeded, tmp_path: Path) -> Seeded:
    """A private copy for tests that write."""
    return copy_sqlite(seeded_sqlite, tmp_path / "paymenter.sqlite")


@pytest.fixture(scope="session")
def seeded_mariadb() -> Iterator[Seeded]:
    with mariadb_seeded() as seeded:
        yield seeded


@contextlib.asynccontextmanager
async def native_client(app: Starlette) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=app)
    try:
        async with httpx.AsyncClient(transport=transport, base_url=f"http://{HOST}") as client:
            yield client
    finally:
        app.state.engines.dispose()


@pytest.fixture
async def native(seeded_sqlite: Seeded) -> AsyncIterator[httpx.AsyncClient]:
    async with native_client(create_app(seeded_sqlite.url)) as client:
        yield client


@contextlib.contextmanager
def legacy_app(seeded: Seeded) -> Iterator[str]:
    """The PHP application (php -S, four workers, stopped as a group) on the same database."""
    with php_server(PUBLIC, PUBLIC / "index.php", env=seeded.env) as url:
        yield url


def auth(seeded: Seeded, token: str = "admin") -> dict[str, str]:
    return {"Authorization": f"Bearer {seeded.tokens[token]}", "Accept": "application/json"}
