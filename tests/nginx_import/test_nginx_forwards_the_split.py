"""The migration split as written, in real nginx, in front of two echo upstreams: what the
importer's routes will have to reproduce, side and forwarded target alike."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from proxy.table.nginx import load
from tests.support.nginx import Nginx, echo_upstream, free_port, run_nginx, server_as_written

pytestmark = pytest.mark.integration

SPLIT = Path(__file__).parent / "corpus" / "split.conf"


@pytest.fixture(scope="module")
def split() -> Iterator[tuple[Nginx, int]]:
    config = load(SPLIT)
    port = free_port()
    with echo_upstream("legacy") as legacy, echo_upstream("native") as native:
        upstreams = (
            f"upstream php_app {{ server {legacy.address}; }}\n"
            f"upstream python_api {{ server {native.address}; }}\n"
        )
        block = server_as_written(config.servers[0], f"127.0.0.1:{port}")
        with run_nginx(upstreams + block, [("127.0.0.1", port)]) as nginx:
            yield nginx, port


@pytest.mark.parametrize(
    ("target", "answer"),
    [
        ("/", "legacy /"),
        ("/invoices?page=2", "legacy /invoices?page=2"),
        ("/api/php/users?x=1", "legacy /users?x=1"),
        ("/api/php//users/../orders", "legacy /orders"),
        ("/api/php/a%20b", "legacy /a%20b"),
        ("/api/v1/users?x=1", "native /api/v1/users?x=1"),
        ("/api/v1//users/../orders", "native /api/v1//users/../orders"),
        ("/api/me", "native /api/v1/profile/me"),
        ("/api/me?x=1", "native /api/v1/profile/me?x=1"),
        ("/api/v1/reports/q1", "legacy /api/v1/reports/q1"),
        ("/api/v1/export.CSV", "legacy /api/v1/export.CSV"),
        ("/apis", "legacy /apis"),
    ],
    ids=[
        "root-exact",
        "catch-all-keeps-query",
        "uri-part-replaces-prefix",
        "uri-part-sends-normalised-path",
        "uri-part-re-escapes",
        "no-uri-part-sends-as-received",
        "no-uri-part-sends-unnormalised",
        "exact-with-uri-part-renames",
        "renamed-keeps-query",
        "nested-prefix-to-legacy",
        "nested-caseless-regex-to-legacy",
        "shorter-prefix",
    ],
)
def test_nginx_sends_each_request_to_its_side_with_this_target(
    split: tuple[Nginx, int], target: str, answer: str
) -> None:
    nginx, port = split
    got = nginx.ask(port, target)
    assert (got.status, got.body) == (200, answer)


@pytest.mark.parametrize(
    ("target", "status"),
    [("/api/v1/admin/users", 403), ("/.env", 403), ("/x.php", 403), ("/health", 200)],
    ids=["deny-all", "dot-file", "php-denied", "return"],
)
def test_nginx_answers_itself_where_the_split_says_so(
    split: tuple[Nginx, int], target: str, status: int
) -> None:
    nginx, port = split
    assert nginx.ask(port, target).status == status
