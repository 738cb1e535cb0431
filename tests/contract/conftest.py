"""Targets of the contract suite: the legacy PHP application on SQLite and on MariaDB, plus any
native implementation plugged in through ``tests/contract/native.py`` (see README.md).

Every target gets its own freshly seeded database, so writes made through one target never show
up in another. Servers and databases live for the whole session; the suite is ordered so that
one target finishes before the next one starts.
"""

from __future__ import annotations

import contextlib
import os
import shlex
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest
import sqlalchemy as sa

from tests.support.services import (
    ROOT,
    mariadb_database,
    mariadb_dsn,
    mariadb_url,
    php_server,
    seed_legacy,
)

SCALE = int(os.environ.get("CONTRACT_SCALE", "30"))
SEED = 7
TIMEZONE = os.environ.get("CONTRACT_TIMEZONE", "")
LEGACY_PUBLIC = ROOT / "legacy" / "public"

NativeFactory = Callable[[str, str], AbstractContextManager[str]]


def _native_factories() -> dict[str, NativeFactory]:
    try:
        from tests.contract.native import native_targets  # type: ignore[import-not-found]
    except ImportError:
        return {}
    return dict(native_targets())


NATIVE = _native_factories()
TARGET_NAMES = ["legacy-sqlite", "legacy-mariadb", "legacy-fastcgi", *NATIVE]


@dataclass(frozen=True)
class Target:
    """One implementation under test, with the database it serves."""

    name: str
    base_url: str
    tokens: dict[str, str]
    db_url: str
    dialect: str  # "sqlite" or "mysql"
    counts: dict[str, int] = field(default_factory=dict)


def seed_command() -> list[str] | None:
    """The seeder: `php legacy/bin/seed.php` unless LEGACY_SEED names another command."""
    override = os.environ.get("LEGACY_SEED")
    return shlex.split(override) if override else None


def seed(env: dict[str, str]) -> dict[str, Any]:
    """(Re)create the schema and fill it; returns the seeder's JSON report."""
    args = ["--scale", str(SCALE), "--seed", str(SEED)]
    if TIMEZONE:
        args += ["--timezone", TIMEZONE]
    return seed_legacy(env, *args, command=seed_command())


@contextlib.contextmanager
def seeded_database(kind: str, workdir: Path) -> Iterator[tuple[dict[str, str], str, str]]:
    """Yield (PHP environment, SQLAlchemy URL, dialect) of a freshly seeded database."""
    if kind == "mariadb":
        with mariadb_database("strangler_contract") as name:
            yield mariadb_dsn(name), mariadb_url(name), "mysql"
    else:
        path = workdir / "paymenter.sqlite"
        yield {"DB_DSN": f"sqlite:{path}"}, f"sqlite:///{path}", "sqlite"


@contextlib.contextmanager
def legacy_server(env: dict[str, str], log: Path) -> Iterator[str]:
    """`php -S` with the front controller as router script; its log goes to `log`."""
    with php_server(LEGACY_PUBLIC, LEGACY_PUBLIC / "index.php", env, log=log) as base_url:
        yield base_url


@contextlib.contextmanager
def legacy_over_fastcgi(env: dict[str, str], workdir: Path) -> Iterator[str]:
    """PHP-FPM, its workers given `env`, behind the gateway speaking FastCGI to it (no nginx,
    no `php -S`): the gateway's base URL."""
    from tests.gateway.live import live_gateway
    from tests.support.fpm import php_fpm

    settings = {f"env[{name}]": f'"{value}"' for name, value in env.items()}
    table = "version: 1\nlegacy:\n  fastcgi: unix:{socket}\n  root: {root}\n"
    gateway_dir = workdir / "gateway"
    gateway_dir.mkdir()
    with (
        php_fpm(children=4, settings=settings) as fpm,
        live_gateway(table.format(socket=fpm.socket, root=LEGACY_PUBLIC), gateway_dir) as gateway,
    ):
        yield gateway.url


# tests whose premise is a client talking to PHP directly, which a gateway in front changes:
# deselected there, never skipped (what the gateway does instead is tested in tests/gateway:
# an untrusted client's X-Forwarded-For never reaches PHP, whose REMOTE_ADDR is the client)
DIRECT_ONLY = {"test_forwarded_for_counts_only_from_trusted_proxies"}
GATEWAY_FRONTED = {"legacy-fastcgi", "native-workers-mariadb"}


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Modules marked LEGACY_ONLY (the server-rendered pages) run against legacy targets only;
    DIRECT_ONLY tests do not run on targets reached through the gateway."""
    kept, dropped = [], []
    for item in items:
        callspec = getattr(item, "callspec", None)
        name = callspec.params.get("target", "") if callspec is not None else ""
        direct = getattr(item, "originalname", "") in DIRECT_ONLY and name in GATEWAY_FRONTED
        legacy_only = getattr(getattr(item, "module", None), "LEGACY_ONLY", False)
        elsewhere = legacy_only and not str(name).startswith("legacy-")
        (dropped if direct or elsewhere else kept).append(item)
    if dropped:
        config.hook.pytest_deselected(items=dropped)
        items[:] = kept


def _database_kind(name: str) -> str:
    return "mariadb" if name.endswith("-mariadb") else "sqlite"


@pytest.fixture(scope="session", params=TARGET_NAMES)
def target(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Target]:
    name: str = request.param
    workdir = tmp_path_factory.mktemp(name)
    with contextlib.ExitStack() as stack:
        env, db_url, dialect = stack.enter_context(seeded_database(_database_kind(name), workdir))
        report = seed(env)
        if name == "legacy-fastcgi":
            base_url = stack.enter_context(legacy_over_fastcgi(env, workdir))
        elif name.startswith("legacy-"):
            base_url = stack.enter_context(legacy_server(env, workdir / "php-server.log"))
        else:
            base_url = stack.enter_context(NATIVE[name](db_url, dialect))
        yield Target(
            name=name,
            base_url=base_url.rstrip("/"),
            tokens=dict(report["tokens"]),
            db_url=db_url,
            dialect=dialect,
            counts=dict(report.get("counts", {})),
        )


_ENGINES: dict[str, sa.Engine] = {}


@pytest.fixture(scope="session")
def engines() -> Iterator[dict[str, sa.Engine]]:
    yield _ENGINES
    for engine in _ENGINES.values():
        engine.dispose()


@pytest.fixture
def db(target: Target, engines: dict[str, sa.Engine]) -> sa.Engine:
    """An autocommit engine on the target's database (every read sees the latest writes)."""
    engine = engines.get(target.name)
    if engine is None:
        engine = sa.create_engine(target.db_url, isolation_level="AUTOCOMMIT", pool_size=2)
        engines[target.name] = engine
    return engine


@pytest.fixture(scope="session")
def clients() -> Iterator[dict[str, httpx.Client]]:
    store: dict[str, httpx.Client] = {}
    yield store
    for client in store.values():
        client.close()


@pytest.fixture
def http(target: Target, clients: dict[str, httpx.Client]) -> httpx.Client:
    """A plain client on the target (no default headers)."""
    client = clients.get(target.name)
    if client is None:
        client = httpx.Client(base_url=target.base_url, timeout=60.0, follow_redirects=False)
        clients[target.name] = client
    return client


class Api:
    """Calls to the admin API with a named token and `Accept: application/json`."""

    def __init__(self, http: httpx.Client, target: Target) -> None:
        self.http = http
        self.target = target

    def headers(
        self, token: str | None = "admin", accept: str | None = "application/json"
    ) -> dict[str, str]:
        h: dict[str, str] = {}
        if token is not None:
            h["Authorization"] = f"Bearer {self.target.tokens.get(token, token)}"
        if accept is not None:
            h["Accept"] = accept
        return h

    def request(
        self,
        method: str,
        path: str,
        *,
        token: str | None = "admin",
        accept: str | None = "application/json",
        params: Any = None,
        json_body: Any = None,
        headers: dict[str, str] | None = None,
    ) -> httpx.Response:
        h = self.headers(token, accept)
        h.update(headers or {})
        url = "/api/v1/admin/" + path.lstrip("/")
        if json_body is None:
            return self.http.request(method, url, params=params, headers=h)
        return self.http.request(method, url, params=params, headers=h, json=json_body)

    def get(self, path: str, **kw: Any) -> httpx.Response:
        return self.request("GET", path, **kw)

    def post(self, path: str, body: Any, **kw: Any) -> httpx.Response:
        return self.request("POST", path, json_body=body, **kw)

    def patch(self, path: str, body: Any, **kw: Any) -> httpx.Response:
        return self.request("PATCH", path, json_body=body, **kw)

    def put(self, path: str, body: Any, **kw: Any) -> httpx.Response:
        return self.request("PUT", path, json_body=body, **kw)

    def delete(self, path: str, **kw: Any) -> httpx.Response:
        return self.request("DELETE", path, **kw)


@pytest.fixture
def api(http: httpx.Client, target: Target) -> Api:
    return Api(http, target)
