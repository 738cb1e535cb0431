"""The dashboard's first page: each route's stage, a rollback, the evidence for the next step."""

from __future__ import annotations

import html
import re

from proxy.operator.metrics import Metrics
from shadow.store import Store
from tests.modes.conftest import Faulty, Legacy, gateway, running, table

ROUTES = """\
  - id: users.list
    match: GET /users
    mode: canary
    canary: {share: 0.5, cohort: "header:x-user"}
    guard: {max_error_rate: 0.02, min_requests: 20}
  - id: users.show
    match: GET /users/{id:int}
    mode: native
  - id: invoices
    match: GET /invoices
    mode: shadow
  - id: pages
    match: GET /pages
    mode: legacy
"""


def text_of(page: str) -> str:
    return html.unescape(re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", page)))


async def test_the_first_page_shows_every_stage_and_a_rolled_back_canary(
    legacy: Legacy, native: Faulty, store: Store, metrics: Metrics
) -> None:
    native.fault = "500"
    gw = gateway(table(legacy.url, ROUTES), native, store, metrics)
    async with running(gw) as client:
        for user in range(60):
            await client.get("/users", headers={"x-user": f"u{user}"})
        await gw.guards.cycle()
        page = (await client.get("/_strangler/")).text
        route_page = (await client.get("/_strangler/route/users.list")).text
    shown = text_of(page)
    stages = [
        "1 legacy LaunchDarkly: off",
        "2 shadow LaunchDarkly: shadow",
        "3 canary 50 % LaunchDarkly: live",
        "4 native LaunchDarkly: rampdown",
    ]
    assert all(stage in shown for stage in stages)
    assert page.count('data-rolled-back="1"') == 1
    assert "error rate 100 % > 2 % over 5m, 20 requests" in shown
    assert "then `strangler resume users.list`" in shown
    sides = text_of(route_page)
    assert re.search(r"legacy \d+ 0 % ", sides)
    assert re.search(r"native 20 100 % ", sides)
