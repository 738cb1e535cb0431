"""A parity store filled by a real shadow run, and the admin surface that shows it."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from starlette.applications import Starlette

from proxy.operator.admin import AdminContext, create_admin
from proxy.operator.dashboard import Sources, dashboard_routes
from proxy.operator.history import FlipStore
from proxy.table.model import RouteTable
from proxy.table.reload import Reloader
from proxy.table.snapshot import TableHolder, build_snapshot
from shadow.store import Store, open_store
from tests.dashboard.shadowrun import shadow_run, table_of


@dataclass
class Evidence:
    store: Store
    table: RouteTable
    holder: TableHolder


def admin_app(
    evidence: Evidence, token: str | None = None, wall: Callable[[], float] = time.time
) -> Starlette:
    ctx = AdminContext(evidence.holder, Reloader(evidence.holder, None, {}), token, wall=wall)
    store = evidence.store
    sources = Sources(store=lambda _t: store, flips=lambda _t: FlipStore.on(store.engine))
    return create_admin(ctx, dashboard_routes(ctx, sources))


@pytest.fixture
async def evidence(tmp_path: Path) -> AsyncIterator[Evidence]:
    url = f"sqlite:///{tmp_path}/parity.db"
    table = table_of(url)
    store = open_store(url)
    await shadow_run(store, table)
    holder = TableHolder(build_snapshot(table))
    holder.counts.update({"users.list": 40, "invoices.list": 40, "users.show": 3})
    yield Evidence(store, table, holder)
    store.close()


@pytest.fixture
async def admin(evidence: Evidence) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(admin_app(evidence), client=("127.0.0.1", 4444))
    async with httpx.AsyncClient(transport=transport, base_url="http://gateway.test") as client:
        yield client
