"""`native.workers`: the native app in processes `strangler serve` starts, supervises and calls.

A real gateway (uvicorn) with `tests/support/native_app.py` in two worker processes: requests
spread over both, a killed worker fails only its own requests in flight and is replaced, the
workers run at the table's CPU priority in a private directory, and they end with the gateway
however it ends.
"""

from __future__ import annotations

import concurrent.futures
import os
import re
import signal
import socketserver
import stat
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.gateway.conftest import table_text
from tests.gateway.live import LiveGateway, live_gateway
from tests.support.rawhttp import threaded_server

pytestmark = pytest.mark.integration
APP = "tests.support.native_app:app"
NATIVE = f"  app: {APP}\n  workers: 2\n  nice: 7\n  timeout: 5s\n"
ROUTES = "  - id: n\n    match: '* /n/{rest:path}'\n    mode: native\n"


def wait_for(check: Callable[[], bool], timeout: float = 15.0) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        assert time.monotonic() < deadline, "the condition never held"
        time.sleep(0.02)


def worker_pids(gateway: LiveGateway) -> list[int]:
    return [w["pid"] for w in gateway.health()["native_workers"]["workers"]]


def gone(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    # a zombie until its parent reaps it: it runs nothing any more
    return Path(f"/proc/{pid}/stat").read_text().split(") ")[1].startswith("Z")


def socket_dir(pid: int) -> Path:
    """The directory of the unix socket a worker listens on."""
    inodes = set()
    for fd in Path(f"/proc/{pid}/fd").iterdir():
        found = re.fullmatch(r"socket:\[(\d+)\]", os.readlink(fd))
        if found:
            inodes.add(found[1])
    with open(f"/proc/{pid}/net/unix") as table:
        paths = [
            fields[-1]
            for fields in (line.split() for line in table)
            if len(fields) == 8 and fields[6] in inodes and fields[-1].startswith("/")
        ]
    assert paths, "no worker socket"
    return Path(paths[0]).parent


@pytest.fixture
def workers(tmp_path: Path, closed_port_url: str) -> Iterator[LiveGateway]:
    table = table_text(closed_port_url, ROUTES, native=NATIVE)
    with live_gateway(table, tmp_path) as gateway:
        yield gateway


def test_workers_serve_native_mode_spread_over_both(workers: LiveGateway) -> None:
    health = workers.health()["native_workers"]
    assert (health["count"], health["alive"], health["restarts"]) == (2, 2, 0)
    pids = set(worker_pids(workers))
    with concurrent.futures.ThreadPoolExecutor(8) as pool:
        answers = list(
            pool.map(lambda _: httpx.get(workers.url + "/n/slow?s=0.3", timeout=10), range(8))
        )
    assert {a.status_code for a in answers} == {200}
    assert {a.json()["pid"] for a in answers} == pids  # least busy first: both took requests
    for answer in answers:  # the request id the client sees is the one the worker got
        assert answer.json()["request_id"] == answer.headers["x-request-id"]
    served = {w["index"]: w["served"] for w in workers.health()["native_workers"]["workers"]}
    assert sum(served.values()) == 8 and min(served.values()) >= 1


def test_workers_are_children_at_the_tables_priority_in_a_private_directory(
    workers: LiveGateway,
) -> None:
    for pid in worker_pids(workers):
        assert os.getpgid(pid) != os.getpgid(workers.proc.pid)  # out of the terminal's group
        fields = Path(f"/proc/{pid}/stat").read_text().split(") ")[1].split()
        parent, nice = int(fields[1]), int(fields[16])
        assert parent == workers.proc.pid
        assert nice == min(19, 7 + os.getpriority(os.PRIO_PROCESS, workers.proc.pid))
        directory = socket_dir(pid)
        assert stat.S_IMODE(directory.stat().st_mode) == 0o700


def test_post_bodies_and_dry_run_marks_reach_the_worker(workers: LiveGateway) -> None:
    body = os.urandom(300_000)
    answer = httpx.post(workers.url + "/n/echo", content=body, timeout=10)
    assert answer.status_code == 200 and answer.content == body
    # a client's own mark never reaches the native side
    seen = httpx.get(workers.url + "/n/dry", headers={"X-Strangler-Dry-Run": "1"}, timeout=5)
    assert seen.json() == {"dry_run": None}


def test_a_failing_handler_is_the_gateways_502_as_in_process(workers: LiveGateway) -> None:
    answer = httpx.get(workers.url + "/n/boom", timeout=5)
    assert answer.status_code == 502
    request_id = answer.headers["x-request-id"]
    assert answer.json() == {
        "error": "native handler failed",
        "request_id": request_id,
    }
    log = (workers.config.parent / "gateway.log").read_text()
    failed = [line for line in log.splitlines() if "native_failed" in line]
    assert failed and request_id in failed[-1] and '"worker"' in failed[-1]


def test_a_worker_printing_to_stdout_keeps_serving(workers: LiveGateway) -> None:
    for _ in range(30):  # far more than a pipe holds, had stdout been the gateway's channel
        assert httpx.get(workers.url + "/n/print", timeout=5).status_code == 200
    assert workers.health()["native_workers"]["restarts"] == 0


def test_a_killed_worker_fails_only_its_requests_in_flight(workers: LiveGateway) -> None:
    victim, survivor = worker_pids(workers)

    def slow(_: int) -> httpx.Response:
        return httpx.get(workers.url + "/n/slow?s=1.5", timeout=10)

    with concurrent.futures.ThreadPoolExecutor(6) as pool:
        in_flight = [pool.submit(slow, i) for i in range(6)]
        wait_for(lambda: workers.health()["native_workers"]["in_flight"] == 6)
        on_victim = next(
            w["in_flight"]
            for w in workers.health()["native_workers"]["workers"]
            if w["pid"] == victim
        )
        os.kill(victim, signal.SIGKILL)
        # while it is replaced, and after: every new request is answered
        after = [httpx.get(workers.url + "/n/who", timeout=10) for _ in range(20)]
        answers = [f.result() for f in in_flight]

    failed = [a for a in answers if a.status_code != 200]
    assert len(failed) == on_victim >= 1
    for answer in failed:
        assert answer.status_code == 502
        assert answer.json()["request_id"] == answer.headers["x-request-id"]
    assert {a.status_code for a in after} == {200}
    assert victim not in {a.json()["pid"] for a in after}

    def replaced() -> bool:
        health = workers.health()["native_workers"]
        return health["alive"] == 2 and health["restarts"] == 1

    wait_for(replaced)
    pids = worker_pids(workers)
    assert survivor in pids and victim not in pids
    assert gone(victim)
    # the new process takes its share: concurrent requests reach both workers again
    with concurrent.futures.ThreadPoolExecutor(8) as pool:
        again = list(pool.map(lambda _: slow(0), range(8)))
    assert {a.status_code for a in again} == {200}
    assert {a.json()["pid"] for a in again} == set(pids)
    assert "native_worker_died" in (workers.config.parent / "gateway.log").read_text()


def test_metrics_and_dashboard_show_the_pool(workers: LiveGateway) -> None:
    httpx.get(workers.url + "/n/who", timeout=5)
    text = httpx.get(workers.url + "/_strangler/metrics", timeout=5).text
    assert 'strangler_native_workers{state="alive"} 2.0' in text
    assert 'strangler_native_workers{state="down"} 0.0' in text
    served = re.findall(r'strangler_native_worker_requests_total\{worker="\d"\} (\S+)', text)
    assert len(served) == 2 and sum(float(v) for v in served) >= 1
    assert 'strangler_native_worker_restarts_total{worker="0"} 0.0' in text
    page = httpx.get(workers.url + "/_strangler/", timeout=5).text  # loopback: let in
    assert "Native workers: 2 of 2 alive, 0 restarts" in page
    for pid in worker_pids(workers):
        assert f"pid {pid}" in page


def test_workers_end_with_the_gateway(tmp_path: Path, closed_port_url: str) -> None:
    table = table_text(closed_port_url, ROUTES, native=NATIVE)
    (tmp_path / "term").mkdir()
    with live_gateway(table, tmp_path / "term") as gateway:
        pids = worker_pids(gateway)
        directory = socket_dir(pids[0])
        assert gateway.stop() == 0
    assert all(gone(pid) for pid in pids)
    assert not directory.exists()
    # killed outright, the gateway cannot stop them: the kernel tells them it is gone
    (tmp_path / "kill").mkdir()
    with live_gateway(table, tmp_path / "kill") as gateway:
        pids = worker_pids(gateway)
        gateway.proc.kill()
        gateway.proc.wait()
        wait_for(lambda: all(gone(pid) for pid in pids))


def test_shadow_candidates_run_in_the_workers_as_dry_runs(
    tmp_path: Path,
) -> None:
    class Legacy(socketserver.BaseRequestHandler):
        def handle(self) -> None:
            data = b""
            while b"\r\n\r\n" not in data:
                chunk = self.request.recv(65536)
                if not chunk:
                    return
                data += chunk
            body = b'{"dry_run": "1"}'
            self.request.sendall(
                b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
                b"Content-Length: %d\r\nConnection: close\r\n\r\n%b" % (len(body), body)
            )

    routes = "  - id: dry\n    match: GET /n/dry\n    mode: shadow\n"
    shadow = f"shadow:\n  store: sqlite:///{tmp_path}/parity.db\n  noise_sample: 0\n"
    with threaded_server(Legacy) as port:
        table = table_text(f"http://127.0.0.1:{port}", routes, native=NATIVE, extra=shadow)
        with live_gateway(table, tmp_path) as gateway:
            for _ in range(10):
                answer = httpx.get(gateway.url + "/n/dry", timeout=5)
                assert answer.json() == {"dry_run": "1"}  # legacy's answer reaches the client

            def compared() -> bool:
                return _outcomes(gateway).get("matched", 0) == 10

            wait_for(compared)
            served = sum(w["served"] for w in gateway.health()["native_workers"]["workers"])
            assert served == 10


def _outcomes(gateway: LiveGateway) -> dict[str, float]:
    text = httpx.get(gateway.url + "/_strangler/metrics", timeout=5).text
    found: dict[str, Any] = {}
    for outcome, value in re.findall(
        r'strangler_shadow_outcomes_total\{outcome="(\w+)",route="dry"\} (\S+)', text
    ):
        found[outcome] = float(value)
    return found


def test_an_app_that_cannot_be_imported_stops_serve_with_its_reason(
    tmp_path: Path, closed_port_url: str
) -> None:
    native = "  app: tests.support.no_such_module:app\n  workers: 2\n"
    table = table_text(closed_port_url, ROUTES, native=native)
    with pytest.raises(RuntimeError) as failed, live_gateway(table, tmp_path):
        pass
    assert "no module named 'tests.support.no_such_module'" in str(failed.value)
