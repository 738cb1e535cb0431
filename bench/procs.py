"""Processes of a benchmark run: start, pin to a core, read RSS and CPU, stop.

Every process is started in its own session (process group) and recorded in
`$BENCH_TMP/pids`, so `bench/run.sh` can stop whatever is left by process group id if the driver
itself dies. Nothing here stops a process this run did not start.
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import time
import urllib.error
import urllib.request
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

CLK_TCK = os.sysconf("SC_CLK_TCK")
PAGE = os.sysconf("SC_PAGE_SIZE")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_for_port(port: int, proc: subprocess.Popen[bytes] | None, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc is not None and proc.poll() is not None:
            raise RuntimeError(f"process exited early with code {proc.returncode}")
        with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), 0.2):
            return
        time.sleep(0.05)
    raise TimeoutError(f"nothing listening on 127.0.0.1:{port} after {timeout}s")


def http_get(
    url: str, headers: dict[str, str] | None = None, timeout: float = 30.0
) -> tuple[int, bytes]:
    req = urllib.request.Request(url, headers=headers or {})
    try:
        with urllib.request.urlopen(req, timeout=timeout) as resp:
            return int(resp.status), resp.read()
    except urllib.error.HTTPError as exc:
        return int(exc.code), exc.read()


def children_of(pid: int) -> list[int]:
    """`pid` and all its descendants (scan of /proc)."""
    parents: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            stat = Path(f"/proc/{entry}/stat").read_text()
        except OSError:
            continue
        ppid = int(stat.rsplit(")", 1)[1].split()[1])
        parents.setdefault(ppid, []).append(int(entry))
    found, todo = [], [pid]
    while todo:
        current = todo.pop()
        found.append(current)
        todo.extend(parents.get(current, []))
    return found


def cpu_ticks(pids: Sequence[int]) -> int:
    """utime + stime of each process, in clock ticks, summed."""
    total = 0
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += int(fields[11]) + int(fields[12])  # fields 14 and 15 of proc(5)
    return total


def rss_bytes(pids: Sequence[int]) -> int:
    total = 0
    for pid in pids:
        try:
            pages = int(Path(f"/proc/{pid}/statm").read_text().split()[1])
        except OSError:
            continue
        total += pages * PAGE
    return total


def pin(pids: Sequence[int], cpus: str | None) -> None:
    """Set the CPU affinity of every thread of every process in `pids` (None: every core)."""
    mask = set(range(os.cpu_count() or 1)) if cpus is None else _cpus(cpus)
    for pid in pids:
        with contextlib.suppress(OSError):
            for tid in os.listdir(f"/proc/{pid}/task"):
                with contextlib.suppress(OSError):
                    os.sched_setaffinity(int(tid), mask)


def _cpus(text: str) -> set[int]:
    out: set[int] = set()
    for part in text.split(","):
        lo, _, hi = part.partition("-")
        out.update(range(int(lo), int(hi or lo) + 1))
    return out


@dataclass
class Proc:
    name: str
    popen: subprocess.Popen[bytes]
    port: int | None = None
    log: Path | None = None
    info: dict[str, object] = field(default_factory=dict)

    @property
    def pid(self) -> int:
        return self.popen.pid

    def tree(self) -> list[int]:
        return children_of(self.popen.pid)

    def pin(self, cpus: str | None) -> None:
        pin(self.tree(), cpus)

    def rss(self) -> int:
        return rss_bytes(self.tree())

    def cpu(self) -> int:
        return cpu_ticks(self.tree())


class Registry:
    """The processes of this run, stopped in reverse order at the end."""

    def __init__(self, tmp: Path) -> None:
        self.tmp = tmp
        self.procs: list[Proc] = []
        self.pidfile = tmp / "pids"

    def start(
        self,
        name: str,
        cmd: Sequence[str],
        *,
        env: dict[str, str] | None = None,
        port: int | None = None,
        cwd: Path | None = None,
        cpus: str | None = None,
        wait: bool = True,
        timeout: float = 60.0,
    ) -> Proc:
        log = self.tmp / f"{name}.log"
        full = list(cmd) if cpus is None else ["taskset", "-c", cpus, *cmd]
        with open(log, "ab") as out:
            popen = subprocess.Popen(
                full,
                env={**os.environ, **(env or {})},
                stdout=out,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                cwd=cwd,
                start_new_session=True,
            )
        with open(self.pidfile, "a") as f:
            f.write(f"{popen.pid}\n")
        proc = Proc(name, popen, port, log)
        self.procs.append(proc)
        if wait and port is not None:
            try:
                wait_for_port(port, popen, timeout)
            except Exception as exc:
                tail = log.read_text(errors="replace")[-3000:]
                raise RuntimeError(f"{name} did not start: {exc}\n{tail}") from exc
        return proc

    def stop(self, proc: Proc, grace: float = 5.0) -> None:
        if proc.popen.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.popen.pid, signal.SIGTERM)
            try:
                proc.popen.wait(grace)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(proc.popen.pid, signal.SIGKILL)
                proc.popen.wait()
        # workers that outlived their master (same process group) go too
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(proc.popen.pid, signal.SIGKILL)
        if proc in self.procs:
            self.procs.remove(proc)

    def stop_all(self) -> None:
        for proc in reversed(list(self.procs)):
            with contextlib.suppress(Exception):
                self.stop(proc, grace=3.0)
