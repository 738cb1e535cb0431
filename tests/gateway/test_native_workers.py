"""The native worker pool (proxy.sides.workers) on its own: choosing a worker, moving a request
off a worker that refuses it, restart delays, and an app that cannot start."""

from __future__ import annotations

import asyncio
import re
from pathlib import Path

import pytest

from proxy.sides import workers as pool
from proxy.sides.workers import NativeWorkers, WorkerStartError, backoff, worker_upstream
from proxy.table.snapshot import build_snapshot
from tests.gateway.conftest import make_table


def running(count: int) -> NativeWorkers:
    """A pool whose workers are marked as serving, without processes (for choosing)."""
    workers = NativeWorkers("tests.support.native_app:app", count)
    for worker in workers.workers:
        worker.upstream = worker_upstream(f"/tmp/w{worker.index}.sock")
    return workers


def test_the_least_busy_live_worker_is_chosen_in_turn_among_equals() -> None:
    workers = running(3)
    first, second, third = workers.workers
    chosen = [workers.pick() for _ in range(6)]
    assert {w.index for w in chosen if w is not None} == {0, 1, 2}  # all idle: each in turn
    first.in_flight, second.in_flight, third.in_flight = 2, 1, 3
    assert workers.pick() is second
    second.upstream = None  # died
    assert workers.pick() is first
    first.upstream = third.upstream = None
    assert workers.pick() is None
    assert workers.lease() is None


def test_a_lease_counts_its_request_and_moves_off_a_refusing_worker() -> None:
    workers = running(2)
    snapshot = build_snapshot(make_table("http://127.0.0.1:9"))
    lease = workers.lease()
    assert lease is not None
    refused = lease.worker
    assert (refused.in_flight, refused.served) == (1, 1)
    target = lease.elsewhere(snapshot)
    other = lease.worker
    assert other is not refused and target is not None
    assert target.upstream.socket == f"/tmp/w{other.index}.sock"
    assert target.timeout == snapshot.native_timeout + pool.BUDGET_MARGIN
    assert (refused.in_flight, other.in_flight, other.served) == (0, 1, 1)
    # the refusing worker is passed over for a while, though it still counts as alive
    assert refused.alive and all(workers.pick() is other for _ in range(4))
    assert lease.elsewhere(snapshot) is None  # no third worker: the request fails
    lease.end()
    assert other.in_flight == 0 and refused.in_flight == 0


def test_candidates_are_bounded_per_worker_and_native_requests_are_not() -> None:
    workers = running(2)
    leases = [workers.lease(candidate=True) for _ in range(2 * pool.CANDIDATES_PER_WORKER)]
    assert all(lease is not None for lease in leases)
    assert [w.candidates for w in workers.workers] == [pool.CANDIDATES_PER_WORKER] * 2
    assert workers.lease(candidate=True) is None  # shed: no worker has room
    native = workers.lease()
    assert native is not None  # a client's request still gets a worker
    native.end()
    leases[0].end()  # type: ignore[union-attr]
    freed = workers.lease(candidate=True)
    assert freed is not None and freed.worker is leases[0].worker  # type: ignore[union-attr]
    assert workers.status()["candidates"] == 2 * pool.CANDIDATES_PER_WORKER


def test_a_new_process_in_a_slot_is_reached_on_its_own_socket() -> None:
    workers = running(1)
    snapshot = build_snapshot(make_table("http://127.0.0.1:9"))
    (worker,) = workers.workers
    assert worker.target(snapshot).upstream.socket == "/tmp/w0.sock"
    worker.serving(4242, worker_upstream("/tmp/w0.2.sock"))
    assert worker.target(snapshot).upstream.socket == "/tmp/w0.2.sock"
    assert worker.pid == 4242


def test_restart_delays_grow_only_for_an_app_that_keeps_failing() -> None:
    assert [backoff(n) for n in range(6)] == [0.0, 0.0, 0.25, 0.5, 1.0, 2.0]
    assert backoff(30) == pool.MAX_BACKOFF


ROOT = str(Path(__file__).resolve().parents[2])
BROKEN = """\
async def app(scope, receive, send):
    if scope["type"] == "lifespan":
        await receive()
        await send({"type": "lifespan.startup.failed", "message": "no database"})
"""


async def test_an_app_that_cannot_be_imported_fails_start_with_its_reason(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("PYTHONPATH", ROOT)
    workers = NativeWorkers("tests.support.no_such_module:app", 2)
    reason = re.escape("no module named 'tests.support.no_such_module'")
    with pytest.raises(WorkerStartError, match=reason):
        await workers.start()
    assert not Path(workers.directory).exists()  # noqa: ASYNC240 (a test's one look)


async def test_an_app_whose_startup_fails_fails_start(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "broken_app.py").write_text(BROKEN)
    monkeypatch.setenv("PYTHONPATH", f"{tmp_path}:{ROOT}")
    workers = NativeWorkers("broken_app:app", 1)
    with pytest.raises(WorkerStartError, match="native worker 0: it exited with status"):
        await asyncio.wait_for(workers.start(), 60)
