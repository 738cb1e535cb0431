"""Static files side by side: uvicorn + proxy.sides.static against nginx, same tree, same run.

    .venv/bin/python -m bench.static_files [--rounds 3] [--duration 5] [--connections 32]

wrk (one thread) on the load core, each server alone on the other core (nginx: one worker;
uvicorn: one process, uvloop and httptools, as `strangler serve` runs it). The servers take
turns within every round, so each ratio compares two runs made under the same conditions:
requests/s of a 4 KB file (ours ÷ nginx's), p99 latency, and the RSS growth of our process
while clients download a 100 MB file (four at full speed, then one reading at 20 MB/s).
Prints a markdown summary; needs wrk, nginx, curl and taskset.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import statistics
import subprocess
import tempfile
import threading
import time
from pathlib import Path

from tests.support.static_root import CACHE_CONTROL, nginx_root, uvicorn_root

LOAD_CPU, SERVER_CPU = 0, 1
BIG = 100 * 1024 * 1024


def make_tree(root: Path) -> None:
    (root / "build").mkdir(parents=True)
    (root / "build" / "app.4k.js").write_bytes(os.urandom(4096))
    with (root / "big.bin").open("wb") as out:
        block = os.urandom(1024 * 1024)
        for _ in range(BIG // len(block)):
            out.write(block)


def wrk(port: int, path: str, seconds: int, connections: int) -> tuple[float, float]:
    """(requests/s, p99 in ms) of one wrk run."""
    command = ["taskset", "-c", str(LOAD_CPU), "wrk", "-t1", f"-c{connections}", f"-d{seconds}s"]
    command += ["--latency", f"http://127.0.0.1:{port}{path}"]
    out = subprocess.run(command, capture_output=True, text=True, check=True).stdout
    rate = float(re.search(r"Requests/sec:\s+([\d.]+)", out)[1])  # type: ignore[index]
    p99, unit = re.search(r"99%\s+([\d.]+)(us|ms|s)\b", out).groups()  # type: ignore[union-attr]
    return rate, float(p99) * {"us": 0.001, "ms": 1.0, "s": 1000.0}[unit]


def rss_kib(pid: int) -> int:
    status = Path(f"/proc/{pid}/status").read_text()
    return int(re.search(r"VmRSS:\s+(\d+) kB", status)[1])  # type: ignore[index]


def rss_growth_while(pid: int, downloads: list[list[str]]) -> tuple[int, int]:
    """(baseline RSS, peak growth) in KiB while the curl commands run at once."""
    baseline = rss_kib(pid)
    peak = baseline
    running = [subprocess.Popen(c, stdout=subprocess.DEVNULL) for c in downloads]
    done = threading.Event()

    def sample() -> None:
        nonlocal peak
        while not done.is_set():
            peak = max(peak, rss_kib(pid))
            time.sleep(0.02)

    sampler = threading.Thread(target=sample)
    sampler.start()
    try:
        for proc in running:
            if proc.wait() != 0:
                raise RuntimeError(f"download failed: {proc.args!r}")
    finally:
        done.set()
        sampler.join()
    return baseline, peak - baseline


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--duration", type=int, default=5)
    parser.add_argument("--connections", type=int, default=32)
    args = parser.parse_args()
    for tool in ("wrk", "taskset", "curl"):
        if shutil.which(tool) is None:
            raise SystemExit(f"{tool} is needed")
    with tempfile.TemporaryDirectory() as scratch:
        work = Path(scratch)
        root = work / "root"
        make_tree(root)
        small = "/build/app.4k.js"
        with (
            nginx_root(root, work / "nginx", CACHE_CONTROL, cpu=SERVER_CPU) as (nginx, _),
            uvicorn_root(root, CACHE_CONTROL, work / "uvicorn.log", cpu=SERVER_CPU) as (ours, pid),
        ):
            for port in (nginx, ours):  # warm up: page cache, file cache, connections
                wrk(port, small, 1, args.connections)
            rows = []
            for _ in range(args.rounds):
                theirs = wrk(nginx, small, args.duration, args.connections)
                mine = wrk(ours, small, args.duration, args.connections)
                rows.append((mine, theirs))
            url = f"http://127.0.0.1:{ours}/big.bin"
            fast = [["curl", "-sf", "-o", "/dev/null", url] for _ in range(4)]
            slow = [["curl", "-sf", "--limit-rate", "20M", "-o", "/dev/null", url]]
            base, fast_growth = rss_growth_while(pid, fast)
            _, slow_growth = rss_growth_while(pid, slow)
    ratios = [mine[0] / theirs[0] for mine, theirs in rows]
    print(
        f"## 4 KB file, {args.connections} connections, {args.rounds} rounds of {args.duration} s"
    )
    print()
    print("| round | ours req/s | nginx req/s | ratio | ours p99 ms | nginx p99 ms |")
    print("|---|---|---|---|---|---|")
    for number, (mine, theirs) in enumerate(rows, 1):
        print(
            f"| {number} | {mine[0]:.0f} | {theirs[0]:.0f} | {mine[0] / theirs[0]:.3f} "
            f"| {mine[1]:.2f} | {theirs[1]:.2f} |"
        )
    print()
    print(
        f"throughput ratio: median {statistics.median(ratios):.3f} "
        f"(min {min(ratios):.3f}, max {max(ratios):.3f}); goal >= 0.25"
    )
    print()
    print(f"## 100 MB file: RSS of our process (baseline {base / 1024:.1f} MiB)")
    print()
    print(f"- 4 downloads at once, full speed: peak growth {fast_growth / 1024:.1f} MiB")
    print(f"- 1 download at 20 MB/s: peak growth {slow_growth / 1024:.1f} MiB")


if __name__ == "__main__":
    main()
