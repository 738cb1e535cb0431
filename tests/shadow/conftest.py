"""Parity stores to test against: SQLite always, MariaDB and PostgreSQL when reachable (skipped
outside CI when not, failed under CI=true, as tests/support/services.py decides)."""

from __future__ import annotations

import contextlib
import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from shadow.store import Store, open_store
from tests.support.services import mariadb_database, mariadb_url, unavailable

POSTGRES_HOST = os.environ.get("POSTGRES_HOST", "127.0.0.1")
POSTGRES_PORT = int(os.environ.get("POSTGRES_PORT", "5432"))
POSTGRES_USER = os.environ.get("POSTGRES_USER", "postgres")


@contextlib.contextmanager
def postgres_database(prefix: str = "strangler_test") -> Iterator[str]:
    """Create a uniquely named PostgreSQL database, yield its SQLAlchemy URL, drop it afterwards."""
    import psycopg

    base = f"host={POSTGRES_HOST} port={POSTGRES_PORT} user={POSTGRES_USER} connect_timeout=3"
    try:
        conn = psycopg.connect(base + " dbname=postgres", autocommit=True)
    except psycopg.OperationalError as exc:
        unavailable(f"PostgreSQL at {POSTGRES_HOST}:{POSTGRES_PORT} is unreachable: {exc}")
        raise AssertionError("unreachable") from exc
    name = f"{prefix}_{uuid.uuid4().hex[:10]}"
    try:
        conn.execute(f'CREATE DATABASE "{name}"')
        yield f"postgresql+psycopg://{POSTGRES_USER}@{POSTGRES_HOST}:{POSTGRES_PORT}/{name}"
    finally:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.close()


@contextlib.contextmanager
def store_at(kind: str, tmp_path: Path) -> Iterator[str]:
    if kind == "sqlite":
        yield f"sqlite:///{tmp_path}/var/parity.db"
    elif kind == "mariadb":
        with mariadb_database("strangler_shadow") as name:
            yield mariadb_url(name)
    else:
        with postgres_database("strangler_shadow") as url:
            yield url


@pytest.fixture(params=["sqlite", "mariadb", "postgresql"])
def store_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    with store_at(request.param, tmp_path) as url:
        yield url


@pytest.fixture
def store(store_url: str) -> Iterator[Store]:
    opened = open_store(store_url)
    yield opened
    opened.close()
