"""Shadowed writes run for real exactly once: the same writes through a shadow route with
`writes: dry_run` and through a legacy route leave two identically seeded databases in the
same state (row counts of every table, users, audit rows), while the native side did run each
write as a dry run first. On MariaDB the dry run's insert takes an auto-increment id that the
rollback does not give back, so the real rows get later ids: the gap the README documents."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx
import pytest
import sqlalchemy as sa

from shadow.report import build_report
from shadow.store import Store
from tests.e2e.conftest import API, Legacy, legacy_app, native_on, row_counts, running, table_text
from tests.gateway_shadow.conftest import shadow_gateway

pytestmark = pytest.mark.integration

# room for every in-process call, at once and in time
ROOM = "  max_in_process: 16\n  in_process_share: 1\n"


def routes(mode: str) -> str:
    block = "    shadow: {writes: dry_run}\n" if mode == "shadow" else ""
    return (
        f"  - id: users.create\n    match: POST {API}/users\n    mode: {mode}\n{block}"
        f"  - id: users.write\n    match: PUT|PATCH|DELETE {API}/users/{{id:int}}\n"
        f"    mode: {mode}\n{block}"
    )


async def write_some(client: httpx.AsyncClient, token: str) -> list[int]:
    headers = {"Authorization": f"Bearer {token}", "Accept": "application/json"}
    statuses = []
    for n in range(2):
        body = {"email": f"new{n}@example.test", "password": "a long password", "first_name": "N"}
        r = await client.post(f"{API}/users", json=body, headers=headers)
        statuses.append(r.status_code)
    taken = {"email": "new0@example.test", "password": "a long password"}
    statuses.append((await client.post(f"{API}/users", json=taken, headers=headers)).status_code)
    r = await client.put(f"{API}/users/3", json={"first_name": "Grace"}, headers=headers)
    statuses.append(r.status_code)
    r = await client.patch(f"{API}/users/4", json={"last_name": "Hopper"}, headers=headers)
    statuses.append(r.status_code)
    statuses.append((await client.delete(f"{API}/users/5", headers=headers)).status_code)
    return statuses


def state(db_url: str) -> dict[str, Any]:
    """What the writes leave behind; ids apart, as a dry run may move them (MariaDB)."""
    engine = sa.create_engine(db_url)
    try:
        with engine.connect() as conn:
            users = conn.execute(
                sa.text("SELECT email, first_name, last_name FROM users ORDER BY id")
            ).all()
            # values hold bcrypt hashes (salted) and times: which rows, not their bytes
            audits = conn.execute(
                sa.text("SELECT auditable_type, event, tags FROM audits ORDER BY id")
            ).all()
            ids = conn.execute(sa.text("SELECT id FROM users ORDER BY id")).scalars().all()
    finally:
        engine.dispose()
    return {"counts": row_counts(db_url), "users": users, "audits": audits, "ids": ids}


@pytest.fixture(params=["sqlite", "mariadb"])
def kind(request: pytest.FixtureRequest) -> str:
    return str(request.param)


async def test_no_row_is_ever_written_twice(kind: str, store: Store, tmp_path: Path) -> None:
    with legacy_app(tmp_path / "shadowed", kind) as legacy:
        before, after = await shadowed_writes(legacy, store)
    with legacy_app(tmp_path / "baseline", kind) as baseline:
        assert state(baseline.db_url) == before  # the same seed: the same starting point
        native_b = native_on(baseline.db_url)
        text = table_text(baseline.url, routes("legacy"))
        async with running(shadow_gateway(baseline.url, native_b, None, text=text)) as client:
            alone = await write_some(client, baseline.token)
        assert native_b.calls == 0
        expected = state(baseline.db_url)

    assert after.pop("statuses") == alone == [201, 201, 422, 200, 200, 204]
    ids, expected_ids = after.pop("ids"), expected.pop("ids")
    assert after == expected
    assert after["counts"]["users"] == before["counts"]["users"] + 2 - 1
    assert len(after["audits"]) > len(before["audits"])
    created, created_alone = ids[-2:], expected_ids[-2:]
    # each dry-run insert took an id on MariaDB (never given back); SQLite rolled it back
    gap = 1 if kind == "mariadb" else 0
    assert created == [created_alone[0] + gap, created_alone[1] + 2 * gap]
    reports = {r.route: r for r in build_report(store.read_rows()).routes}
    assert (reports["users.create"].compared, reports["users.write"].compared) == (3, 3)
    assert all(r.errored == 0 and r.aa_compared == 0 for r in reports.values())
    # the ids the two sides gave differ on MariaDB, and are ignored on writes
    assert reports["users.create"].mismatched == 0


async def shadowed_writes(legacy: Legacy, store: Store) -> tuple[dict[str, Any], dict[str, Any]]:
    before = state(legacy.db_url)
    native = native_on(legacy.db_url)
    # room for every dry run: a read's candidate still running must not shed the next write
    text = table_text(legacy.url, routes("shadow"), "  noise_sample: 1.0\n" + ROOM)
    async with running(shadow_gateway(legacy.url, native, store, text=text)) as client:
        statuses = await write_some(client, legacy.token)
    assert native.calls == 6  # every write ran on the native side too, as a dry run
    return before, {**state(legacy.db_url), "statuses": statuses}
