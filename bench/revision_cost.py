"""What a change costs the proxied path: the gateway at HEAD against an earlier revision, side by
side, with wrk, on the same tiny upstream.

    .venv/bin/python -m bench.revision_cost [--baseline REV] [--rounds 7] [--duration 5]
                                            [--conns 32] [--write FILE]

The baseline revision is checked out into a temporary git worktree (nothing of it is kept); both
gateways run `strangler serve` in legacy mode (no routes) pinned to core 1, in front of one nginx
serving a tiny JSON file; wrk (one thread, core 0) loads each in turn, alternating for
`--rounds`, so the drift of a shared machine hits both alike. Reported per revision: requests per
second and the gateway's CPU per request (utime + stime from /proc over each run), and HEAD's
ratio to the baseline within each round, whose median is the figure to read.
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

from bench import procs, services, wrk
from bench.procs import CLK_TCK

ROOT = Path(__file__).resolve().parents[1]
KINDS = ("baseline", "head")
RUN = "import sys; from proxy.cli import main; sys.exit(main(sys.argv[1:]))"


def _table(url: str) -> str:
    return f"version: 1\nlegacy:\n  url: {url}\n  timeout: 30s\nroutes: []\n"


def _start(reg: procs.Registry, kind: str, tree: Path, upstream: str) -> procs.Proc:
    port = procs.free_port()
    conf = reg.tmp / f"{kind}.yaml"
    conf.write_text(_table(upstream))
    # the tree's own code: its proxy package first on the path, the shared virtualenv's libraries
    cmd = [
        sys.executable, "-c", RUN,
        "serve", "--host", "127.0.0.1", "--port", str(port), "--config", str(conf),
    ]  # fmt: skip
    env = {"PYTHONPATH": str(tree), "STRANGLER_LOG_FORMAT": "json", "STRANGLER_WATCH": "0"}
    return reg.start(kind, cmd, env=env, port=port, cwd=tree, cpus="1")


def measure(
    baseline: str, rounds: int, duration: float, conns: int
) -> dict[str, list[tuple[float, float]]]:
    results: dict[str, list[tuple[float, float]]] = {kind: [] for kind in KINDS}
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        old = work / "baseline"
        subprocess.run(
            ["git", "-C", str(ROOT), "worktree", "add", "--detach", "-q", str(old), baseline],
            check=True,
        )
        registry = procs.Registry(work)
        try:
            static = services.start_static(registry)
            static.pin("0")
            upstream = f"http://127.0.0.1:{static.port}"
            gateways = {
                "baseline": _start(registry, "baseline", old, upstream),
                "head": _start(registry, "head", ROOT, upstream),
            }
            for gateway in gateways.values():
                wrk.run(f"http://127.0.0.1:{gateway.port}/tiny.json", conns, 1, "0")  # warm up
            for _ in range(rounds):
                for kind in KINDS:
                    gateway = gateways[kind]
                    before = gateway.cpu()
                    url = f"http://127.0.0.1:{gateway.port}/tiny.json"
                    result = wrk.run(url, conns, duration, "0")
                    ticks = gateway.cpu() - before
                    if result.errors or result.non_2xx:
                        raise RuntimeError(
                            f"{kind}: {result.errors} errors, {result.non_2xx} non-2xx"
                        )
                    results[kind].append((result.rps, ticks / CLK_TCK / result.requests * 1e6))
        finally:
            registry.stop_all()
            subprocess.run(
                ["git", "-C", str(ROOT), "worktree", "remove", "--force", str(old)], check=False
            )
    return results


def report(results: dict[str, list[tuple[float, float]]], baseline: str, conns: int) -> str:
    def median(kind: str, i: int) -> float:
        return statistics.median(r[i] for r in results[kind])

    paired = sorted(h[1] / b[1] for b, h in zip(results["baseline"], results["head"], strict=True))
    quarter = len(paired) // 4
    head = subprocess.run(
        ["git", "-C", str(ROOT), "rev-parse", "--short", "HEAD"], capture_output=True, text=True
    ).stdout.strip()
    lines = [
        f"# The proxied path at {head} against {baseline}",
        "",
        f"Legacy mode, no routes, in front of nginx serving a tiny JSON file; wrk -t1 -c{conns};",
        f"{len(paired)} alternating rounds; each gateway one uvicorn process pinned to core 1.",
        f"Machine: {platform.machine()}, Python {platform.python_version()}, load average "
        f"{os.getloadavg()[0]:.1f} at the end (a shared machine: read the paired ratio).",
        "",
        "| revision | requests/s | CPU µs/request |",
        "|---|---:|---:|",
        *[f"| {kind} | {median(kind, 0):,.0f} | {median(kind, 1):.1f} |" for kind in KINDS],
        "",
        "CPU per request, HEAD / baseline within each round: median "
        f"{statistics.median(paired):.3f} (middle half {paired[quarter]:.3f} to "
        f"{paired[-1 - quarter]:.3f}).",
        "",
    ]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.revision_cost")
    parser.add_argument("--baseline", default="HEAD~1", help="the revision to compare with")
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--duration", type=float, default=5.0)
    parser.add_argument("--conns", type=int, default=32)
    parser.add_argument("--write", metavar="FILE", help="also write the report there")
    opts = parser.parse_args(argv)
    text = report(measure(opts.baseline, opts.rounds, opts.duration, opts.conns), opts.baseline,
                  opts.conns)  # fmt: skip
    print(text)
    if opts.write:
        Path(opts.write).write_text(text, encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
