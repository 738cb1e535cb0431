"""Replay runs on the dashboard: the list of runs, a run's routes, fields and pairs, and never a
run's evidence among the live routes."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest

from proxy.operator.admin import AdminContext, create_admin
from proxy.operator.dashboard import Sources, dashboard_routes
from proxy.table.parser import parse
from proxy.table.reload import Reloader
from proxy.table.snapshot import TableHolder, build_snapshot
from shadow.compare import Difference, Kind, Outcome
from shadow.records import RequestInfo, Result, Sample, Source, fold
from shadow.runs import RunInfo, RunState, Totals
from shadow.runstore import begin, end
from shadow.store import Store, open_store

TABLE = """\
version: 1
legacy: {url: "http://127.0.0.1:9"}
native: {app: "tests.replay.apps:native"}
routes:
  - {id: users.show, match: "GET /api/users/{id:int}", mode: shadow}
"""


def mismatch(at: float, n: int) -> Result:
    diff = Difference("body.data.name", "body.data.name", Kind.VALUE)
    legacy = json.dumps({"status": 200, "headers": {}, "body": {"data": {"name": f"user {n}"}}})
    native = json.dumps({"status": 200, "headers": {}, "body": {"data": {"name": f"USER {n}"}}})
    request = RequestInfo("GET", f"/api/users/{n}", "", f"run1.{n}")
    return Result("users.show", at, Outcome.MISMATCHED, Source.PC, 0.01, 0.01, (diff,),
                  Sample(request, legacy, native))  # fmt: skip


@pytest.fixture
async def admin(tmp_path: Path) -> AsyncIterator[httpx.AsyncClient]:
    store: Store = open_store(f"sqlite:///{tmp_path}/p.db")
    begin(store, RunInfo("20250611-100000-ab12", 1000.0, "access log access.log", {}))
    store.write(fold([mismatch(1001.0, 7), Result("users.show", 1002.0, Outcome.MATCHED)]),
                run="20250611-100000-ab12")  # fmt: skip
    end(store, "20250611-100000-ab12", RunState.FINISHED, 1010.0, Totals(read=3, sent=2))
    holder = TableHolder(build_snapshot(parse(TABLE)))
    ctx = AdminContext(holder, Reloader(holder, None, {}), None)
    app = create_admin(ctx, dashboard_routes(ctx, Sources(store=lambda _t: store)))
    transport = httpx.ASGITransport(app, client=("127.0.0.1", 4444))
    async with httpx.AsyncClient(transport=transport, base_url="http://gateway.test") as client:
        yield client
    store.close()


async def test_the_runs_page_lists_each_run_with_a_link(admin: httpx.AsyncClient) -> None:
    page = (await admin.get("/_strangler/runs")).text
    assert '<a href="/_strangler/runs/20250611-100000-ab12">20250611-100000-ab12</a>' in page
    assert "access log access.log" in page and 'class="badge ready">finished' in page
    assert '<a href="/_strangler/runs">replay runs</a>' in (await admin.get("/_strangler/")).text


async def test_a_run_page_shows_its_routes_fields_and_pairs(admin: httpx.AsyncClient) -> None:
    response = await admin.get("/_strangler/runs/latest")
    assert response.status_code == 200
    page = response.text
    assert "Replay 20250611-100000-ab12" in page and "3 requests read, 2 sent" in page
    assert '<td class="num">1</td>' in page and "50.0%" in page  # 1 matched, 1 mismatched
    assert 'data-field="body.data.name"' in page
    assert "user 7" in page and "USER 7" in page and "<mark" in page  # the pair, highlighted
    assert "strangler export-tests --run 20250611-100000-ab12" in page
    assert "script" not in page.lower()


async def test_a_runs_evidence_never_shows_among_the_live_routes(admin: httpx.AsyncClient) -> None:
    overview = (await admin.get("/_strangler/")).text
    assert '<td class="num compared">0</td>' in overview
    assert "USER 7" not in (await admin.get("/_strangler/route/users.show")).text


async def test_an_unknown_run_is_404(admin: httpx.AsyncClient) -> None:
    response = await admin.get("/_strangler/runs/nope")
    assert response.status_code == 404 and "No replay run nope" in response.text
