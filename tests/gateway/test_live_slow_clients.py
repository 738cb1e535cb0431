"""Slow clients hold nothing upstream: a real gateway process whose pool to PHP has two
connections, with more clients than that trickling uploads or not reading their answers. Every
other client is still answered, as behind nginx, because request bodies are read whole before a
connection is taken and answers that fit are read ahead of their reader."""

from __future__ import annotations

import contextlib
import socket
import time
from collections.abc import Iterator

import httpx
import pytest

from tests.gateway.conftest import table_text
from tests.gateway.live import LiveGateway, live_gateway, php_echo

pytestmark = pytest.mark.integration
POOL = "legacy:\n  pool_size: 2\n"
SLOW = 6  # more than the pool holds


@pytest.fixture(scope="module")
def gateway(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveGateway]:
    directory = tmp_path_factory.mktemp("slow")
    with php_echo(directory) as php:
        table = table_text(php, timeout="20s", extra="limits: {buffer_response: 16MiB}\n")
        table = table.replace("legacy:\n", POOL, 1)
        with live_gateway(table, directory) as live:
            yield live


@contextlib.contextmanager
def connections(port: int, count: int) -> Iterator[list[socket.socket]]:
    opened = [socket.create_connection(("127.0.0.1", port), timeout=10) for _ in range(count)]
    try:
        yield opened
    finally:
        for sock in opened:
            sock.close()


def test_trickling_uploads_do_not_take_the_upstream_connections(gateway: LiveGateway) -> None:
    with connections(gateway.port, SLOW) as slow:
        for sock in slow:  # a head, and one byte of a 100 kB body: then nothing for a while
            sock.sendall(b"POST /upload HTTP/1.1\r\nHost: x\r\nContent-Length: 100000\r\n\r\nx")
        time.sleep(1)  # they have reached the gateway (no event to wait on from outside)
        # were they streamed, they would hold both connections to PHP: this would wait for a
        # free one until the slow ones end (20 s budget)
        answer = httpx.get(gateway.url + "/ok", timeout=5)  # long before the slow ones end
    assert answer.status_code == 200


def test_clients_that_do_not_read_their_answers_do_not_hold_the_upstream(
    gateway: LiveGateway,
) -> None:
    with connections(gateway.port, SLOW) as slow:
        # 8 MiB each (more than socket buffers hold; within buffer_response), never read
        for sock in slow:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
            sock.sendall(b"GET /big?stream_mb=8 HTTP/1.1\r\nHost: x\r\n\r\n")
        time.sleep(1)  # their answers have begun (no event to wait on from outside)
        answer = httpx.get(gateway.url + "/ok", timeout=5)  # long before the slow ones end
    assert answer.status_code == 200
