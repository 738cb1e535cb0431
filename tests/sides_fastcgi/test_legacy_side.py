"""The legacy side over FastCGI inside the gateway app (in-process ASGI, a scripted PHP-FPM):
how a request becomes FastCGI records, how an answer becomes the client's, which failures are
which of the gateway's errors, and which requests are sent again on a fresh connection."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

from proxy.app import create_app
from proxy.dispatch import Gateway
from proxy.settings import Settings
from proxy.table.parser import parse
from tests.gateway.conftest import FakeUpstream, running, upstream
from tests.sides_fastcgi.test_connection import dies_on_the_second_request
from tests.support.fake_fpm import Connection, FakeFpm, fake_fpm

__all__ = ["upstream"]


@pytest.fixture
def root(tmp_path: Path) -> Path:
    docroot = tmp_path / "public"
    (docroot / "assets").mkdir(parents=True)
    (docroot / "index.php").write_text("<?php // the front controller")
    (docroot / "assets" / "site.css").write_text("body {}\n")
    return docroot


def gateway_of(socket: Path, root: Path, extra: str = "") -> Gateway:
    table = f"version: 1\nlegacy:\n  fastcgi: unix:{socket}\n  root: {root}\n  timeout: 5s\n{extra}"
    return create_app(Settings(watch=False), table=parse(table))


@pytest.fixture
async def fpm(tmp_path: Path) -> AsyncIterator[FakeFpm]:
    async with fake_fpm(socket=tmp_path / "fpm.sock") as running_fpm:
        yield running_fpm


@pytest.fixture
def socket(fpm: FakeFpm) -> Iterator[Path]:
    yield Path(fpm.address.path)


async def test_a_script_gets_its_params_body_and_extra_params(
    fpm: FakeFpm, socket: Path, root: Path
) -> None:
    gateway = gateway_of(socket, root, "  params: {APP_ENV: test}\n")
    async with running(gateway) as client:
        response = await client.post(
            "/orders/7?x=1",
            content=b"a=1",
            headers={"Content-Type": "application/x-www-form-urlencoded"},
        )
    assert response.status_code == 200 and response.text == "ok"
    [request] = fpm.requests
    params = request.params
    assert params[b"SCRIPT_FILENAME"] == str(root / "index.php").encode()
    assert params[b"REQUEST_URI"] == b"/orders/7?x=1"
    assert params[b"QUERY_STRING"] == b"x=1"
    assert (params[b"CONTENT_LENGTH"], params[b"CONTENT_TYPE"]) == (
        b"3",
        b"application/x-www-form-urlencoded",
    )
    assert params[b"APP_ENV"] == b"test"
    assert params[b"REMOTE_ADDR"] == b"127.0.0.1"
    assert request.stdin == b"a=1"


async def test_a_chunked_body_is_read_whole_for_its_length(
    fpm: FakeFpm, socket: Path, root: Path
) -> None:
    async def pieces() -> AsyncIterator[bytes]:
        for n in range(5):
            yield bytes([65 + n]) * 1000

    async with running(gateway_of(socket, root)) as client:
        response = await client.put("/upload", content=pieces())
    assert response.status_code == 200
    [request] = fpm.requests
    assert request.params[b"CONTENT_LENGTH"] == b"5000"
    assert request.stdin == b"".join(bytes([65 + n]) * 1000 for n in range(5))


async def test_the_answer_gets_a_date_and_the_request_id_and_loses_hop_by_hop_headers(
    tmp_path: Path, root: Path
) -> None:
    async def php(conn: Connection, fpm: FakeFpm) -> None:
        await conn.request()
        await conn.answer(
            b"Status: 201 Created\r\nConnection: close, X-Private\r\nX-Private: 1\r\n"
            b"Transfer-Encoding: chunked\r\nX-Request-ID: forged\r\nSet-Cookie: a=1\r\n"
            b"Set-Cookie: b=2\r\n\r\ncreated"
        )

    async with (
        fake_fpm(php, socket=tmp_path / "php.sock") as fpm,
        running(gateway_of(Path(fpm.address.path), root)) as client,
    ):
        response = await client.get("/", headers={"X-Request-ID": "rq-9"})
    assert (response.status_code, response.text) == (201, "created")
    assert response.headers["x-request-id"] == "rq-9"
    assert response.headers.get_list("set-cookie") == ["a=1", "b=2"]
    assert "date" in response.headers
    assert not {"connection", "x-private", "transfer-encoding"} & set(response.headers)


async def test_head_gets_no_body(fpm: FakeFpm, socket: Path, root: Path) -> None:
    async with running(gateway_of(socket, root)) as client:
        response = await client.head("/")
    assert (response.status_code, response.content) == (200, b"")
    assert fpm.requests[0].params[b"REQUEST_METHOD"] == b"HEAD"


async def test_a_header_too_large_for_a_record_is_431(
    fpm: FakeFpm, socket: Path, root: Path
) -> None:
    async with running(gateway_of(socket, root)) as client:
        response = await client.get("/", headers={"X-Huge": "x" * 70000})
    assert response.status_code == 431
    assert response.json()["error"] == "request header too large for FastCGI"
    assert fpm.requests == []


async def test_a_missing_socket_is_a_502_and_files_are_still_served(
    tmp_path: Path, root: Path
) -> None:
    async with running(gateway_of(tmp_path / "absent.sock", root)) as client:
        refused = await client.get("/page", headers={"X-Request-ID": "rq-1"})
        css = await client.get("/assets/site.css")
    assert refused.status_code == 502
    assert refused.json() == {"error": "upstream refused the connection", "request_id": "rq-1"}
    assert (css.status_code, css.text) == (200, "body {}\n")


async def test_malformed_output_is_a_502(tmp_path: Path, root: Path) -> None:
    async def php(conn: Connection, fpm: FakeFpm) -> None:
        await conn.request()
        await conn.answer(b"no head at all")

    async with (
        fake_fpm(php, socket=tmp_path / "php.sock") as fpm,
        running(gateway_of(Path(fpm.address.path), root)) as client,
    ):
        response = await client.get("/")
    assert response.status_code == 502
    assert response.json()["error"] == "upstream sent an invalid response"


@pytest.mark.parametrize(
    ("method", "status"),
    [("GET", 200), ("HEAD", 200), ("OPTIONS", 200), ("POST", 502), ("DELETE", 502)],
)
async def test_only_safe_methods_are_sent_again_when_a_kept_connection_died(
    tmp_path: Path, root: Path, method: str, status: int
) -> None:
    async with (
        fake_fpm(dies_on_the_second_request, socket=tmp_path / "php.sock") as fpm,
        running(gateway_of(Path(fpm.address.path), root)) as client,
    ):
        assert (await client.get("/")).status_code == 200  # leaves a kept connection
        response = await client.request(method, "/")
    assert response.status_code == status
    if status == 502:
        assert response.json()["error"] == "upstream reset the connection"


@pytest.mark.parametrize(
    ("path", "status"),
    [("/.env", 403), ("/assets", 301), ("/assets/site.css", 200), ("/index.php", 200)],
)
async def test_what_the_resolver_answers_without_php(
    fpm: FakeFpm, socket: Path, root: Path, path: str, status: int
) -> None:
    async with running(gateway_of(socket, root)) as client:
        response = await client.get(path)
    assert response.status_code == status
    assert len(fpm.requests) == (1 if path == "/index.php" else 0)


async def test_a_url_with_a_root_serves_files_and_forwards_the_rest(
    upstream: FakeUpstream, root: Path
) -> None:
    table = parse(f"version: 1\nlegacy:\n  url: {upstream.url}\n  root: {root}\n")
    async with running(create_app(Settings(watch=False), table=table)) as client:
        css = await client.get("/assets/site.css")
        page = await client.get("/index.php?x=1")  # a script: PHP's web server runs it
        hidden = await client.get("/.env")  # no file to serve: the URL decides
    assert (css.status_code, css.text) == (200, "body {}\n")
    assert "x-upstream" not in css.headers
    assert page.headers["x-upstream"] == "fake"
    assert hidden.headers["x-upstream"] == "fake"
    assert [seen["uri"] for seen in upstream.seen] == ["/index.php?x=1", "/.env"]


async def test_a_route_that_sends_legacy_another_path_is_that_request_for_php(
    fpm: FakeFpm, socket: Path, root: Path
) -> None:
    (root / "users.php").write_text("<?php // a script of its own")
    routes = (
        "routes:\n"
        "  - id: php.api\n    match: {prefix: /api/php/}\n    mode: legacy\n"
        "    legacy_path: /{rest}\n"
        "  - id: user\n    match: GET /u/{id:int}\n    mode: legacy\n"
        "    legacy_path: /users.php/{id}\n"
    )
    async with running(gateway_of(socket, root, routes)) as client:
        await client.get("/api/php/orders/7?x=1")
        await client.get("/u/42?tab=2")
    first, second = (request.params for request in fpm.requests)
    assert first[b"REQUEST_URI"] == b"/orders/7?x=1"  # as PHP is sent it, query kept
    assert first[b"SCRIPT_NAME"] == b"/index.php"
    assert second[b"SCRIPT_FILENAME"] == str(root / "users.php").encode()
    assert (second[b"PATH_INFO"], second[b"REQUEST_URI"]) == (b"/42", b"/users.php/42?tab=2")
