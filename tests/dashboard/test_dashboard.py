"""The dashboard in-process: what the route list, a route page and the samples page show of a
real shadow run (tests/dashboard/shadowrun.py), and the admin surface's access rules."""

from __future__ import annotations

import argparse
import asyncio
import html
import json
import re
from pathlib import Path

import httpx
import pytest

from proxy.cli.flips import configure_gate, run_gate
from proxy.operator.admin import AdminContext, create_admin
from proxy.operator.dashboard import Sources, dashboard_routes
from proxy.table.reload import Reloader
from shadow.store import open_store
from tests.dashboard.conftest import Evidence, admin_app
from tests.dashboard.shadowrun import SECRET_EMAIL, table_text


def row_of(page: str, route: str) -> str:
    found = re.search(rf'<tr><td><a href="/_strangler/route/{re.escape(route)}">.*?</tr>', page)
    assert found is not None, f"no row for {route}"
    return found[0]


def count_of(page: str, field: str) -> int:
    found = re.search(rf'data-field="{re.escape(field)}"><b class="count">(\d+)</b>', page)
    assert found is not None, f"no count for {field}"
    return int(found[1])


async def test_the_route_list_shows_mode_traffic_parity_trend_and_gate(
    admin: httpx.AsyncClient,
) -> None:
    response = await admin.get("/_strangler/")
    assert response.status_code == 200
    assert response.headers["content-type"] == "text/html; charset=utf-8"
    page = response.text
    users = row_of(page, "users.list")
    assert 'class="badge mode-shadow"' in users
    assert '<td class="num served">40</td>' in users  # since start, every mode
    for column, n in (("shadowed", 40), ("compared", 40), ("unsampled", 0), ("shed", 0)):
        assert f'<td class="num {column}">{n}</td>' in users  # evidence in the window
    assert "<th>served since start</th><th>shadowed (24h)</th>" in page
    assert "<polyline" in users  # the trend has points
    assert 'data-gate="blocked"' in users
    assert "40 of 1000 compared samples in the last 24h" in users
    assert "legacy → shadow" in users  # the last flip
    invoices = row_of(page, "invoices.list")
    assert 'data-gate="ready"' in invoices and '<td class="num parity">100.0%</td>' in invoices
    show = row_of(page, "users.show")
    assert "mode-native" in show and "flipped" in show


async def test_a_route_page_shows_the_field_tree_noise_and_the_gate(
    admin: httpx.AsyncClient,
) -> None:
    page = (await admin.get("/_strangler/route/users.list")).text
    assert count_of(page, "body.data[*].attributes.role") == 10
    assert count_of(page, "body.meta.total") == 10
    noise = re.search(r'data-field="body.meta.generated_at">.*?</li>', page)
    assert noise is not None and "noise (A/A 100.0%)" in noise[0]
    # the tree nests the path: body > data[*] > attributes > role
    assert re.search(r"data\[\*\]</span><ul><li><span class=\"seg\">attributes", page)
    assert "1 new differing field in the last 1h" not in page  # two fields are new, not one
    assert re.search(r"2 new differing fields in the last 1h: body\.\S+ \(\d+m ago\)", page)
    assert "<td>legacy → shadow</td><td>file</td>" in page  # the flip beside the trend
    assert 'class="flip"' in page  # and on it


async def test_a_sample_pair_marks_what_differs_and_is_stored_redacted(
    admin: httpx.AsyncClient,
) -> None:
    page = (await admin.get("/_strangler/route/users.list")).text
    pair = re.search(r'<section class="sample" id="sample-0">.*?</section>', page, re.S)
    assert pair is not None
    primary, candidate = re.findall(r'<pre class="side \w+">(.*?)</pre>', pair[0], re.S)
    assert "<mark>&quot;admin&quot;</mark>" in primary
    assert "<mark>&quot;Admin&quot;</mark>" in candidate
    assert "&quot;total&quot;: <mark>2</mark>" in primary
    assert "&quot;total&quot;: <mark>&quot;2&quot;</mark>" in candidate
    assert "&quot;name&quot;: &quot;Ada&quot;" in primary  # equal parts are not marked
    assert SECRET_EMAIL not in page and "[redacted]" in page


async def test_the_samples_page_lists_every_stored_pair_of_a_field(
    admin: httpx.AsyncClient,
) -> None:
    response = await admin.get(
        "/_strangler/route/users.list/samples", params={"field": "body.meta.total"}
    )
    assert response.status_code == 200
    assert 1 < response.text.count('<section class="sample"') <= 5  # bounded per field


async def test_an_errored_comparison_shows_its_error(admin: httpx.AsyncClient) -> None:
    page = (await admin.get("/_strangler/route/users.list")).text
    assert "ConnectionResetError: native handler reset the connection" in page


@pytest.mark.parametrize("path", ["/_strangler/route/nope", "/_strangler/route/nope/samples"])
async def test_an_unknown_route_is_404(admin: httpx.AsyncClient, path: str) -> None:
    response = await admin.get(path, params={"field": "body"})
    assert response.status_code == 404
    assert "No route nope" in response.text


async def test_pages_run_no_script_and_allow_none(admin: httpx.AsyncClient) -> None:
    for path in ("/_strangler/", "/_strangler/route/users.list"):
        response = await admin.get(path)
        assert "<script" not in response.text.lower()
        assert "default-src 'none'" in response.headers["content-security-policy"]
        assert response.headers["cache-control"] == "no-store"


async def test_the_token_rules_of_the_admin_surface_apply(evidence: Evidence) -> None:
    transport = httpx.ASGITransport(admin_app(evidence, token="s3cret"), client=("10.0.0.9", 1))
    async with httpx.AsyncClient(transport=transport, base_url="http://gw.test") as client:
        for path in ("/_strangler/", "/_strangler/route/users.list"):
            assert (await client.get(path)).status_code == 401
            ok = await client.get(path, headers={"Authorization": "Bearer s3cret"})
            assert ok.status_code == 200
    remote = httpx.ASGITransport(admin_app(evidence), client=("10.0.0.9", 1))
    async with httpx.AsyncClient(transport=remote, base_url="http://gw.test") as client:
        assert (await client.get("/_strangler/")).status_code == 403


async def test_a_store_that_cannot_be_read_is_said_on_the_page(evidence: Evidence) -> None:
    broken = open_store("sqlite://")  # an empty in-memory store, its tables then dropped
    with broken.engine.begin() as conn:
        conn.exec_driver_sql("DROP TABLE shadow_counts")
    ctx = AdminContext(evidence.holder, Reloader(evidence.holder, None, {}), None)
    app = create_admin(ctx, dashboard_routes(ctx, Sources(store=lambda _t: broken)))
    transport = httpx.ASGITransport(app, client=("127.0.0.1", 1))
    async with httpx.AsyncClient(transport=transport, base_url="http://gw.test") as client:
        response = await client.get("/_strangler/")
    assert response.status_code == 200
    assert "the parity store cannot be read: OperationalError" in response.text
    assert 'data-gate="blocked"' in row_of(response.text, "users.list")


async def test_the_dashboard_and_strangler_gate_give_the_same_verdicts(
    admin: httpx.AsyncClient, evidence: Evidence, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = tmp_path / "routing.yaml"
    config.write_text(table_text(str(evidence.store.engine.url)))
    parser = argparse.ArgumentParser()
    configure_gate(parser)
    code = await asyncio.to_thread(
        run_gate, parser.parse_args(["--config", str(config), "--format", "json"])
    )
    cli = {r["route"]: r for r in json.loads(capsys.readouterr().out)["routes"]}
    assert code == 1  # users.list is blocked
    page = (await admin.get("/_strangler/")).text

    def timeless(text: str) -> str:  # the two ran milliseconds apart: "50m ago" may tick over
        return re.sub(r"\(\d+m ago\)", "(ago)", text)

    for route, verdict in cli.items():
        row = timeless(row_of(page, route))
        assert f'data-gate="{verdict["status"]}"' in row
        assert all(timeless(html.escape(reason)) in row for reason in verdict["reasons"])
