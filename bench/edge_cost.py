"""What the edge protocol costs: stock uvicorn httptools vs proxy.edge, side by side, with wrk.

    .venv/bin/python -m bench.edge_cost [--rounds 5] [--duration 5] [--conns 32] [--write]

Two uvicorn processes (one worker, uvloop) serve the same trivial ASGI app on core 1, one with
`http="httptools"`, one with `edge_protocol()`; wrk (one thread, core 0) loads each in turn,
alternating for `--rounds`, so drift on a shared machine hits both alike. Reported per server:
requests per second and server CPU per request (utime + stime from /proc over the run), and the
edge's ratio to stock (the edge must stay within 5 % more CPU per request). Then the same two
protocols in process (bench/edge_micro.py), which shows what the edge adds with less noise.
`--write` stores the tables in bench/results/edge-protocol.md.
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import sys
import tempfile
from pathlib import Path

from bench import edge_micro, procs, wrk
from bench.procs import CLK_TCK

ROOT = Path(__file__).resolve().parents[1]
BODY = b"ok\n"
KINDS = ("stock", "edge")


async def app(scope: dict[str, object], receive: object, send: object) -> None:
    """The trivial app both servers run: 200, three bytes."""
    if scope["type"] != "http":
        return
    await send(  # type: ignore[operator]
        {
            "type": "http.response.start",
            "status": 200,
            "headers": [(b"content-type", b"text/plain"), (b"content-length", b"3")],
        }
    )
    await send({"type": "http.response.body", "body": BODY})  # type: ignore[operator]


def serve(kind: str, port: int) -> None:
    import uvicorn

    from proxy.edge import edge_protocol

    http: object = "httptools" if kind == "stock" else edge_protocol()
    uvicorn.run(
        app,
        host="127.0.0.1",
        port=port,
        loop="uvloop",
        http=http,  # type: ignore[arg-type]
        lifespan="off",
        access_log=False,
        log_level="warning",
    )


def measure(rounds: int, duration: float, conns: int) -> dict[str, list[tuple[float, float]]]:
    """kind → [(requests per second, CPU µs per request)] per round."""
    results: dict[str, list[tuple[float, float]]] = {kind: [] for kind in KINDS}
    with tempfile.TemporaryDirectory() as tmp:
        registry = procs.Registry(Path(tmp))
        try:
            servers = {}
            for kind in KINDS:
                port = procs.free_port()
                cmd = [sys.executable, "-m", "bench.edge_cost", "serve", kind, str(port)]
                servers[kind] = registry.start(kind, cmd, port=port, cwd=ROOT, cpus="1")
            for kind in KINDS:  # warm up
                wrk.run(f"http://127.0.0.1:{servers[kind].port}/", conns, 1, "0")
            for _ in range(rounds):
                for kind in KINDS:
                    server = servers[kind]
                    before = server.cpu()
                    result = wrk.run(f"http://127.0.0.1:{server.port}/", conns, duration, "0")
                    ticks = server.cpu() - before
                    if result.errors or result.non_2xx:
                        raise RuntimeError(
                            f"{kind}: {result.errors} errors, {result.non_2xx} non-2xx"
                        )
                    cpu_us = ticks / CLK_TCK / result.requests * 1e6
                    results[kind].append((result.rps, cpu_us))
        finally:
            registry.stop_all()
    return results


def table(results: dict[str, list[tuple[float, float]]], conns: int, duration: float) -> str:
    rows = []
    stock_rps = statistics.median(r for r, _ in results["stock"])
    stock_cpu = statistics.median(c for _, c in results["stock"])
    for kind in KINDS:
        rps = statistics.median(r for r, _ in results[kind])
        cpu = statistics.median(c for _, c in results[kind])
        rows.append(
            f"| {kind} | {rps:,.0f} | {rps / stock_rps:.3f} | {cpu:.1f} | {cpu / stock_cpu:.3f} |"
        )
    rounds = len(results["stock"])
    # each round runs both servers back to back: the ratio within a round cancels most of the
    # drift of a shared machine, so its median is the figure to read
    paired = sorted(e[1] / s[1] for s, e in zip(results["stock"], results["edge"], strict=True))
    quarter = max(0, len(paired) // 4)
    return "\n".join(
        [
            "# The edge protocol's cost: stock uvicorn httptools vs proxy.edge",
            "",
            f"wrk -t1 -c{conns}, {duration:g} s a run, {rounds} alternating rounds (medians);",
            "a trivial ASGI app, one uvicorn worker with uvloop pinned to core 1, wrk on core 0.",
            f"Machine: {platform.machine()}, {platform.python_implementation()} "
            f"{platform.python_version()}, load average {os.getloadavg()[0]:.1f} at the end "
            "(a shared machine: read the paired ratio), `python -m bench.edge_cost`.",
            "",
            "| server | requests/s | ratio | CPU µs/request | ratio |",
            "|---|---:|---:|---:|---:|",
            *rows,
            "",
            "CPU per request, edge / stock within each round: "
            f"median {statistics.median(paired):.3f}"
            f" (middle half {paired[quarter]:.3f} to {paired[-1 - quarter]:.3f}).",
            "",
            "Per round (requests/s, CPU µs/request):",
            "",
            *[
                f"- {kind}: " + ", ".join(f"{r:,.0f} / {c:.1f}" for r, c in results[kind])
                for kind in KINDS
            ],
            "",
        ]
    )


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if args[:1] == ["serve"]:
        serve(args[1], int(args[2]))
        return 0
    parser = argparse.ArgumentParser(prog="python -m bench.edge_cost")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--duration", type=float, default=5.0)
    parser.add_argument("--conns", type=int, default=32)
    parser.add_argument("--write", action="store_true")
    opts = parser.parse_args(args)
    text = table(measure(opts.rounds, opts.duration, opts.conns), opts.conns, opts.duration)
    text += "\n".join(edge_micro.lines(edge_micro.measure()))
    print(text)
    if opts.write:
        (ROOT / "bench" / "results" / "edge-protocol.md").write_text(text, encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
