"""Shadow mode as the operator sees it: a real run through the gateway, its outcomes and the
candidate's latency in the metrics, and its planted difference on the dashboard."""

from __future__ import annotations

import re

from prometheus_client import CollectorRegistry

from proxy.app import create_app
from proxy.operator.metrics import Metrics
from proxy.settings import Settings
from proxy.table.parser import parse
from shadow.store import Store
from tests.gateway_shadow.conftest import Legacy, Native, running, settle, table_text
from tests.proxy.test_metrics import scrape

ROUTES = "  - {id: users.list, match: GET /users, mode: shadow}\n"


async def test_a_shadow_run_is_counted_and_its_difference_shown(
    legacy: Legacy, native: Native, store: Store
) -> None:
    native.fault = "differ"  # "Bob" on the legacy side, "Rob" on the native one
    gateway = create_app(
        Settings(watch=False),
        table=parse(table_text(legacy.url, "  noise_sample: 0.0\n", ROUTES)),
        native_app=native,  # type: ignore[arg-type]  # an ASGI app, typed loosely
        store=store,
        metrics=Metrics(CollectorRegistry()),
    )
    async with running(gateway) as client:
        for _ in range(5):
            assert (await client.get("/users")).status_code == 200
        await settle(gateway)
        seen = scrape((await client.get("/_strangler/metrics")).text)
        page = (await client.get("/_strangler/route/users.list")).text
    outcome = (("outcome", "mismatched"), ("route", "users.list"))
    assert seen["strangler_shadow_outcomes_total", outcome] == 5
    requests = (("mode", "shadow"), ("route", "users.list"), ("status", "200"))
    assert seen["strangler_requests_total", requests] == 5
    # the client's side (legacy) timed by the gateway, the candidate (native) by the experiment
    for side in ("legacy", "native"):
        key = (("route", "users.list"), ("side", side))
        assert seen["strangler_side_duration_seconds_count", key] == 5
    assert seen["strangler_store_dropped_total", ()] == 0
    found = re.search(r'data-field="body.data\[\*\].name"><b class="count">(\d+)</b>', page)
    assert found is not None and found[1] == "5"
    assert "<mark>&quot;Bob&quot;</mark>" in page and "<mark>&quot;Rob&quot;</mark>" in page
