"""Native workers: the native app in processes the gateway starts, supervises and calls.

With `native: {app: ..., workers: N, nice: 10}` the gateway does not import the app. Its
lifespan starts N worker processes (`proxy.sides.worker`), each serving the app with uvicorn on
a unix socket in a private directory (mode 0700, removed at stop), at CPU priority `nice`, and
calls them through its own HTTP/1.1 client, with keep-alive, as it calls `native.url`. So
native mode scales past one core, and shadow mode's candidates run beside the gateway rather
than on its event loop and interpreter lock: on a busy machine the kernel gives the gateway
(and PHP) the CPU first, and comparisons what is left.

- A request goes to the live worker with the fewest requests in flight.
- A worker that dies is out of the rotation at once; its requests in flight fail (502 with the
  request id, or an errored comparison), nothing else does: a request sent to a worker whose
  socket refuses it (it died a moment ago; nothing of the request was sent) goes to another,
  and that worker is passed over for REFUSED_PAUSE seconds. One spare process, its app already
  imported, waits to take a dead worker's place, so a worker is back in milliseconds; a new
  spare is started behind it. A worker that dies within STABLE seconds of starting is restarted
  with a growing delay (to MAX_BACKOFF), so an app that cannot run does not spin a core.
- Worker processes die with the gateway: stopped (SIGTERM, then SIGKILL after the graceful
  timeout) at its lifespan shutdown, and asked of the kernel to get SIGTERM if the gateway's
  process ends any other way.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import os
import shutil
import signal
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from proxy.logs import get_logger
from proxy.sides.worker import WorkerOptions
from proxy.table.targets import Target, Upstream

if TYPE_CHECKING:
    from proxy.table.snapshot import Snapshot

log = get_logger("proxy.sides.workers")
WORKER_MODULE = "proxy.sides.worker"
START_TIMEOUT = 60.0  # seconds for a worker to import the app, or to start serving
STABLE = 10.0  # a worker that lived this long is restarted at once when it dies
MAX_BACKOFF = 10.0
# the worker answers its own timeouts (504, as the in-process app's); the gateway's budget for
# the exchange is a little longer, so that the worker's answer is the one the client gets
BUDGET_MARGIN = 1.0
REFUSED_PAUSE = 1.0  # seconds a worker whose socket refused a connection is passed over
# shadow candidates one worker runs at once, at most; past that (on every worker) a candidate
# is shed. Candidates then take only the CPU the workers' priority leaves them, and never
# queue in a worker ahead of native-mode requests, which have no such bound
CANDIDATES_PER_WORKER = 2


class WorkerStartError(Exception):
    """A worker process could not start serving; the message says why."""


def worker_upstream(path: str) -> Upstream:
    """The upstream of one worker's socket: the client's Host passes, as to native.url."""
    return Upstream(
        url=f"unix:{path}",
        base_path="",
        host_header="localhost",
        origins=(),
        preserve_host=True,
        socket=path,
    )


@dataclass(eq=False, slots=True)
class Worker:
    """One slot of the pool: the process serving it now, and what the operator sees of it."""

    index: int
    pid: int = 0
    upstream: Upstream | None = None  # None while no process serves this slot
    restarts: int = 0
    in_flight: int = 0
    served: int = 0  # requests sent to it, over all its processes
    started_at: float = 0.0  # wall clock, of the process serving now
    failures: int = 0  # deaths in a row, each within STABLE seconds of starting
    refused_at: float = 0.0  # monotonic: when its socket last refused a connection
    candidates: int = 0  # of in_flight, shadow candidates (at most CANDIDATES_PER_WORKER)
    _target: Target | None = field(default=None, repr=False)
    _target_of: object = field(default=None, repr=False)

    @property
    def alive(self) -> bool:
        return self.upstream is not None

    def serving(self, pid: int, upstream: Upstream) -> None:
        """A new process serves this slot, on a socket of its own."""
        self.pid, self.upstream, self.started_at = pid, upstream, time.time()
        self.refused_at = 0.0
        self._target = None  # the last process's socket

    def target(self, snapshot: Snapshot) -> Target:
        """This worker as a forwarding target under the table in force (built once a table and
        process: `serving` drops it when another process takes the slot)."""
        if self._target_of is not snapshot or self._target is None:
            assert self.upstream is not None
            budget = snapshot.native_timeout + BUDGET_MARGIN
            buffer = snapshot.table.limits.buffer_request
            self._target, self._target_of = Target(self.upstream, budget, buffer), snapshot
        return self._target

    def as_json(self) -> dict[str, object]:
        return {
            "index": self.index,
            "pid": self.pid if self.alive else None,
            "alive": self.alive,
            "restarts": self.restarts,
            "in_flight": self.in_flight,
            "candidates": self.candidates,
            "served": self.served,
            "started_at": self.started_at if self.alive else None,
        }


class Lease:
    """One request's worker; moved to another when its worker refuses the connection."""

    __slots__ = ("candidate", "pool", "worker")

    def __init__(self, pool: NativeWorkers, worker: Worker, candidate: bool) -> None:
        self.pool = pool
        self.worker = worker
        self.candidate = candidate
        worker.in_flight += 1
        worker.candidates += candidate
        worker.served += 1

    def target(self, snapshot: Snapshot) -> Target:
        return self.worker.target(snapshot)

    def elsewhere(self, snapshot: Snapshot) -> Target | None:
        """This worker refused the connection: another one's target, or None if none runs."""
        refused = self.worker
        refused.refused_at = time.monotonic()
        other = self.pool.pick(self.candidate)
        if other is None:
            return None
        self.end()
        self.worker = other
        other.in_flight += 1
        other.candidates += self.candidate
        other.served += 1
        return other.target(snapshot)

    def end(self) -> None:
        self.worker.in_flight -= 1
        self.worker.candidates -= self.candidate


class _Process:
    """A started worker process and its report lines (see proxy.sides.worker)."""

    def __init__(self, proc: asyncio.subprocess.Process) -> None:
        self.proc = proc

    async def expect(self, wanted: str) -> None:
        """Wait for the report line `wanted`; WorkerStartError for anything else."""
        assert self.proc.stdout is not None
        try:
            async with asyncio.timeout(START_TIMEOUT):
                line = (await self.proc.stdout.readline()).decode("utf-8", "replace").strip()
        except TimeoutError:
            self.kill()
            raise WorkerStartError(f"no word from it within {START_TIMEOUT:g}s") from None
        if line == wanted:
            return
        if line.startswith("error: "):
            raise WorkerStartError(line.removeprefix("error: "))
        status = await self.proc.wait()
        raise WorkerStartError(f"it exited with status {status} (its log lines say why)")

    async def serve(self, path: str, index: int) -> None:
        assert self.proc.stdin is not None
        self.proc.stdin.write(f"serve {path} {index}\n".encode())
        with contextlib.suppress(ConnectionError):
            await self.proc.stdin.drain()
        await self.expect("serving")

    def dismiss(self) -> None:
        """A spare no longer wanted: closing its stdin ends it."""
        if self.proc.stdin is not None:
            self.proc.stdin.close()

    def signal(self, sig: int) -> None:
        with contextlib.suppress(ProcessLookupError):
            self.proc.send_signal(sig)

    def kill(self) -> None:
        self.signal(signal.SIGKILL)


class NativeWorkers:
    """The worker pool of one gateway process."""

    def __init__(
        self,
        app: str,
        count: int,
        *,
        nice: int = 10,
        timeout: float = 10.0,
        grace: float = 10.0,
        log_json: bool | None = None,
        log_level: str = "info",
        on_gone: Callable[[Upstream], None] | None = None,
    ) -> None:
        self.app = app
        self.nice = nice
        self.grace = grace
        self.options = WorkerOptions(
            app, nice, timeout, os.getpid(), grace, log_json, log_level
        ).argument()
        self.on_gone = on_gone  # a worker's socket is gone: drop its connections
        self.workers = [Worker(i) for i in range(count)]
        self.directory = ""
        self._processes: dict[Worker, _Process] = {}  # serving
        self._started: list[_Process] = []  # every process started and not yet seen to end
        self._watchers: list[asyncio.Task[None]] = []
        self._spare: asyncio.Task[_Process] | None = None
        self._sockets = itertools.count(1)
        self._turn = 0
        self._stopping = False

    # ------------------------------------------------------------ the hot path

    def pick(self, candidate: bool = False) -> Worker | None:
        """The live worker with the fewest requests in flight (in turn among equals); for a
        shadow candidate, one running fewer than CANDIDATES_PER_WORKER candidates."""
        workers = self.workers
        count = len(workers)
        best: Worker | None = None
        start = self._turn = (self._turn + 1) % count
        for offset in range(count):
            worker = workers[(start + offset) % count]
            if worker.upstream is None or (best is not None and worker.in_flight >= best.in_flight):
                continue
            if candidate and worker.candidates >= CANDIDATES_PER_WORKER:
                continue
            if worker.refused_at and time.monotonic() - worker.refused_at < REFUSED_PAUSE:
                continue
            best = worker
            if not worker.in_flight:
                break
        return best

    def lease(self, candidate: bool = False) -> Lease | None:
        """A worker for one request, counted in flight until `Lease.end`; None: none runs (or,
        for a shadow candidate, none has room for one)."""
        worker = self.pick(candidate)
        return Lease(self, worker, candidate) if worker is not None else None

    # ------------------------------------------------------------ life

    async def start(self) -> None:
        """Start every worker; returns once all serve. WorkerStartError if one cannot."""
        self.directory = tempfile.mkdtemp(prefix="strangler-native-")  # mode 0700
        started = await asyncio.gather(
            *(self._spawn() for _ in self.workers), return_exceptions=True
        )
        try:
            for worker, process in zip(self.workers, started, strict=True):
                if isinstance(process, BaseException):
                    raise WorkerStartError(f"native worker {worker.index}: {process}")
                await self._serve(worker, process)
        except BaseException:
            for process in started:
                if isinstance(process, _Process):
                    process.kill()
            await self.stop()
            raise
        self._watchers = [asyncio.create_task(self._watch(w)) for w in self.workers]
        self._spare = asyncio.create_task(self._spawn())
        self._spare.add_done_callback(_quiet)
        log.info(
            "native_workers_started",
            app=self.app,
            workers=len(self.workers),
            nice=self.nice,
            pids=[w.pid for w in self.workers],
        )

    async def stop(self) -> None:
        """Stop every worker (SIGTERM, then SIGKILL past the graceful timeout) and the spare."""
        self._stopping = True
        tasks = [*self._watchers, *([self._spare] if self._spare is not None else [])]
        self._spare = None
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        self._processes.clear()
        processes = [p for p in self._started if p.proc.returncode is None]
        self._started.clear()
        for process in processes:
            process.dismiss()  # a spare ends when its stdin closes, a worker on SIGTERM
            process.signal(signal.SIGTERM)
        waiting = [asyncio.create_task(p.proc.wait()) for p in processes]
        if waiting:
            _, late = await asyncio.wait(waiting, timeout=self.grace)
            for process in processes:
                if process.proc.returncode is None:
                    process.kill()
            if late:
                await asyncio.wait(late)
        for worker in self.workers:
            worker.upstream = None
        if self.directory:
            shutil.rmtree(self.directory, ignore_errors=True)

    async def _spawn(self) -> _Process:
        try:
            proc = await self._exec()
        except OSError as exc:  # no process could be made (fork refused, no interpreter)
            raise WorkerStartError(f"cannot start a process: {exc}") from exc
        process = _Process(proc)
        self._started = [p for p in self._started if p.proc.returncode is None]
        self._started.append(process)
        await process.expect("ready")
        return process

    async def _exec(self) -> asyncio.subprocess.Process:
        return await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            WORKER_MODULE,
            self.options,
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
            # not in the terminal's process group: a Ctrl-C reaches the gateway, which stops
            # its workers after its own requests in flight are done
            start_new_session=True,
        )

    async def _serve(self, worker: Worker, process: _Process) -> None:
        path = os.path.join(self.directory, f"native-{worker.index}.{next(self._sockets)}.sock")
        try:
            await process.serve(path, worker.index)
        except WorkerStartError as exc:
            process.kill()
            raise WorkerStartError(f"native worker {worker.index}: {exc}") from None
        self._processes[worker] = process
        worker.serving(process.proc.pid, worker_upstream(path))

    async def _watch(self, worker: Worker) -> None:
        """Restart the worker whenever its process ends, for the gateway's life."""
        while True:
            process = self._processes[worker]
            status = await process.proc.wait()
            if self._stopping:
                return
            self._gone(worker, status)
            while True:
                delay = backoff(worker.failures)
                if delay:
                    await asyncio.sleep(delay)
                try:
                    await self._serve(worker, await self._take_spare())
                    break
                except WorkerStartError as exc:
                    worker.failures += 1
                    log.error("native_worker_failed", worker=worker.index, error=str(exc))
            log.info("native_worker_restarted", worker=worker.index, pid=worker.pid)

    def _gone(self, worker: Worker, status: int) -> None:
        upstream = worker.upstream
        worker.upstream = None
        lived = time.time() - worker.started_at
        worker.failures = 0 if lived >= STABLE else worker.failures + 1
        worker.restarts += 1
        if upstream is not None:
            with contextlib.suppress(OSError):
                os.unlink(upstream.socket)
        log.error(
            "native_worker_died",
            worker=worker.index,
            pid=worker.pid,
            status=status,
            lived=round(lived, 3),
            in_flight=worker.in_flight,
        )
        if upstream is not None and self.on_gone is not None:
            self.on_gone(upstream)

    async def _take_spare(self) -> _Process:
        """The waiting spare (or, if it failed, a new process), and a new spare behind it."""
        spare, self._spare = self._spare, None
        process: _Process | None = None
        if spare is not None:
            with contextlib.suppress(WorkerStartError, OSError):
                process = await spare
        if process is None or process.proc.returncode is not None:
            process = await self._spawn()
        self._spare = asyncio.create_task(self._spawn())
        self._spare.add_done_callback(_quiet)
        return process

    # ------------------------------------------------------------ what the operator sees

    def status(self) -> dict[str, object]:
        workers = self.workers
        return {
            "app": self.app,
            "count": len(workers),
            "alive": sum(w.alive for w in workers),
            "restarts": sum(w.restarts for w in workers),
            "in_flight": sum(w.in_flight for w in workers),
            "candidates": sum(w.candidates for w in workers),
            "candidates_per_worker": CANDIDATES_PER_WORKER,
            "nice": self.nice,
            "workers": [w.as_json() for w in workers],
        }


def backoff(failures: int) -> float:
    """Seconds before a worker's restart: none after a worker that ran well or failed once,
    then 0.25 s doubling to MAX_BACKOFF for an app that keeps failing."""
    if failures <= 1:
        return 0.0
    return min(0.25 * 2.0 ** (failures - 2), MAX_BACKOFF)


def _quiet(task: asyncio.Task[_Process]) -> None:
    """A spare that failed is retried when it is needed; its error is logged then."""
    if not task.cancelled():
        task.exception()
