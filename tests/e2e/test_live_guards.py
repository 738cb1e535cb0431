"""Guards across processes: two gateway instances (one with two workers) on one MariaDB store.

A native service failing half its requests trips the guard; every worker of every instance
then answers from legacy within a few seconds; a reload of the unchanged table keeps the
rollback; `strangler resume` restores native everywhere.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import threading
import time
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import httpx
import pytest

from proxy.cli.main import main
from proxy.operator.history import FlipStore
from shadow.store import create_store_engine
from tests.gateway.live import live_gateway
from tests.support.services import mariadb_database, mariadb_url

pytestmark = pytest.mark.integration


@contextlib.contextmanager
def side_server(name: str, failing: Callable[[int], bool]) -> Iterator[str]:
    """A tiny HTTP service answering {"side": name}; 500 when failing(n) for its n-th request."""
    count = [0]
    lock = threading.Lock()

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_GET(self) -> None:
            with lock:
                count[0] += 1
                n = count[0]
            status = 500 if failing(n) else 200
            body = json.dumps({"side": name, "status": status}).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *_args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = False  # server_close() joins them, and their sockets are closed
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


def table(legacy: str, native: str, store: str) -> str:
    return f"""\
version: 1
legacy: {{url: {legacy}, timeout: 5s}}
native: {{url: {native}, timeout: 5s}}
shadow: {{store: "{store}"}}
routes:
  - id: users.list
    match: GET /users
    mode: native
    guard: {{max_error_rate: 0.02, min_requests: 20, window: 5m}}
"""


def sides(url: str, n: int) -> list[str]:
    # a new connection per request, so that every worker answers some
    return [httpx.get(f"{url}/users", timeout=5).json()["side"] for _ in range(n)]


def settled(urls: list[str], side: str, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if all(set(sides(url, 12)) == {side} for url in urls):
            return
        time.sleep(0.2)
    raise AssertionError(f"not every worker of {urls} answers from {side}")


def test_every_worker_of_every_instance_rolls_back_and_resumes(tmp_path: Path) -> None:
    native_fails = [True]
    env = {"STRANGLER_GUARD_INTERVAL": "0.5", "STRANGLER_RELOAD_INTERVAL": "3600"}
    with (
        mariadb_database("strangler_guards") as database,
        side_server("legacy", lambda _n: False) as legacy,
        side_server("native", lambda n: native_fails[0] and n % 2 == 0) as native,
    ):
        store = mariadb_url(database)
        text = table(legacy, native, store)
        (tmp_path / "a").mkdir()
        (tmp_path / "b").mkdir()
        with (
            live_gateway(text, tmp_path / "a", env, workers=2) as a,
            live_gateway(text, tmp_path / "b", env) as b,
        ):
            for _ in range(20):  # 40 requests in all, half of native's answers are 500
                httpx.get(f"{a.url}/users", timeout=5)
                httpx.get(f"{b.url}/users", timeout=5)
            settled([a.url, b.url], "legacy")

            a.config.write_text(text)  # the same table, reloaded: the rollback stays
            os.kill(a.proc.pid, signal.SIGHUP)
            b.config.write_text(text)
            os.kill(b.proc.pid, signal.SIGHUP)
            time.sleep(2)
            assert set(sides(a.url, 12)) == set(sides(b.url, 6)) == {"legacy"}
            routes = httpx.get(f"{a.url}/_strangler/routes", timeout=5).json()["routes"]
            assert routes[0]["effective_mode"] == "legacy"
            assert "error rate" in routes[0]["why"]

            native_fails[0] = False
            assert main(["resume", "users.list", "--config", str(a.config)]) == 0
            settled([a.url, b.url], "native")

        engine = create_store_engine(store)
        try:
            flips = FlipStore(engine).read(route="users.list")
        finally:
            engine.dispose()
        runtime = [(f.old, f.new, f.trigger) for f in flips if f.trigger in ("guard", "resume")]
        assert runtime == [("legacy", "native", "resume"), ("native", "legacy", "guard")]
