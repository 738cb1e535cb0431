"""The client-facing server of a real gateway process, with the limits of its routing.yaml:
heads over a limit and slow heads are refused as nginx refuses them, each refusal counted in
strangler_refused_total{reason} and logged once with the peer, never with its bytes."""

from __future__ import annotations

import json
import socket
import time
from collections.abc import Iterator

import httpx
import pytest

from tests.gateway.conftest import table_text
from tests.gateway.live import LiveGateway, live_gateway, php_echo

pytestmark = pytest.mark.integration

CLOSE = b"Connection: close\r\n\r\n"
LIMITS = (
    "limits:\n  request_line: 1KiB\n  header_line: 2KiB\n  head: 4KiB\n  headers: 20\n"
    "  header_timeout: 1s\n  request_body: 1KiB\n"
)


@pytest.fixture(scope="module")
def gateway(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveGateway]:
    directory = tmp_path_factory.mktemp("edge")
    with php_echo(directory) as php, live_gateway(table_text(php, extra=LIMITS), directory) as gw:
        yield gw


def answer_of(port: int, data: bytes) -> bytes:
    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
        sock.sendall(data)
        received = b""
        while chunk := sock.recv(65536):  # the server closes after a refusal
            received += chunk
    return received


def refused(gateway: LiveGateway) -> dict[str, float]:
    text = httpx.get(gateway.url + "/_strangler/metrics", timeout=5).text
    found = {}
    for line in text.splitlines():
        if line.startswith("strangler_refused_total{"):
            reason = line.split('reason="')[1].split('"')[0]
            found[reason] = float(line.rsplit(" ", 1)[1])
    return found


@pytest.mark.parametrize(
    ("request_bytes", "status", "reason"),
    [
        (b"GET /" + b"a" * 1100 + b" HTTP/1.1\r\nHost: x\r\n\r\n", 414, "request_line_too_long"),
        (b"GET / HTTP/1.1\r\nHost: x\r\nX-Big: " + b"b" * 2100 + b"\r\n\r\n", 431,
         "header_too_large"),
        (b"GET / HTTP/1.1\r\nHost: x\r\n" + b"X-N: 1\r\n" * 25 + b"\r\n", 431, "too_many_headers"),
        (b"GET / HTTP/1.1\r\n\r\n", 400, "bad_host"),
        (b"GET /%2e%2e/etc/passwd HTTP/1.1\r\nHost: x\r\n" + CLOSE, 400, "bad_path"),
        (b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 5000\r\n" + CLOSE, 413,
         "body_too_large"),
    ],
    ids=["request line", "header line", "header count", "no host", "bad path", "body"],
)  # fmt: skip
def test_a_request_over_a_limit_is_refused_counted_and_logged_without_its_bytes(
    gateway: LiveGateway, request_bytes: bytes, status: int, reason: str
) -> None:
    before = refused(gateway).get(reason, 0.0)
    answer = answer_of(gateway.port, request_bytes)
    assert answer.startswith(b"HTTP/1.1 %d " % status), answer[:200]
    body = json.loads(answer.partition(b"\r\n\r\n")[2])
    assert set(body) == {"error", "request_id"}
    assert refused(gateway)[reason] == before + 1
    log = (gateway.config.parent / "gateway.log").read_text()
    lines = [json.loads(x) for x in log.splitlines() if '"refused"' in x and reason in x]
    assert lines and lines[-1]["peer"].startswith("127.0.0.1:")
    assert b"bbbbbbbb" not in log.encode() and "aaaaaaaa" not in log


def test_a_head_that_does_not_arrive_in_time_is_closed(gateway: LiveGateway) -> None:
    before = refused(gateway).get("header_timeout", 0.0)
    with socket.create_connection(("127.0.0.1", gateway.port), timeout=10) as sock:
        sock.sendall(b"GET / HTTP/1.1\r\nHost: x\r\n")  # and nothing more
        started = time.monotonic()
        assert sock.recv(100) == b""  # closed by the gateway, not by our own timeout
        assert time.monotonic() - started < 9
    assert refused(gateway)["header_timeout"] == before + 1


def test_a_request_within_every_limit_is_served(gateway: LiveGateway) -> None:
    answer = answer_of(
        gateway.port, b"GET /ok HTTP/1.1\r\nHost: x\r\nConnection: close\r\n" + b"X-N: 1\r\n" * 18
        + b"\r\n"
    )  # fmt: skip
    assert answer.startswith(b"HTTP/1.1 200 ")
