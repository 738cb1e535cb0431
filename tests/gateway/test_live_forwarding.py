"""Forwarding end to end: client → gateway (uvicorn process) → PHP (echo.php), point by point."""

from __future__ import annotations

import gzip
import hashlib
import json
import socket
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.gateway.conftest import table_text
from tests.gateway.live import LiveGateway, live_gateway, php_echo, raw_request

pytestmark = pytest.mark.integration
BLOCK = b"0123456789abcdef" * 4096  # echo.php's stream unit, 64 KiB


@pytest.fixture(scope="module")
def php_ini(tmp_path_factory: pytest.TempPathFactory) -> Path:
    # large uploads: PHP would otherwise refuse bodies over post_max_size
    directory = tmp_path_factory.mktemp("php-ini")
    (directory / "strangler.ini").write_text("post_max_size=0\nupload_max_filesize=64M\n")
    return directory


@pytest.fixture(scope="module")
def php(php_ini: Path) -> Iterator[str]:
    with php_echo(php_ini, php_ini) as url:
        yield url


@pytest.fixture(scope="module")
def gateway(php: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveGateway]:
    with live_gateway(table_text(php, timeout="120s"), tmp_path_factory.mktemp("gw")) as live:
        yield live


@pytest.fixture
def client(gateway: LiveGateway) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=gateway.url, timeout=60) as c:
        yield c


def sent_headers(report: dict[str, Any]) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for name, value in report["headers"]:
        out.setdefault(name.lower(), []).append(value)
    return out


QUERIES = [
    ("repeated keys", "a=1&a=2&a=3"),
    ("odd encodings", "x=%zz&y=%2B+%20&z=%E9&w=caf%C3%A9"),
    ("empty values and bare keys", "a=&b&=c&&"),
    ("reserved characters", "next=/a/b?c=d&e=%26f;g=h"),
    ("array syntax", "f[]=1&f[]=2&g[k]=v"),
]


@pytest.mark.parametrize("query", [q[1] for q in QUERIES], ids=[q[0] for q in QUERIES])
def test_query_string_arrives_byte_for_byte(gateway: LiveGateway, query: str) -> None:
    request = f"GET /q?{query} HTTP/1.1\r\nHost: shop.test\r\nConnection: close\r\n\r\n"
    status, _, body = raw_request(gateway.port, request.encode())
    report = json.loads(body)
    assert status == 200
    assert report["uri"] == f"/q?{query}"
    assert report["query"] == query


def test_raw_non_ascii_in_the_target_is_refused_before_forwarding(gateway: LiveGateway) -> None:
    # httptools refuses it: the client gets 400 and nothing reaches PHP
    request = "GET /q?name=Zo\u00eb HTTP/1.1\r\nHost: shop.test\r\nConnection: close\r\n\r\n"
    status, _, _ = raw_request(gateway.port, request.encode("utf-8"))
    assert status == 400


def test_request_headers_as_php_sees_them(client: httpx.Client) -> None:
    response = client.get(
        "/h",
        headers={
            "Host": "shop.test:8443",
            "X-Forwarded-For": "198.51.100.7",
            "X-Forwarded-Proto": "https",
            "X-Forwarded-Host": "evil.com",
            "X-Forwarded-Port": "8443",
            "X-Forwarded-Prefix": "/evil",
            "X-Real-IP": "198.51.100.7",
            "Forwarded": "for=198.51.100.7;proto=https;host=evil.com",
            "X-Request-ID": "client-id-1",
            "X-Custom": "kept",
            "X-Strangler-Dry-Run": "1",
        },
    )
    seen = sent_headers(response.json())
    assert seen["host"] == ["shop.test:8443"]  # preserve_host: true
    # the gateway is the edge (no trusted proxies): the client's own claim is replaced
    assert seen["x-forwarded-for"] == ["127.0.0.1"]
    assert seen["x-real-ip"] == ["127.0.0.1"]
    assert seen["x-forwarded-proto"] == ["http"]
    assert seen["x-forwarded-host"] == ["shop.test:8443"]
    for dropped in ("x-forwarded-port", "x-forwarded-prefix", "forwarded"):
        assert dropped not in seen
    assert seen["x-request-id"] == ["client-id-1"]
    assert seen["x-custom"] == ["kept"]
    assert "x-strangler-dry-run" not in seen
    assert response.headers["x-request-id"] == "client-id-1"


def test_a_request_id_is_generated_when_none_is_given(client: httpx.Client) -> None:
    first, second = client.get("/a"), client.get("/b")
    ids = [r.headers["x-request-id"] for r in (first, second)]
    assert ids[0] != ids[1] and all(len(i) == 32 for i in ids)
    assert sent_headers(first.json())["x-request-id"] == [ids[0]]


def test_hop_by_hop_headers_are_dropped_both_ways(gateway: LiveGateway) -> None:
    request = (
        b"GET /hop?hop=1 HTTP/1.1\r\nHost: shop.test\r\n"
        b"Connection: close, X-Private\r\nX-Private: secret\r\nKeep-Alive: timeout=9\r\n"
        b"TE: trailers\r\nUpgrade: h2c\r\nProxy-Authorization: Basic eA==\r\nX-Kept: 1\r\n\r\n"
    )
    status, head, body = raw_request(gateway.port, request)
    seen = sent_headers(json.loads(body))
    assert status == 200
    for name in ("x-private", "keep-alive", "te", "upgrade", "proxy-authorization"):
        assert name not in seen
    assert seen["x-kept"] == ["1"]
    answer = head.lower()
    for name in (b"x-custom-hop", b"keep-alive", b"proxy-agent", b"trailer"):
        assert b"\r\n" + name + b":" not in answer


def test_response_headers_are_the_upstreams_not_doubled(client: httpx.Client) -> None:
    response = client.get("/d", params={"header[]": "Server: legacy-php"})
    assert len(response.headers.get_list("date")) == 1
    assert response.headers.get_list("server") == ["legacy-php"]
    assert response.headers["x-powered-by"].startswith("PHP/")


def test_every_set_cookie_survives(client: httpx.Client) -> None:
    response = client.get("/c", params={"cookies": "3"})
    assert response.headers.get_list("set-cookie") == [
        f"c{i}=v{i}; Path=/; HttpOnly" for i in range(3)
    ]


def test_redirects_pass_unfollowed_and_upstream_locations_are_rewritten(
    client: httpx.Client, gateway: LiveGateway
) -> None:
    own = client.get("/r", params={"redirect": "/login?next=/x"}, headers={"Host": "shop.test"})
    assert own.status_code == 302
    assert own.headers["location"] == "http://shop.test/login?next=/x"
    public = client.get("/r", params={"redirect_host": "/home"}, headers={"Host": "shop.test"})
    assert public.headers["location"] == "http://shop.test/home"


@pytest.mark.parametrize("status", [204, 304])
def test_bodyless_statuses(client: httpx.Client, status: int) -> None:
    response = client.get("/s", params={"status": str(status)})
    assert (response.status_code, response.content) == (status, b"")


def test_head_gets_headers_and_no_body(gateway: LiveGateway) -> None:
    request = b"HEAD /head HTTP/1.1\r\nHost: shop.test\r\nConnection: close\r\n\r\n"
    status, head, body = raw_request(gateway.port, request)
    assert status == 200 and body == b""
    assert b"content-type: application/json" in head.lower()


def test_chosen_status_and_headers_pass(client: httpx.Client) -> None:
    response = client.get("/x", params={"status": "418", "header[]": "X-Teapot: yes"})
    assert response.status_code == 418
    assert response.headers["x-teapot"] == "yes"


def test_form_post(client: httpx.Client) -> None:
    response = client.post("/form", data={"name": "Zoë", "tags[]": ["a", "b"]})
    report = response.json()
    assert report["post"] == {"name": "Zoë", "tags": ["a", "b"]}
    assert report["method"] == "POST"


def test_multipart_post(client: httpx.Client) -> None:
    payload = bytes(range(256)) * 4000
    response = client.post(
        "/upload", data={"title": "t"}, files={"doc": ("doc.bin", payload, "application/pdf")}
    )
    report = response.json()
    assert report["post"] == {"title": "t"}
    assert report["files"]["doc"] == {
        "name": "doc.bin",
        "size": len(payload),
        "sha256": hashlib.sha256(payload).hexdigest(),
    }


def test_gzip_bodies_pass_as_they_are(gateway: LiveGateway) -> None:
    with (
        httpx.Client(base_url=gateway.url) as client,
        client.stream("GET", "/z", params={"gzip": "1"}) as response,
    ):
        raw = b"".join(response.iter_raw())
    assert response.headers["content-encoding"] == "gzip"
    assert json.loads(gzip.decompress(raw))["uri"] == "/z?gzip=1"


def test_expect_100_continue_upload(gateway: LiveGateway) -> None:
    body = b"q" * 5000
    head = (
        b"POST /expect HTTP/1.1\r\nHost: shop.test\r\nConnection: close\r\n"
        b"Content-Type: application/octet-stream\r\nExpect: 100-continue\r\n"
        b"Content-Length: 5000\r\n\r\n"
    )
    with socket.create_connection(("127.0.0.1", gateway.port), timeout=10) as sock:
        sock.sendall(head)
        assert sock.recv(1024).startswith(b"HTTP/1.1 100 Continue")
        sock.sendall(body)
        data = b""
        while chunk := sock.recv(65536):
            data += chunk
    report = json.loads(data.partition(b"\r\n\r\n")[2].split(b"\r\n")[1])
    assert report["body_sha256"] == hashlib.sha256(body).hexdigest()


def test_chunked_request_body(client: httpx.Client) -> None:
    parts = [b"alpha", b"beta" * 1000, b"gamma"]
    response = client.put("/chunked", content=iter(parts))
    report = response.json()
    body = b"".join(parts)
    # read whole before PHP is called (limits.buffer_request): PHP learns the body's length
    assert sent_headers(report)["content-length"] == [str(len(body))]
    assert "transfer-encoding" not in sent_headers(report)
    assert (report["body_length"], report["body_sha256"]) == (
        len(body),
        hashlib.sha256(body).hexdigest(),
    )


def test_large_bodies_stream_both_ways_in_flat_memory(
    client: httpx.Client, gateway: LiveGateway
) -> None:
    mib = 200
    client.get("/warm")  # the first request allocates what every request shares
    before = gateway.rss_kib("VmHWM")

    def upload() -> Iterator[bytes]:
        for _ in range(mib * 16):
            yield BLOCK

    up = client.post("/up", content=upload(), headers={"Content-Type": "application/x-bin"})
    expected = hashlib.sha256()
    for _ in range(mib * 16):
        expected.update(BLOCK)
    assert up.json()["body_length"] == mib * 1024 * 1024
    assert up.json()["body_sha256"] == expected.hexdigest()

    got = hashlib.sha256()
    size = 0
    with client.stream("GET", "/down", params={"stream_mb": str(mib)}) as response:
        assert response.headers["transfer-encoding"] == "chunked"
        for chunk in response.iter_raw():
            got.update(chunk)
            size += len(chunk)
    assert size == mib * 1024 * 1024
    assert got.hexdigest() == expected.hexdigest()
    growth_mib = (gateway.rss_kib("VmHWM") - before) / 1024
    # 400 MiB passed through; a buffered body would show up here whole
    assert growth_mib < 40, f"peak RSS grew by {growth_mib:.1f} MiB"
