"""The gateway's own errors end to end: 502 refused and reset, 504, an aborted stream, logged."""

from __future__ import annotations

import json
import socket
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.gateway.conftest import table_text
from tests.gateway.live import live_gateway, php_echo, raw_request, rude_server
from tests.support.services import free_port

pytestmark = pytest.mark.integration


def access_lines(directory: Path) -> list[dict[str, object]]:
    lines = (directory / "gateway.log").read_text().splitlines()
    return [json.loads(x) for x in lines if x.startswith("{") and '"event":"access"' in x]


def test_refused_is_502_json_and_logged(tmp_path: Path) -> None:
    closed = f"http://127.0.0.1:{free_port()}"
    with live_gateway(table_text(closed), tmp_path) as gateway:
        response = httpx.get(gateway.url + "/x", headers={"X-Request-ID": "rq-1"})
    assert response.status_code == 502
    assert response.json() == {"error": "upstream refused the connection", "request_id": "rq-1"}
    line = access_lines(tmp_path)[-1]
    assert (line["request_id"], line["status"]) == ("rq-1", 502)


@pytest.fixture
def rude() -> Iterator[str]:
    with rude_server() as url:
        yield url


def test_reset_is_502_json(tmp_path: Path, rude: str) -> None:
    with live_gateway(table_text(rude), tmp_path) as gateway:
        response = httpx.get(gateway.url + "/reset")
    assert response.status_code == 502
    assert response.json()["error"] == "upstream reset the connection"


def test_a_body_cut_short_aborts_the_client_connection(tmp_path: Path, rude: str) -> None:
    with live_gateway(table_text(rude), tmp_path) as gateway:
        request = b"GET /truncate HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"
        with socket.create_connection(("127.0.0.1", gateway.port), timeout=10) as sock:
            sock.sendall(request)
            data = b""
            while chunk := sock.recv(65536):
                data += chunk
        head, _, body = data.partition(b"\r\n\r\n")
        # the client sees a 200 that ends early, never a clean end of a shorter body
        assert head.startswith(b"HTTP/1.1 200")
        assert b"content-length: 100000" in head.lower()
        assert len(body) < 100000
        with httpx.Client() as client, pytest.raises(httpx.RemoteProtocolError):
            client.get(gateway.url + "/truncate")


def test_timeout_is_504(tmp_path: Path) -> None:
    with (
        php_echo(tmp_path) as php,
        live_gateway(table_text(php, timeout="500ms"), tmp_path) as gateway,
    ):
        status, _, body = raw_request(
            gateway.port, b"GET /slow?sleep=3 HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"
        )
    assert status == 504
    assert json.loads(body)["error"] == "upstream timed out"


def test_a_body_over_the_limit_is_413_whether_declared_or_chunked(tmp_path: Path) -> None:
    limit = "limits:\n  request_body: 4KiB\n"
    chunk = b"%x\r\n%b\r\n" % (3000, b"c" * 3000)
    head = b"POST /x HTTP/1.1\r\nHost: x\r\nConnection: close\r\n"
    with php_echo(tmp_path) as php, live_gateway(table_text(php, extra=limit), tmp_path) as gw:
        declared = raw_request(
            gw.port,
            head + b"Content-Length: 5000\r\n\r\n",
        )
        chunked = raw_request(
            gw.port,
            head + b"Transfer-Encoding: chunked\r\n\r\n" + chunk * 2 + b"0\r\n\r\n",
        )
        within = raw_request(
            gw.port,
            head + b"Transfer-Encoding: chunked\r\n\r\n" + chunk + b"0\r\n\r\n",
        )
    for status, _, body in (declared, chunked):
        assert status == 413
        assert json.loads(body)["error"] == "request body over the limit"
    assert within[0] == 200 and json.loads(within[2])["body_length"] == 3000
    lines = access_lines(tmp_path)
    assert [line["status"] for line in lines if line["path"] == "/x"] == [413, 413, 200]
