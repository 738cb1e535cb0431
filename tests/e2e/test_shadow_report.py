"""PHP and the native handlers behind the gateway in shadow mode, with differences planted on two
routes: the report read back from the store names exactly those fields, with their kinds, and
`strangler report --format json` and `GET /_strangler/parity` print the same JSON."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from proxy.cli.main import main
from shadow.report import RouteReport, build_report
from shadow.store import open_store
from tests.e2e.conftest import API, Legacy, native_on, running, table_text
from tests.gateway_shadow.conftest import settle, shadow_gateway

pytestmark = pytest.mark.integration

ROUTES = f"""\
  - id: users.list
    match: GET {API}/users
    mode: shadow
  - id: invoices.list
    match: GET {API}/invoices
    mode: shadow
  - id: products.list
    match: GET {API}/products
    mode: shadow
  - id: categories.list
    match: GET {API}/categories
    mode: shadow
  - id: users.show
    match: GET {API}/users/{{id:int}}
    mode: shadow
"""
TRAFFIC = [
    "/users",
    "/users?page=2",
    "/invoices",
    "/invoices?page=2",
    "/products",
    "/categories?include=products",
    *(f"/users/{i}" for i in range(1, 6)),
]

# room for every in-process call, at once and in time
ROOM = "  max_in_process: 16\n  in_process_share: 1\n"


def rename_first_user(document: Any) -> Any:
    document["data"][0]["attributes"]["first_name"] += " (native)"
    return document


def reverse_invoices(document: Any) -> Any:
    document["data"].reverse()
    return document


async def test_the_report_shows_exactly_the_planted_differences(
    legacy: Legacy, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    native = native_on(
        legacy.db_url, {f"{API}/users": rename_first_user, f"{API}/invoices": reverse_invoices}
    )
    url = f"sqlite:///{tmp_path}/parity.db"
    store = open_store(url)
    # room for every candidate: one still running when the next request comes is not shed
    table = table_text(legacy.url, ROUTES, "  noise_sample: 1.0\n" + ROOM)
    (tmp_path / "routing.yaml").write_text(table)
    gateway = shadow_gateway(legacy.url, native, store, routes="", text=table)
    headers = {"Authorization": f"Bearer {legacy.token}", "Accept": "application/json"}
    async with running(gateway) as client:
        for n, path in enumerate(TRAFFIC):
            response = await client.get(API + path, headers={**headers, "X-Request-ID": f"e2e-{n}"})
            assert response.status_code == 200, (path, response.text[:300])
        await settle(gateway)
        parity = (await client.get("/_strangler/parity")).json()
    assert native.calls == len(TRAFFIC)

    reports = {r.route: r for r in build_report(store.read_rows()).routes}
    assert sorted(reports) == ["categories.list", "invoices.list", "products.list", "users.list",
                               "users.show"]  # fmt: skip
    assert planted(reports["users.list"]) == [("body.data[*].attributes.first_name", ("value",))]
    assert planted(reports["invoices.list"]) == [("body.data", ("order",))]
    for name in ("products.list", "categories.list", "users.show"):
        r = reports[name]
        assert (r.compared, r.matched, r.fields) == (r.requests, r.requests, ()), name
    for r in reports.values():
        assert (r.errored, r.skipped, r.shed, r.noise) == (0, 0, 0, ())
        assert r.aa_compared == r.compared  # noise_sample 1.0: every read was called twice

    assert main(["report", "--config", str(tmp_path / "routing.yaml"), "--store", url,
                 "--format", "json"]) == 0  # fmt: skip
    assert json.loads(capsys.readouterr().out) == parity
    store.close()


def planted(report: RouteReport) -> list[tuple[str, tuple[str, ...]]]:
    """The fields of a route where every comparison differed, and only those."""
    assert report.compared == report.mismatched == report.requests > 0
    assert all(f.count == report.compared for f in report.fields)
    return [(f.field, f.kinds) for f in report.fields]
