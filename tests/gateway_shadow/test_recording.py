"""`record:` in the gateway: the sampled requests of a route, in any mode, kept in the parity
store with the status the client got; credentials never kept; the client's exchange unchanged."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest

from proxy.table.model import TableError
from proxy.table.parser import parse
from shadow.redact import MASK
from shadow.runstore import read_recorded
from shadow.settings import sampled
from shadow.store import Store, open_store
from tests.gateway_shadow.conftest import Legacy, Native, running, settle, shadow_gateway

SECRET = "s3cr3t-token-value"


def table(legacy_url: str, record: str, routes: str) -> str:
    return (
        f"version: 1\nlegacy:\n  url: {legacy_url}\n  timeout: 5s\n"
        "native:\n  app: tests.gateway_shadow.conftest:unused\n  timeout: 5s\n"
        f"shadow:\n  noise_sample: 0\n  redact: [body.card]\n{record}routes:\n{routes}"
    )


LEGACY_ROUTES = """\
  - id: echo
    match: "GET|POST /echo/{rest:path}"
    mode: legacy
    record: {sample: 1, max_body: 1KiB}
"""


async def test_a_legacy_route_keeps_its_requests_without_credentials(
    legacy: Legacy, native: Native, store: Store
) -> None:
    text = table(legacy.url, "", LEGACY_ROUTES)
    gateway = shadow_gateway(legacy.url, native, store, text=text)
    body = json.dumps({"name": "ann", "password": SECRET, "card": "4111"}).encode()
    async with running(gateway) as client:
        got = await client.get(
            f"/echo/a?page=2&api_key={SECRET}",
            headers={"Authorization": f"Bearer {SECRET}", "Accept": "application/json"},
        )
        posted = await client.post(
            "/echo/b", content=body, headers={"Content-Type": "application/json",
                                              "Cookie": f"sid={SECRET}"},
        )  # fmt: skip
        await settle(gateway)
    assert (got.status_code, posted.status_code) == (200, 200)
    # the side got the client's body whole: the tee only reads
    assert legacy.seen[1]["body_sha256"] == hashlib.sha256(body).hexdigest()

    kept = list(read_recorded(store))
    assert [(r.route, r.method, r.status, r.side) for r in kept] == [
        ("echo", "GET", 200, "legacy"), ("echo", "POST", 200, "legacy"),
    ]  # fmt: skip
    get, post = kept
    assert get.target == f"/echo/a?page=2&api_key={MASK}"
    assert ("accept", "application/json") in get.headers
    assert json.loads(post.body) == {"name": "ann", "password": MASK, "card": MASK}
    everything = repr(kept)
    assert SECRET not in everything and "authorization" not in everything.lower()
    assert "cookie" not in everything.lower()


async def test_the_sample_chooses_by_request_id(
    legacy: Legacy, native: Native, store: Store
) -> None:
    routes = LEGACY_ROUTES.replace("sample: 1,", "sample: 0.5,")
    gateway = shadow_gateway(legacy.url, native, store, text=table(legacy.url, "", routes))
    ids = [f"rec-{i}" for i in range(40)]
    async with running(gateway) as client:
        for rid in ids:
            await client.get("/echo/x", headers={"X-Request-ID": rid})
        await settle(gateway)
    expected = [rid for rid in ids if sampled(rid + "#record", 0.5)]
    assert 0 < len(expected) < len(ids)
    assert [r.request_id for r in read_recorded(store)] == expected


async def test_a_body_over_max_body_is_served_whole_and_not_kept(
    legacy: Legacy, native: Native, store: Store
) -> None:
    gateway = shadow_gateway(legacy.url, native, store, text=table(legacy.url, "", LEGACY_ROUTES))
    big = b'{"x": "' + b"y" * 4096 + b'"}'
    async with running(gateway) as client:
        response = await client.post(
            "/echo/big", content=big, headers={"Content-Type": "application/json"}
        )
        await client.post(
            "/echo/small", content=b"{}", headers={"Content-Type": "application/json"}
        )
        await settle(gateway)
    assert response.status_code == 200 and legacy.seen[0]["body_length"] == len(big)
    assert [r.target for r in read_recorded(store)] == ["/echo/small"]


async def test_a_table_default_records_every_route_and_a_route_can_opt_out(
    legacy: Legacy, native: Native, store: Store
) -> None:
    routes = """\
  - id: users.list
    match: GET /users
    mode: shadow
  - id: quiet
    match: GET /quiet
    mode: legacy
    record: {sample: 0}
"""
    text = table(legacy.url, "record: {sample: 1}\n", routes)
    gateway = shadow_gateway(legacy.url, native, store, text=text)
    async with running(gateway) as client:
        await client.get("/users")
        await client.get("/quiet")
        await client.get("/unrouted")
        await settle(gateway)
    assert [(r.route, r.side) for r in read_recorded(store)] == [("users.list", "legacy")]


async def test_an_all_legacy_table_that_records_opens_its_store(
    legacy: Legacy, native: Native, tmp_path: Path
) -> None:
    url = f"sqlite:///{tmp_path}/kept.db"
    text = table(legacy.url, "", LEGACY_ROUTES).replace("  noise_sample: 0\n", f"  store: {url}\n")
    gateway = shadow_gateway(legacy.url, native, None, text=text)
    async with running(gateway) as client:
        await client.get("/echo/one")
        await settle(gateway)
    opened = open_store(url, create=False)
    try:
        assert [r.target for r in read_recorded(opened)] == ["/echo/one"]
    finally:
        opened.close()


def test_record_is_validated_where_it_is_written() -> None:
    bad = table("http://127.0.0.1:1", "", LEGACY_ROUTES.replace("sample: 1, ", ""))
    with pytest.raises(TableError, match=r"routing.yaml:15: route 'echo': record needs sample"):
        parse(bad, "routing.yaml")
