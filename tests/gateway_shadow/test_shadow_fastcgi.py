"""Shadow mode with the legacy side reached over FastCGI (a scripted PHP-FPM): the primary's
answer reaches the client, the candidate's is compared with it as with an HTTP legacy side; the
legacy side as the candidate is observed over FastCGI and its failures are recorded as errors; a
body read once reaches it whole."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from proxy.app import create_app
from proxy.dispatch import Gateway
from proxy.settings import Settings
from proxy.table.parser import parse
from shadow.report import build_report
from shadow.store import Store
from tests.gateway_shadow.conftest import USERS, Native, running, settle
from tests.support.fake_fpm import Connection, FakeFpm, fake_fpm

ROUTES = """\
  - id: users.list
    match: GET /users
    mode: shadow
  - id: users.create
    match: POST /users
    mode: shadow
    shadow: {writes: dry_run}
  - id: native.first
    match: "GET|POST /native-first"
    mode: shadow
    shadow: {primary: native, writes: dry_run}
"""


def table_text(socket: Path, root: Path) -> str:
    return (
        f"version: 1\nlegacy:\n  fastcgi: unix:{socket}\n  root: {root}\n  timeout: 5s\n"
        "native:\n  app: tests.gateway_shadow.conftest:unused\n  timeout: 5s\n"
        "shadow:\n  max_in_process: 16\n  in_process_share: 1\n  noise_sample: 0\n"
        f"routes:\n{ROUTES}"
    )


async def php(conn: Connection, fpm: FakeFpm) -> None:
    """The legacy application: the users list as JSON for every request, a failure when the
    client asks for one."""
    while (request := await conn.request()) is not None:
        fpm.requests.append(request)
        if b"fail=1" in request.params.get(b"QUERY_STRING", b""):
            await conn.answer(b"Status: 200\r\n")  # no end of head: malformed
            continue
        body = json.dumps(USERS).encode()
        await conn.answer(b"Content-Type: application/json; charset=utf-8\r\n\r\n" + body)


@pytest.fixture
async def fpm(tmp_path: Path) -> AsyncIterator[FakeFpm]:
    async with fake_fpm(php, socket=tmp_path / "fpm.sock") as running_fpm:
        yield running_fpm


@pytest.fixture
def root(tmp_path: Path) -> Path:
    docroot = tmp_path / "public"
    docroot.mkdir()
    (docroot / "index.php").write_text("<?php // the front controller")
    return docroot


def gateway_of(fpm: FakeFpm, root: Path, native: Native, store: Store) -> Gateway:
    table = parse(table_text(Path(fpm.address.path), root))
    return create_app(Settings(watch=False), table=table, native_app=native, store=store)


async def test_a_fastcgi_primary_answers_and_is_compared_like_an_http_one(
    fpm: FakeFpm, root: Path, native: Native, store: Store
) -> None:
    gateway = gateway_of(fpm, root, native, store)
    async with running(gateway) as client:
        response = await client.get("/users?page=1")
        await settle(gateway)
    assert response.status_code == 200 and response.json() == USERS
    assert fpm.requests[0].params[b"SCRIPT_FILENAME"] == str(root / "index.php").encode()
    assert fpm.requests[0].params[b"REQUEST_URI"] == b"/users?page=1"
    [report] = [r for r in build_report(store.read_rows()).routes if r.route == "users.list"]
    assert (report.compared, report.matched) == (1, 1)


async def test_a_fastcgi_primary_gets_the_body_read_once_for_both_sides(
    fpm: FakeFpm, root: Path, native: Native, store: Store
) -> None:
    gateway = gateway_of(fpm, root, native, store)
    body = b'{"name": "Cy"}' * 1000
    async with running(gateway) as client:
        response = await client.post("/users", content=body)
        await settle(gateway)
    assert response.status_code == 200
    assert native.seen[0]["mark"] == "1"  # the dry run first
    request = fpm.requests[-1]
    assert request.stdin == body
    assert request.params[b"CONTENT_LENGTH"] == str(len(body)).encode()


async def test_the_fastcgi_side_as_candidate_is_observed_and_its_failures_are_errors(
    fpm: FakeFpm, root: Path, native: Native, store: Store
) -> None:
    gateway = gateway_of(fpm, root, native, store)
    async with running(gateway) as client:
        first = await client.get("/native-first")
        await settle(gateway)
        failed = await client.get("/native-first?fail=1")
        await settle(gateway)
        posted = await client.post("/native-first", content=b'{"name":"Cy"}')
        await settle(gateway)
    assert first.json() == {"ok": True}  # native answers the client
    assert failed.status_code == 200  # whatever the candidate did
    assert posted.status_code == 201
    [report] = [r for r in build_report(store.read_rows()).routes if r.route == "native.first"]
    assert report.errored == 1  # the malformed FastCGI answer
    assert report.mismatched == 1  # the legacy users list against native's {"ok": true}
    # a write with primary native is never sent to the legacy side (it has no dry run)
    assert [r.params[b"REQUEST_METHOD"] for r in fpm.requests] == [b"GET", b"GET"]
