"""End-to-end shadow mode: the real PHP application on a seeded SQLite database, the native
handlers on the same database (in-process, wrapped by `Planted` to plant differences), and the
real gateway app between them with its parity store."""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import orjson
import pytest
import sqlalchemy as sa

from handlers.app import create_app as create_native
from shadow.store import Store, open_store
from tests.gateway.conftest import quiet_logs, running
from tests.support.services import (
    ROOT,
    mariadb_database,
    mariadb_dsn,
    mariadb_url,
    php_server,
    seed_legacy,
)

__all__ = ["quiet_logs", "running"]

LEGACY_PUBLIC = ROOT / "legacy" / "public"
API = "/api/v1/admin"
# A mutation of the native side's JSON body for one path: returns the body to send instead.
Mutation = Callable[[Any], Any]


@dataclass
class Legacy:
    url: str
    db_url: str
    token: str  # the seeded admin API key


def seed(env: dict[str, str]) -> dict[str, Any]:
    return seed_legacy(env, "--scale", "20", "--seed", "7")


@contextlib.contextmanager
def database(directory: Path, kind: str) -> Iterator[tuple[dict[str, str], str]]:
    """A new database: (PHP's environment, SQLAlchemy URL); MariaDB's is dropped afterwards."""
    if kind == "mariadb":
        with mariadb_database("strangler_e2e") as name:
            yield mariadb_dsn(name), mariadb_url(name)
        return
    path = directory / "paymenter.sqlite"
    yield {"DB_DSN": f"sqlite:{path}"}, f"sqlite:///{path}"


@contextlib.contextmanager
def legacy_app(directory: Path, kind: str = "sqlite") -> Iterator[Legacy]:
    """PHP on a freshly seeded database of its own (a test may write to it)."""
    directory.mkdir(parents=True, exist_ok=True)
    with database(directory, kind) as (env, url):
        report = seed(env)
        log = directory / "php.log"
        with php_server(LEGACY_PUBLIC, LEGACY_PUBLIC / "index.php", env, log=log) as base:
            yield Legacy(base, url, report["tokens"]["admin"])


@pytest.fixture
def legacy(tmp_path: Path) -> Iterator[Legacy]:
    with legacy_app(tmp_path / "legacy") as app:
        yield app


class Planted:
    """The native app, with a planted difference in the JSON body of chosen paths."""

    def __init__(
        self,
        app: Any,
        mutations: dict[str, Mutation] | None = None,
        headers: list[tuple[bytes, bytes]] = (),  # type: ignore[assignment]
    ) -> None:
        self.app = app
        self.mutations = mutations or {}
        self.headers = list(headers)  # added to every mutated answer
        self.calls = 0

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        self.calls += scope["type"] == "http"
        mutate = self.mutations.get(scope.get("path", "")) if scope["type"] == "http" else None
        if mutate is None:
            await self.app(scope, receive, send)
            return
        held: list[dict[str, Any]] = []

        async def hold(message: dict[str, Any]) -> None:
            held.append(message)

        await self.app(scope, receive, hold)
        start, body = held[0], b"".join(m.get("body", b"") for m in held[1:])
        if body:
            body = orjson.dumps(mutate(orjson.loads(body)))
        headers = [(k, v) for k, v in start["headers"] if k != b"content-length"]
        headers += [*self.headers, (b"content-length", str(len(body)).encode())]
        await send({**start, "headers": headers})
        await send({"type": "http.response.body", "body": body})


def native_on(
    db_url: str,
    mutations: dict[str, Mutation] | None = None,
    headers: list[tuple[bytes, bytes]] = (),  # type: ignore[assignment]
) -> Planted:
    return Planted(create_native(db_url), mutations, headers)


def row_counts(db_url: str) -> dict[str, int]:
    engine = sa.create_engine(db_url)
    try:
        with engine.connect() as conn:
            names = sa.inspect(conn).get_table_names()
            count = sa.select(sa.func.count())
            return {
                name: int(conn.execute(count.select_from(sa.table(name))).scalar_one())
                for name in names
                if not name.startswith("sqlite_")
            }
    finally:
        engine.dispose()


def table_text(legacy_url: str, routes: str, shadow: str = "") -> str:
    return (
        f"version: 1\nlegacy:\n  url: {legacy_url}\n  timeout: 30s\n"
        "native:\n  app: handlers.app:app\n  timeout: 30s\n"
        f"shadow:\n  timeout: 20s\n{shadow}routes:\n{routes}"
    )


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    # a file, not ":memory:": there, every thread shares one connection, so the flip history
    # writing beside the parity writer could roll back the writer's transaction
    opened = open_store(f"sqlite:///{tmp_path}/parity.db")
    yield opened
    opened.close()
