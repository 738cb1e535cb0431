"""Replay sources: nginx's combined format and the gateway's own JSON access log, plain or
gzip-compressed; what each line gives, and what is not a request."""

from __future__ import annotations

import gzip
import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from shadow.records import Recorded
from shadow.redact import MASK
from shadow.sources import Request, Unreadable, from_recorded, parse_line, read_access_log
from tests.gateway.conftest import FakeUpstream, gateway_for, make_table, running

NGINX = (
    '203.0.113.9 - ann [10/Oct/2024:13:55:36 -0700] "GET /api/v1/admin/users?page=2&sort=-id '
    'HTTP/1.1" 200 2326 "https://shop.example/start" "Mozilla/5.0 (X11; Linux x86_64)"'
)


def test_a_combined_line_gives_method_target_time_and_status() -> None:
    found = parse_line(NGINX, "access.log:1")
    assert found == Request(
        "GET", "/api/v1/admin/users?page=2&sort=-id", "access.log:1",
        datetime(2024, 10, 10, 20, 55, 36, tzinfo=UTC).timestamp(), status=200, side="legacy",
    )  # fmt: skip


@pytest.mark.parametrize(
    ("line", "why"),
    [
        ('1.2.3.4 - - [10/Oct/2024:13:55:36 +0000] "-" 400 0 "-" "-"', "not a request line"),
        ('1.2.3.4 - - [10/Oct/2024:13:55:36 +0000] "\\x16\\x03\\x01" 400 0 "-" "-"',
         "not a request line"),
        ('1.2.3.4 - - [10/Foo/2024:13:55:36 +0000] "GET / HTTP/1.1" 200 1 "-" "-"', "bad time"),
        ("a line of something else", "combined format"),
        ("{not json", "not JSON"),
    ],
    ids=["no-request", "tls-garbage", "bad-month", "other-format", "bad-json"],
)  # fmt: skip
def test_lines_that_are_not_requests_are_unreadable_and_say_why(line: str, why: str) -> None:
    found = parse_line(line, "x:1")
    assert isinstance(found, Unreadable) and why in found.why


def test_nginx_escapes_in_the_request_are_read_back() -> None:
    line = NGINX.replace("sort=-id", "q=\\x22quoted\\x22")
    found = parse_line(line, "a:1")
    assert isinstance(found, Request) and found.target.endswith('q="quoted"')


def test_gateway_lines_other_than_access_lines_are_skipped_without_a_count() -> None:
    assert parse_line('{"event": "parity_store_opened", "level": "info"}', "g:1") is None
    admin = {"event": "access", "mode": "admin", "method": "GET", "path": "/_strangler/"}
    assert parse_line(json.dumps(admin), "g:2") is None


def test_a_gzip_rotated_log_reads_as_the_plain_one(tmp_path: Path) -> None:
    lines = [NGINX, "garbage", NGINX.replace("page=2", "page=3")]
    plain, packed = tmp_path / "access.log.1", tmp_path / "access.log.2.gz"
    plain.write_text("\n".join(lines) + "\n")
    packed.write_bytes(gzip.compress(plain.read_bytes()))
    read = list(read_access_log(plain))
    assert [getattr(r, "target", None) for r in read] == [
        "/api/v1/admin/users?page=2&sort=-id", None, "/api/v1/admin/users?page=3&sort=-id",
    ]  # fmt: skip
    assert [r.origin for r in read_access_log(packed)] == [
        "access.log.2.gz:1", "access.log.2.gz:2", "access.log.2.gz:3",
    ]  # fmt: skip


async def test_the_gateways_own_access_log_replays_what_it_served(
    upstream: FakeUpstream, log_lines: Any, tmp_path: Path
) -> None:
    routes = "  - id: users.list\n    match: GET /users/{name}\n    mode: legacy\n"
    async with running(gateway_for(make_table(upstream.url, routes))) as client:
        await client.get("/users/ann%20lee?page=2&api_key=s3cr3t")
        await client.delete("/users/x")
        await client.get("/%2f")  # refused by the gateway: no side saw it
        await client.get("/_strangler/health")
    log = tmp_path / "gateway.log"
    log.write_text("\n".join(json.dumps(line) for line in log_lines()) + "\n")
    found = list(read_access_log(log))
    assert isinstance(found[-1], Unreadable) and len(found) == 3
    get, delete = found[0], found[1]
    assert isinstance(get, Request) and isinstance(delete, Request)
    # the path as the gateway forwarded it, the query with its credential masked
    assert get.target == f"/users/ann%20lee?page=2&api_key={MASK}"
    assert (get.route, get.side, get.status) == ("users.list", "legacy", 200)
    assert (delete.method, delete.target, delete.route) == ("DELETE", "/users/x", None)
    assert "s3cr3t" not in log.read_text()


def test_recorded_requests_replay_as_they_were_kept() -> None:
    row = Recorded("users.create", 5.0, "rid", "POST", "/api/users", (("accept", "*/*"),), b"{}",
                   201, "legacy", 7)  # fmt: skip
    [request] = from_recorded([row])
    assert request == Request(
        "POST", "/api/users", "recorded #7", 5.0, (("accept", "*/*"),), b"{}", 201, "legacy",
        "users.create", 7,
    )  # fmt: skip
