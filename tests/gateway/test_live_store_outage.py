"""A parity store that hangs cannot stop traffic: a real gateway process whose shadow store is a
server that accepts TCP connections and never answers (a black-holed MariaDB), or a fresh SQLite
file another process holds locked. The gateway serves from the start, legacy and shadow routes
alike, counts what it could not store, and stops on SIGTERM within its graceful timeout."""

from __future__ import annotations

import contextlib
import socket
import sqlite3
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.gateway.conftest import table_text
from tests.gateway.live import LiveGateway, live_gateway, php_echo

pytestmark = pytest.mark.integration

ROUTES = (
    "  - id: shadowed\n    match: GET /shadowed\n    mode: shadow\n"
    "  - id: plain\n    match: GET /plain\n    mode: legacy\n"
)


@contextlib.contextmanager
def black_hole() -> Iterator[int]:
    """A listening socket that accepts and never says a word (a MariaDB that hangs)."""
    server = socket.create_server(("127.0.0.1", 0))
    held: list[socket.socket] = []
    stop = threading.Event()

    def accept() -> None:
        server.settimeout(0.2)
        while not stop.is_set():
            with contextlib.suppress(TimeoutError, OSError):
                held.append(server.accept()[0])

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    try:
        yield int(server.getsockname()[1])
    finally:
        stop.set()
        thread.join()
        for sock in held:
            sock.close()
        server.close()


def shadow_table(php: str, store: str, directory: Path) -> str:
    native = f"  url: {php}\n  timeout: 2s\n"
    extra = f"shadow:\n  store: '{store}'\n  noise_sample: 0\n"
    return table_text(php, ROUTES, native=native, extra=extra)


def dropped(gateway: LiveGateway) -> float:
    text = httpx.get(gateway.url + "/_strangler/metrics", timeout=5).text
    for line in text.splitlines():
        if line.startswith("strangler_store_dropped_total "):
            return float(line.split()[1])
    raise AssertionError("strangler_store_dropped_total is missing")


def serve_and_stop(gateway: LiveGateway) -> None:
    with httpx.Client(base_url=gateway.url, timeout=10) as client:
        for _ in range(5):
            assert client.get("/plain").status_code == 200
            assert client.get("/shadowed").status_code == 200
    # the store never answered: what shadow mode compared is counted as dropped, in time
    deadline = time.monotonic() + 30
    while dropped(gateway) < 5 and time.monotonic() < deadline:
        time.sleep(0.2)
    assert dropped(gateway) >= 5
    health = httpx.get(gateway.url + "/_strangler/health", timeout=5).json()
    assert health["status"] == "ok"  # the gateway is healthy without its store
    assert health["store"]["state"] == "unavailable" and health["store"]["error"]
    assert gateway.stop(timeout=30) == 0  # SIGTERM: the hung store does not hold the exit


def test_a_store_that_never_answers_does_not_stop_traffic(tmp_path: Path) -> None:
    env = {"STRANGLER_GRACEFUL_TIMEOUT": "2"}
    with black_hole() as port, php_echo(tmp_path) as php:
        store = f"mysql+pymysql://root@127.0.0.1:{port}/parity"
        with live_gateway(shadow_table(php, store, tmp_path), tmp_path, env=env) as gateway:
            serve_and_stop(gateway)


def test_a_locked_fresh_sqlite_store_does_not_stop_traffic(tmp_path: Path) -> None:
    path = tmp_path / "parity.db"
    holder = sqlite3.connect(path, isolation_level=None)
    holder.execute("BEGIN EXCLUSIVE")  # a fresh database another process holds locked
    env = {"STRANGLER_GRACEFUL_TIMEOUT": "2"}
    try:
        with php_echo(tmp_path) as php:
            table = shadow_table(php, f"sqlite:///{path}", tmp_path)
            with live_gateway(table, tmp_path, env=env) as gateway:
                serve_and_stop(gateway)
    finally:
        holder.close()
