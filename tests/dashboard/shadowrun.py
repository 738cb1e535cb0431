"""A real shadow run for the dashboard to show: the shadow Experiment and StoreWriter fed with
observations of a users list, into a real parity store, with differences planted on purpose.

Planted on users.list (primary legacy, candidate native):
- `body.data[*].attributes.role`   value: "admin" against "Admin", from the 31st request on
                                   (50 minutes ago: a new differing field for the gate)
- `body.meta.total`                type: 2 against "2", from the 31st request on
- `body.meta.generated_at`         differs between two legacy answers too (A/A): noise
- one request whose candidate raises: an errored comparison
- `body.data[*].attributes.email` is redacted before storage: SECRET_EMAIL must never show
invoices.list answers the same on both sides: its gate (min_samples 10, quiet_for 0) is ready.
"""

from __future__ import annotations

import itertools
import json
import time
from typing import Any

from proxy.operator.history import Change, FlipStore
from proxy.table.model import RouteTable
from proxy.table.parser import parse
from shadow.experiment import Experiment, ShadowSettings
from shadow.observation import Observation, Side
from shadow.records import RequestInfo
from shadow.store import Store, StoreWriter

SECRET_EMAIL = "ada.secret@example.test"
REQUESTS = 40
JSON = (("content-type", "application/json"),)
_clock = itertools.count()


def table_text(store_url: str) -> str:
    return (
        "version: 1\nlegacy:\n  url: http://127.0.0.1:9\nnative:\n  app: handlers.app:app\n"
        f"shadow:\n  store: {store_url}\n  redact: ['body.data[*].attributes.email']\n"
        "routes:\n"
        "  - {id: users.list, match: GET /api/v1/admin/users, mode: shadow}\n"
        "  - id: invoices.list\n    match: GET /api/v1/admin/invoices\n    mode: shadow\n"
        "    gate: {min_samples: 10, quiet_for: 0}\n"
        "  - {id: users.show, match: 'GET /api/v1/admin/users/{id:int}', mode: native}\n"
    )


def table_of(store_url: str) -> RouteTable:
    return parse(table_text(store_url))


def users(role: str, total: Any, stamp: str) -> bytes:
    return json.dumps(
        {
            "data": [
                {"id": 1, "attributes": {"name": "Ada", "email": SECRET_EMAIL, "role": role}},
                {
                    "id": 2,
                    "attributes": {"name": "Bob", "email": "bob@example.test", "role": "user"},
                },
            ],
            "meta": {"total": total, "generated_at": stamp},
        }
    ).encode()


def legacy_users() -> Observation:
    stamp = f"2026-11-23T09:00:{next(_clock) % 60:02d}Z"  # a new second per answer
    return Observation.of(Side.PRIMARY, 200, JSON, users("admin", 2, stamp), 0.004)


def native_users(fixed: bool) -> Observation:
    stamp = f"2026-11-23T09:00:{next(_clock) % 60:02d}Z"
    body = users("admin", 2, stamp) if fixed else users("Admin", "2", stamp)
    return Observation.of(Side.CANDIDATE, 200, JSON, body, 0.002)


async def shadow_run(store: Store, table: RouteTable) -> None:
    """Run the requests through a real Experiment into `store`, and record two flips.

    The requests are spread over the last 200 minutes (the experiment's clock), so the trend
    has points: no parity while generated_at is not yet known as noise (20 A/A pairs), full
    parity once it is, none again once the planted differences start.
    """
    now = time.time()
    at = [now]
    writer = StoreWriter(store)
    settings = ShadowSettings.from_config(table.routes[0].shadow, noise_sample=1.0)
    experiment = Experiment(writer, settings, clock=lambda: at[0], tree_diffs_per_second=None)
    for i in range(REQUESTS):
        at[0] = now - (REQUESTS - i) * 300
        request = RequestInfo("GET", "/api/v1/admin/users", f"page={i}", f"req-{i}")

        async def candidate(n: int = i) -> Observation:
            if n == 7:
                raise ConnectionResetError("native handler reset the connection")
            return native_users(fixed=n < 30)

        async def again() -> Observation:
            return legacy_users()

        experiment.submit("users.list", request, legacy_users(), candidate, again)
        invoices = Observation.of(Side.PRIMARY, 200, JSON, b'{"data": []}', 0.003)

        async def same() -> Observation:
            return Observation.of(Side.CANDIDATE, 200, JSON, b'{"data": []}', 0.002)

        invoice_request = RequestInfo("GET", "/api/v1/admin/invoices", "", f"inv-{i}")
        experiment.submit("invoices.list", invoice_request, invoices, same, settings=settings)
        await experiment.drain()
    await experiment.close()
    await writer.close()
    flips = FlipStore.on(store.engine)
    flips.record([Change("users.list", "legacy", "shadow")], now - 210 * 60, "file", "d1" * 32)
    flips.record([Change("invoices.list", "native", "shadow")], now - 600, "admin", "d2" * 32)
