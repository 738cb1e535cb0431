"""Part 9: native workers (`native.workers`), beside the native side in the gateway's process.

Not in the default BENCH_PARTS: `BENCH_PARTS=9 BENCH_REPORT=/tmp/other.md make bench` writes
bench/results/workers.md. The real case throughout: the legacy application under PHP-FPM behind
nginx on MariaDB (seeded as part 2 seeds it), the native handlers on the same MariaDB, every
gateway one uvicorn process (`--workers 1`) whose lifespan starts its native workers.

Placement: wrk (one thread) and the kill test's client on the load core (BENCH_LOAD_CPU); the
gateway, its workers, PHP-FPM and MariaDB on no core in particular: the point of workers is
that the gateway and they can use both cores, so nothing of the server side is pinned, for every
target alike (the in-process native side included, so that it, too, may run on either core).

Per round:

1. shadow mode at sample 1.0, the users list and the invoice: legacy mode, the candidate in
   two workers (`workers: 2, nice: 10`: shadow-w2) and in process (shadow-w0). Closed loop at
   32 connections, then all three paced at BENCH_SHADOW_LOAD times legacy mode's closed-loop
   throughput of this round (as part 2). Goals: shadow-w2's p99 ÷ legacy's at the same load
   ≤ 1.10, and the share of client requests compared (matched, mismatched or ignored; from the
   gateway's shadow outcome counters, as part 2) ≥ 90 %.
2. native mode, the users list, closed loop at 32 connections: in process (native-w0), two
   workers at nice 10 (native-w2) and at nice 0 (native-w2-nice0). Goal: native-w2 ÷ native-w0
   throughput ≥ 1.3; the nice 0 ÷ nice 10 ratios are reported. Then the same requests (users
   pages, invoices with and without includes, a missing invoice) to native-w0 and native-w2:
   status and body bytes must be equal.
3. a worker killed: a dedicated gateway in native mode with two workers (nice 10), loaded by
   KILL_CLIENTS closed-loop HTTP clients (httpx, pinned to the load core); after KILL_BEFORE s
   the pid of one worker (alternating by round) is read from /_strangler/health, at a moment
   its `in_flight` is not 0 (health read every 2 ms, up to 1 s), and sent SIGKILL; health is
   polled every few ms until every worker is alive again under a new pid, and the load goes on
   for KILL_AFTER s. Figures: failed client requests (each should be a 502
   carrying X-Request-Id, and no more than the worker's in-flight at the kill), the time from the
   kill to health showing all workers alive (goal < 1 s).

Each worker target's /_strangler/health is read around every measurement: a worker restart during
a throughput run is reported beside the run.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import signal
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from bench import report, services
from bench.procs import CLK_TCK, Proc, children_of, cpu_ticks, http_get, pin

if TYPE_CHECKING:
    from bench.driver import Bench, Target

PART = "9"
RESULTS = Path(__file__).resolve().parent / "results" / "workers.md"
USERS = "/api/v1/admin/users"
INVOICE = "/api/v1/admin/invoices/1?include=items,user"
ENDPOINTS = {"users": USERS, "invoice": INVOICE}
SHADOW = {"w9.legacy": "legacy", "w9.shadow-w2": "shadow-w2", "w9.shadow-w0": "shadow-w0"}
NATIVE = {
    "w9.native-w0": "native-w0",
    "w9.native-w2": "native-w2",
    "w9.native-w2-nice0": "native-w2-nice0",
}
KILL = "w9.kill"
# target → (mode of the two routes, native.workers, native.nice); workers 0: the key is left out
GATEWAYS: dict[str, tuple[str, int, int]] = {
    "w9.legacy": ("legacy", 0, 10),
    "w9.shadow-w2": ("shadow", 2, 10),
    "w9.shadow-w0": ("shadow", 0, 10),
    "w9.native-w0": ("native", 0, 10),
    "w9.native-w2": ("native", 2, 10),
    "w9.native-w2-nice0": ("native", 2, 0),
    KILL: ("native", 2, 10),
}
KILL_CLIENTS = 8
KILL_BEFORE = 1.5
KILL_AFTER = 2.0
SAME_BYTES_PATHS = [
    USERS,
    f"{USERS}?page=2",
    f"{USERS}?per_page=5&page=3",
    *(f"/api/v1/admin/invoices/{i}?include=items,user" for i in range(1, 9)),
    *(f"/api/v1/admin/invoices/{i}" for i in range(1, 5)),
    "/api/v1/admin/invoices/99999999",
]
COMPARED = ("matched", "mismatched", "ignored")
OUTCOMES = (*COMPARED, "errored", "skipped", "shed")


# ---------------------------------------------------------------- gateways


def table(upstream: str, store: str, mode: str, workers: int, nice: int) -> str:
    """A routing.yaml for one target: the users list and invoices in `mode` (legacy: no routes,
    every request to the legacy side, as part 2's legacy target)."""
    routes = []
    if mode != "legacy":
        routes = [
            {"id": "users.list", "match": f"GET {USERS}", "mode": mode},
            {"id": "invoices.show", "match": "GET /api/v1/admin/invoices/{id:int}", "mode": mode},
        ]
    text = services.gateway_table(upstream, routes, store=store, sample=1.0)
    if workers:
        app = "  app: handlers.app:app\n"
        text = text.replace(app, f"{app}  workers: {workers}\n  nice: {nice}\n")
    return text


def start(bench: Bench) -> None:
    """PHP-FPM on MariaDB (shared with parts 1 to 3 when they run) and the part's gateways."""
    from bench.driver import Target

    if services.php_on_mariadb(bench, None):
        bench.results["setup"]["php"] = bench.php["mariadb"].info.get("how")
    upstream = bench.targets["php.direct"].base
    env = {"DATABASE_URL": bench.dbs["mariadb"]["url"]}
    for name, (mode, workers, nice) in GATEWAYS.items():
        store = f"sqlite:///{bench.s.tmp}/parity-{name}.db"
        text = table(upstream, store, mode, workers, nice)
        try:
            proc = services.start_gateway(bench.reg, name, text, env=env)
        except Exception as exc:
            bench.note(f"part 9: gateway {name} did not start: {str(exc)[-1500:]}")
            continue
        (bench.s.raw / f"gw-{name}.yaml").write_text(text.replace(str(bench.s.tmp), "$TMP"))
        own = _Own(proc.name, proc.popen, proc.port, proc.log, proc.info)
        kids = _Workers(proc.name, proc.popen, proc.port, proc.log, proc.info)
        target = Target(name, f"http://127.0.0.1:{proc.port}", [own], None, "gateway", side=[kids])
        target.info["workers"] = workers
        if workers and not _wait_alive(target, workers):
            bench.note(
                f"part 9: {name}: /_strangler/health shows no {workers} live native workers "
                f"30 s after start: {health(target)!r:.600}; dropped"
            )
            continue
        bench.add(target)
    bench.results["commands"]["workers_kill"] = (
        f"taskset -c {bench.s.load_cpu} python -m bench.workers kill --base "
        f"http://127.0.0.1:$PORT --path {USERS} --clients {KILL_CLIENTS} --before {KILL_BEFORE} "
        f"--after {KILL_AFTER} --index N"
    )


class _Own(Proc):
    """The gateway's own process, so that its CPU and RSS are counted apart from its workers'."""

    def tree(self) -> list[int]:
        return [self.popen.pid]


class _Workers(Proc):
    """The gateway's descendants: its native workers and their spare (counted as `side`)."""

    def tree(self) -> list[int]:
        return children_of(self.popen.pid)[1:]


def _place(bench: Bench, t: Target) -> None:
    """The gateway and its workers on every core (the PHP stack too)."""
    bench.place(t, None)
    pin(t.side_pids(), None)


def health(target: Target) -> dict[str, Any] | None:
    """The gateway's /_strangler/health, or None when it does not answer with JSON."""
    with contextlib.suppress(Exception):
        status, body = http_get(target.base + "/_strangler/health", timeout=5)
        if status == 200:
            found = json.loads(body)
            return found if isinstance(found, dict) else None
    return None


def pool(target: Target) -> dict[str, Any] | None:
    """The `native_workers` object of the gateway's health."""
    found = (health(target) or {}).get("native_workers")
    return found if isinstance(found, dict) else None


def _wait_alive(target: Target, count: int, timeout: float = 30.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        state = pool(target)
        if state and state.get("count") == count and state.get("alive") == count:
            return True
        time.sleep(0.2)
    return False


# ---------------------------------------------------------------- the rounds


def part9(bench: Bench, rnd: int) -> None:
    if "php.direct" not in bench.targets:
        bench.note("part 9: the legacy side did not start; not measured")
        return
    for case, path in ENDPOINTS.items():
        shadow_case(bench, rnd, case, path)
    for t in bench._rotate(list(NATIVE), rnd):
        _measure(bench, t, "users", USERS, 32, rnd, NATIVE[t.name])
    same_bytes(bench, rnd)
    kill_test(bench, rnd)


def shadow_case(bench: Bench, rnd: int, case: str, path: str) -> None:
    """Closed loop at 32 connections, then the three at one offered rate: BENCH_SHADOW_LOAD
    times legacy mode's closed-loop throughput of this round."""
    names = list(SHADOW)
    closed: dict[str, dict[str, Any] | None] = {}
    for t in bench._rotate(names, rnd):
        closed[SHADOW[t.name]] = _measure(bench, t, case, path, 32, rnd, SHADOW[t.name])
    legacy = closed.get("legacy")
    if not legacy or not legacy["rps"]:
        bench.note(f"part 9: round {rnd} {case}: no legacy throughput, so no same-load runs")
        return
    rate = bench.s.shadow_load * legacy["rps"]
    for t in bench._rotate(names, rnd):
        label = SHADOW[t.name]
        _measure(bench, t, f"{case}-paced", path, bench.s.paced_conns, rnd, label, rate=rate)


def _measure(
    bench: Bench,
    t: Target,
    case: str,
    path: str,
    conns: int,
    rnd: int,
    label: str,
    rate: float | None = None,
) -> dict[str, Any] | None:
    """One measurement of part 9 with the server side on every core (wrk on the load core), and
    the workers' restarts across it."""
    _place(bench, t)
    before = pool(t) if t.info.get("workers") else None
    settle = 1.5 if "shadow" in t.name else 0.0
    if settle:
        _drain(bench, t)
    groups = _cpu_groups(bench, t)
    ticks0, t0 = {k: cpu_ticks(v) for k, v in groups.items()}, time.monotonic()
    rec = bench.measure(PART, case, t, path, conns, rnd, settle=settle, label=label, rate=rate)
    wall = max(1e-3, time.monotonic() - t0 - settle)  # the CPU of the settle time counts
    if rec is not None:
        # cores busy over warm-up and run (and the comparisons that finish after), per group
        rec["cores"] = {
            k: (cpu_ticks(v) - ticks0[k]) / CLK_TCK / wall for k, v in _cpu_groups(bench, t).items()
        }
    if rec is not None and before is not None:
        after = pool(t) or {}
        rec["worker_restarts"] = after.get("restarts", 0) - before.get("restarts", 0)
        rec["workers_alive"] = after.get("alive")
        if rec["worker_restarts"]:
            bench.note(
                f"part 9: round {rnd} {case} {label}: {rec['worker_restarts']} worker "
                f"restart(s) during the run"
            )
    return rec


def _drain(bench: Bench, t: Target, timeout: float = 15.0) -> None:
    """Wait until the target's shadow counters stop moving (two reads 0.5 s apart agree), so
    that comparisons still queued from its previous run do not count in this one."""
    deadline = time.monotonic() + timeout
    last = bench.shadow_counters(t)
    while time.monotonic() < deadline:
        time.sleep(0.5)
        now = bench.shadow_counters(t)
        if now == last:
            return
        last = now
    bench.note(f"part 9: {t.name}: shadow counters still moving {timeout:.0f} s after its last run")


def _cpu_groups(bench: Bench, t: Target) -> dict[str, list[int]]:
    """Where the CPU of a measurement goes: the gateway's process, its workers, the PHP stack
    (nginx and PHP-FPM) and MariaDB (read from /proc, not started here)."""
    php = bench.targets.get("php.direct")
    return {
        "gateway": t.pids(),
        "workers": t.side_pids(),
        "php": php.pids() if php is not None else [],
        "mariadb": _mariadb_pids(),
    }


def _mariadb_pids() -> list[int]:
    found = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            with contextlib.suppress(OSError):
                if Path(f"/proc/{entry}/comm").read_text().strip() in ("mariadbd", "mysqld"):
                    found.append(int(entry))
    return found


def same_bytes(bench: Bench, rnd: int) -> None:
    """The same requests to native mode in process and in workers: status and body equal."""
    a, b = bench.targets.get("w9.native-w0"), bench.targets.get("w9.native-w2")
    if a is None or b is None:
        return
    differ: list[str] = []
    volatile: list[str] = []
    # one Host for both: the answers' links are built from it, and the two listen on two ports
    headers = {**bench.auth, "Host": "127.0.0.1"}
    for path in SAME_BYTES_PATHS:
        try:
            sa, ba = http_get(a.base + path, headers)
            sb, bb = http_get(b.base + path, headers)
            again = http_get(a.base + path, headers)
        except Exception as exc:
            differ.append(f"{path}: {exc!r:.200}")
            continue
        if again != (sa, ba):
            volatile.append(path)  # two answers in process differ: not the workers' doing
        elif (sa, ba) != (sb, bb):
            differ.append(f"{path}: {sa} {len(ba)} B in process, {sb} {len(bb)} B in workers; "
                          + _first_difference(ba, bb))  # fmt: skip
    bench.results["measurements"].append({
        "part": PART, "case": "same-bytes", "target": "native-w2", "conns": 1, "round": rnd,
        "requests": len(SAME_BYTES_PATHS) - len(volatile),
        "equal": len(SAME_BYTES_PATHS) - len(volatile) - len(differ),
        "differ": differ, "volatile": volatile,
    })  # fmt: skip
    if volatile:
        bench.note(f"part 9: round {rnd}: answers that differ between two calls in process, "
                   f"not compared: {', '.join(volatile)}")  # fmt: skip
    bench.log(
        f"r{rnd} p9 same-bytes {len(differ)} of {len(SAME_BYTES_PATHS) - len(volatile)} differ "
        f"({len(volatile)} volatile)"
    )
    for line in differ[:5]:
        bench.note(f"part 9: round {rnd}: bodies differ: {line}")


def _first_difference(a: bytes, b: bytes) -> str:
    at = next(
        (i for i, (x, y) in enumerate(zip(a, b, strict=False)) if x != y), min(len(a), len(b))
    )
    lo = max(0, at - 30)
    return f"from byte {at}: {a[lo : at + 40]!r} in process, {b[lo : at + 40]!r} in workers"


def kill_test(bench: Bench, rnd: int) -> None:
    t = bench.targets.get(KILL)
    if t is None:
        return
    _place(bench, t)
    index = (rnd - 1) % 2
    cmd = ["taskset", "-c", bench.s.load_cpu, sys.executable, "-m", "bench.workers", "kill"]
    cmd += ["--base", t.base, "--path", USERS, "--clients", str(KILL_CLIENTS)]
    cmd += ["--before", str(KILL_BEFORE), "--after", str(KILL_AFTER), "--index", str(index)]
    env = {**os.environ, "BENCH_AUTH": bench.auth.get("Authorization", "")}
    p = subprocess.run(
        cmd, capture_output=True, text=True, env=env, cwd=services.ROOT, timeout=120, check=False
    )
    (bench.s.raw / f"r{rnd}-p9-kill.txt").write_text(p.stdout + "\n" + p.stderr)
    try:
        found = json.loads(p.stdout.strip().splitlines()[-1])
    except (IndexError, ValueError):
        bench.note(f"part 9: round {rnd}: the kill test failed: {p.stderr[-1500:]}")
        return
    found.update({"part": PART, "case": "kill", "target": "native-w2", "round": rnd, "conns": 0})
    bench.results["measurements"].append(found)
    bench.log(
        f"r{rnd} p9 kill worker {index}: {found.get('failed')} of {found.get('requests')} failed "
        f"(in flight {found.get('in_flight_at_kill')}), all alive after "
        f"{found.get('recovered_s')} s"
    )
    if found.get("error"):
        bench.note(f"part 9: round {rnd}: kill test: {found['error']}")


# ---------------------------------------------------------------- the kill test's client


async def _kill_run(args: argparse.Namespace) -> dict[str, Any]:
    """Closed-loop clients on one keep-alive pool; one worker killed mid-run; health polled."""
    import httpx

    auth = os.environ.get("BENCH_AUTH", "")
    headers = {"Authorization": auth} if auth else {}
    url = args.base + args.path
    health_url = args.base + "/_strangler/health"
    stop = asyncio.Event()
    answers: list[tuple[float, int, str | None, bool]] = []  # time, status, request id, in body
    limits = httpx.Limits(max_connections=args.clients + 2, max_keepalive_connections=args.clients)
    out: dict[str, Any] = {"index": args.index, "clients": args.clients}

    async def client(http: httpx.AsyncClient) -> None:
        while not stop.is_set():
            try:
                r = await http.get(url, headers=headers)
            except httpx.HTTPError as exc:
                answers.append((time.monotonic(), 0, None, False))
                out.setdefault("client_errors", []).append(repr(exc)[:200])
                continue
            rid = r.headers.get("x-request-id")
            in_body = bool(rid) and rid in r.text if r.status_code != 200 else False
            answers.append((time.monotonic(), r.status_code, rid, in_body))

    async def workers(http: httpx.AsyncClient) -> tuple[dict[str, Any], float]:
        t0 = time.monotonic()
        r = await http.get(health_url)
        return r.json().get("native_workers") or {}, time.monotonic() - t0

    async with (
        httpx.AsyncClient(limits=limits, timeout=30) as http,
        httpx.AsyncClient(timeout=5) as probe,
    ):
        tasks = [asyncio.create_task(client(http)) for _ in range(args.clients)]
        await asyncio.sleep(args.before)
        # kill the worker while it has a request in flight (health read up to 1 s, every 2 ms)
        deadline, reads = time.monotonic() + 1.0, 0
        while True:
            state, _ = await workers(probe)
            reads += 1
            entry = _worker(state, args.index)
            if entry is None or entry.get("in_flight") or time.monotonic() > deadline:
                break
            await asyncio.sleep(0.002)
        out["health_reads_before_kill"] = reads
        if entry is None or not entry.get("pid"):
            out["error"] = f"no worker {args.index} in health: {state!r:.500}"
        else:
            pid = int(entry["pid"])
            out.update(
                pid=pid,
                in_flight_at_kill=entry.get("in_flight"),
                pool_in_flight_at_kill=state.get("in_flight"),
                restarts_before=state.get("restarts"),
                count=state.get("count"),
            )
            os.kill(pid, signal.SIGKILL)
            t_kill = time.monotonic()
            out["kill_t"] = t_kill
            await _watch(workers, probe, state.get("count"), args.index, pid, t_kill, out)
        # does the new process serve? its share of the workers' CPU while the load goes on
        live: list[int] = []
        with contextlib.suppress(Exception):
            now, _ = await workers(probe)
            live = [int(e["pid"]) for e in now.get("workers") or [] if e.get("alive")]
        ticks0 = {p: cpu_ticks([p]) for p in live}
        await asyncio.sleep(args.after)
        spent = {p: cpu_ticks([p]) - ticks0[p] for p in live}
        if out.get("new_pid") in spent and sum(spent.values()):
            out["new_worker_cpu_share"] = round(spent[out["new_pid"]] / sum(spent.values()), 3)
        stop.set()
        await asyncio.gather(*tasks)
        with contextlib.suppress(Exception):
            final, _ = await workers(probe)
            out["restarts_after"] = final.get("restarts")
            out["alive_after"] = final.get("alive")
    t_kill = out.pop("kill_t", None)
    failed = [a for a in answers if a[1] != 200]
    out["requests"] = len(answers)
    out["failed"] = len(failed)
    out["failed_502_with_id"] = sum(1 for a in failed if a[1] == 502 and a[2])
    out["failed_id_in_body"] = sum(1 for a in failed if a[3])
    out["failed_statuses"] = sorted({a[1] for a in failed})
    if t_kill is not None:
        at = [round(a[0] - t_kill, 4) for a in failed]
        out["failed_at_s"] = at[:20]  # answered this long after the kill (the first 20)
        out["failed_last_s"] = at[-1] if at else None
        recovered = out.get("recovered_s")
        # answered after health showed every worker alive again
        out["failed_after_recovered"] = sum(1 for x in at if recovered is None or x > recovered)
        out["failed_before_kill"] = sum(1 for x in at if x < 0)
    return out


async def _watch(
    workers: Callable[[Any], Any],
    probe: Any,
    count: int | None,
    index: int,
    pid: int,
    t_kill: float,
    out: dict[str, Any],
) -> None:
    """Poll health until the killed worker's slot shows another live pid and every worker is
    alive (up to 10 s): when health first saw the death, when it showed them all alive."""
    polls, worst = 0, 0.0
    while time.monotonic() - t_kill < 10:
        state, took = await workers(probe)
        polls += 1
        worst = max(worst, took)
        now = time.monotonic() - t_kill
        entry = _worker(state, index) or {}
        if "noticed_s" not in out and (
            state.get("alive") != count or entry.get("pid") != pid or not entry.get("alive")
        ):
            out["noticed_s"] = round(now, 4)
        if entry.get("pid") not in (None, pid) and state.get("alive") == count == state.get(
            "count"
        ):
            out["recovered_s"] = round(now, 4)
            out["new_pid"] = entry.get("pid")
            break
        await asyncio.sleep(0.005)
    out["health_polls"] = polls
    out["health_poll_max_s"] = round(worst, 4)


def _worker(state: dict[str, Any], index: int) -> dict[str, Any] | None:
    for entry in state.get("workers") or []:
        if isinstance(entry, dict) and entry.get("index") == index:
            return entry
    return None


# ---------------------------------------------------------------- report


def write_report(results: dict[str, Any]) -> None:
    if any(str(m.get("part")) == PART for m in results.get("measurements", [])):
        RESULTS.write_text(render(results))


def render(results: dict[str, Any]) -> str:
    d = report.Data(results)
    m = [r for r in d.m if str(r.get("part")) == PART]
    s = results.get("settings", {})
    out: list[str] = []
    w = out.append
    w("# Benchmark results: part 9, native workers\n")
    w(
        "Written by `BENCH_PARTS=9 make bench` (bench/workers.py explains every figure). Every "
        "figure is a ratio of two things measured side by side in the same run (targets "
        "interleaved, rotated each round), reported as **median** (min … max) over "
        f"{s.get('runs')} round(s). wrk and the kill test's client run on the load core; the "
        "gateways, their workers, PHP-FPM and MariaDB on both cores, unpinned.\n"
    )
    if s.get("quick"):
        w(
            "> **Smoke run (BENCH_QUICK=1)**: durations and seed scale are too small for the "
            "figures to mean anything.\n"
        )
    w("## Goals\n")
    report.table(w, ["measure", "goal", "result", "verdict"], goal_rows(d, m))
    path = RESULTS.with_name("workers-findings.md")
    if path.exists():
        w(path.read_text().rstrip() + "\n")
    report.machine(results, w)
    shadow_tables(d, m, w)
    native_tables(d, m, w)
    kill_table(m, w)
    notes = [n for n in results.get("notes", []) if "part 9" in n or "w9." in n]
    if notes:
        w("## Notes\n")
        for n in notes:
            w(f"- {n}")
        w("")
    cmds = results.get("commands", {})
    w("## Commands\n")
    for key in ("gateway", "wrk", "wrk_paced", "workers_kill"):
        if key in cmds:
            w(f"- {key}: `{cmds[key]}`")
    return "\n".join(out) + "\n"


def _paced(d: report.Data, case: str) -> int:
    return d.conns(PART, f"{case}-paced")


def compared_share(
    m: list[dict[str, Any]], case: str, label: str, kinds: tuple[str, ...]
) -> report.Spread | None:
    """% of the shadow route's requests in the paced runs with one of the outcomes `kinds`:
    over every outcome the gateway counted (wrk does not count the requests in flight when it
    stops, which the gateway answers and compares)."""
    out = []
    for r in m:
        if (r["case"], r["target"]) == (f"{case}-paced", label) and "shadow" in r:
            total = sum(report.outcomes(r, k) for k in OUTCOMES)
            if total:
                out.append(100 * sum(report.outcomes(r, k) for k in kinds) / total)
    return report.spread(out)


def goal_rows(d: report.Data, m: list[dict[str, Any]]) -> list[list[str]]:
    x = report.X
    rows: list[list[str]] = []
    for case in ENDPOINTS:
        conns = _paced(d, case)
        for label, goal in (("shadow-w2", True), ("shadow-w0", False)):
            p99 = d.ratio(PART, f"{case}-paced", label, "legacy", conns, "p99_us")
            share = compared_share(m, case, label, COMPARED)
            where = "workers: 2, nice 10" if goal else "in process (context)"
            rows.append([
                f"{case}: shadow p99 ÷ legacy p99, same load ({where})",
                f"≤ 1.10{x}" if goal else "-",
                report.fmt(p99, unit=x),
                report.verdict(p99, lambda v: v <= 1.10) if goal else "",
            ])  # fmt: skip
            rows.append([
                f"{case}: requests compared, not shed ({where})",
                "≥ 90 %" if goal else "-",
                report.fmt(share, 1, " %"),
                report.verdict(share, lambda v: v >= 90) if goal else "",
            ])  # fmt: skip
    rps = d.ratio(PART, "users", "native-w2", "native-w0", 32, "rps")
    rows.append([
        "users, native mode: throughput, 2 workers ÷ in process (32 conns)", f"≥ 1.3{x}",
        report.fmt(rps, unit=x), report.verdict(rps, lambda v: v >= 1.3),
    ])  # fmt: skip
    same = [r for r in m if r["case"] == "same-bytes"]
    if same:
        equal, total = sum(r["equal"] for r in same), sum(r["requests"] for r in same)
        rows.append([
            "same status and body bytes, 2 workers and in process", "all",
            f"{equal} of {total} requests", "**met**" if equal == total else "**missed**",
        ])  # fmt: skip
    for key, what in (("rps", "throughput"), ("p99_us", "p99")):
        r = d.ratio(PART, "users", "native-w2-nice0", "native-w2", 32, key)
        rows.append([f"users, native mode, 2 workers: {what}, nice 0 ÷ nice 10", "reported",
                     report.fmt(r, unit=x), ""])  # fmt: skip
    kills = [r for r in m if r["case"] == "kill" and "recovered_s" in r]
    recovered = report.spread(r["recovered_s"] for r in kills)
    rows.append([
        "worker killed: time until health shows all workers alive", "< 1 s",
        report.fmt(recovered, 3, " s"), report.verdict(recovered, lambda v: v < 1.0),
    ])  # fmt: skip
    all_kills = [r for r in m if r["case"] == "kill"]
    if all_kills:
        within = sum(
            1
            for r in all_kills
            if r.get("in_flight_at_kill") is not None and r["failed"] <= r["in_flight_at_kill"]
        )
        tagged = sum(1 for r in all_kills if r["failed"] == r.get("failed_502_with_id"))
        failed = report.spread(r["failed"] for r in all_kills)
        rows.append([
            "worker killed: failed client requests ≤ the worker's in-flight at the kill",
            "every kill", f"{report.fmt(failed, 0)}; within in-flight in {within} of "
            f"{len(all_kills)} kills", "**met**" if within == len(all_kills) else "**missed**",
        ])  # fmt: skip
        shares = ", ".join(
            f"round {r['round']}: {_share(r.get('new_worker_cpu_share'))}"
            for r in sorted(all_kills, key=lambda r: r["round"])
        )
        rows.append([
            "worker killed: the new process's share of the workers' CPU in the 2 s after",
            "about 50 %", shares, "",
        ])  # fmt: skip
        before = sum(r.get("failed_before_kill", 0) for r in all_kills)
        rows.append([
            "worker killed: requests failed before the kill (left from an earlier kill)", "0",
            f"{before} over {len(all_kills)} kills", "**met**" if before == 0 else "**missed**",
        ])  # fmt: skip
        rows.append([
            "worker killed: every failed request a 502 with X-Request-Id", "every kill",
            f"{tagged} of {len(all_kills)} kills",
            "**met**" if tagged == len(all_kills) else "**missed**",
        ])  # fmt: skip
    return rows


def _ms(s: report.Spread | None) -> str:
    return report.fmt(None if s is None else (s[0] / 1000, s[1] / 1000, s[2] / 1000), 2)


def _row(d: report.Data, case: str, label: str, conns: int) -> list[str]:
    def st(key: str) -> report.Spread | None:
        return d.stat(PART, case, label, conns, key)

    restarts = d.by_round(PART, case, label, conns, "worker_restarts")
    keys = {k for r in d.m if (r["part"], r["case"], r["target"]) == (PART, case, label) for k in r}
    cores = [r.get("cores", {}) for r in d.m if (r["part"], r["case"], r["target"], r["conns"])
             == (PART, case, label, conns)]  # fmt: skip
    busy = " / ".join(
        f"{statistics.median(c.get(k, 0.0) for c in cores):.2f}"
        for k in ("gateway", "workers", "php", "mariadb")
    ) if cores else "-"  # fmt: skip
    return [
        label,
        report.fmt(st("rps"), 0),
        _ms(st("p50_us")),
        _ms(st("p99_us")),
        report.fmt(st("cpu_us_per_req"), 0),
        report.fmt(st("side_cpu_us_per_req"), 0) if "side_cpu_us_per_req" in keys else "-",
        report.fmt(st("rss_mib"), 0),
        report.fmt(st("side_rss_mib"), 0) if "side_rss_mib" in keys else "-",
        str(int(sum(restarts.values()))) if restarts else "-",
        busy,
    ]


HEAD = ["target", "req/s", "p50 ms", "p99 ms", "CPU µs/req gateway", "CPU µs/req workers",
        "RSS MiB gateway", "RSS MiB workers", "worker restarts",
        "cores busy: gateway / workers / PHP / MariaDB"]  # fmt: skip


def shadow_tables(d: report.Data, m: list[dict[str, Any]], w: report.Write) -> None:
    w("## 1. Shadow mode, candidate in workers\n")
    w(
        "Sample 1.0 on both routes. *Same load*: every target paced at "
        f"{d.r.get('settings', {}).get('shadow_load', 0.5):g} times legacy mode's closed-loop "
        "throughput of the round (achieved req/s beside each p99; a shadow target more than 5 % "
        "from legacy mode's achieved rate is flagged). Shares are of every shadow outcome the "
        "gateway counted over the run and 1.5 s after it (the requests wrk had in flight when it "
        "stopped included), once the counters of the target's previous run had stopped moving. "
        "Cores busy: CPU seconds per second of warm-up and run (the CPU of the 1.5 s after "
        "included) of the "
        "gateway's process, its workers, the PHP stack (nginx and PHP-FPM) and MariaDB.\n"
    )
    for case in ENDPOINTS:
        conns = _paced(d, case)
        w(f"### {case}, same load ({conns} connections, paced)\n")
        rows = []
        for label in SHADOW.values():
            base = _row(d, f"{case}-paced", label, conns)
            ratio = d.ratio(PART, f"{case}-paced", label, "legacy", conns, "p99_us")
            achieved = d.ratio(PART, f"{case}-paced", label, "legacy", conns, "rps")
            shares = [
                report.fmt(compared_share(m, case, label, kinds), 1, " %")
                for kinds in (COMPARED, ("shed",), ("errored",), ("skipped",))
            ]
            flag = ""
            if (
                label != "legacy"
                and achieved
                and max(abs(achieved[0] - 1), abs(achieved[2] - 1)) > 0.05
            ):
                flag = " (rate off by > 5 % in some round)"
            rows.append([*base, report.fmt(ratio, unit=report.X) + flag,
                         *(shares if label != "legacy" else ["-"] * 4)])  # fmt: skip
        report.table(
            w,
            [*HEAD, "p99 ÷ legacy", "compared", "shed", "errored", "skipped"],
            rows,
        )
        w(f"### {case}, closed loop (32 connections)\n")
        rows = []
        for label in SHADOW.values():
            ratio = d.ratio(PART, case, label, "legacy", 32, "rps")
            rows.append([*_row(d, case, label, 32), report.fmt(ratio, unit=report.X)])
        report.table(w, [*HEAD, "req/s ÷ legacy"], rows)


def native_tables(d: report.Data, m: list[dict[str, Any]], w: report.Write) -> None:
    w("## 2. Native mode: two workers beside in process (users list, 32 connections)\n")
    rows = []
    for label in NATIVE.values():
        ratio = d.ratio(PART, "users", label, "native-w0", 32, "rps")
        p99 = d.ratio(PART, "users", label, "native-w0", 32, "p99_us")
        rows.append(
            [*_row(d, "users", label, 32), report.fmt(ratio, unit=report.X),
             report.fmt(p99, unit=report.X)]
        )  # fmt: skip
    report.table(w, [*HEAD, "req/s ÷ in process", "p99 ÷ in process"], rows)
    same = [r for r in m if r["case"] == "same-bytes"]
    if same:
        w(
            f"Same bytes: {len(SAME_BYTES_PATHS)} requests a round (users pages, invoices with "
            "and without includes, a missing invoice) to both; equal status and body in "
            + ", ".join(f"round {r['round']}: {r['equal']}/{r['requests']}" for r in same)
            + ". A request whose two answers in process differ is volatile and not compared ("
            + ", ".join(f"round {r['round']}: {len(r.get('volatile', []))}" for r in same)
            + ").\n"
        )


def kill_table(m: list[dict[str, Any]], w: report.Write) -> None:
    kills = [r for r in m if r["case"] == "kill"]
    if not kills:
        return
    w(
        f"## 3. A worker killed under native-mode load ({KILL_CLIENTS} closed-loop clients, "
        "users list)\n"
    )
    w(
        "In flight: the killed worker's `in_flight` in the last health read before SIGKILL (a "
        "few ms before it). Noticed: the first health read after the kill that no longer shows "
        "the old pid alive; all alive: the first that shows every worker alive with a new pid in "
        "the killed one's slot. Failed at: seconds after the kill.\n"
    )
    rows = []
    for r in sorted(kills, key=lambda r: r["round"]):
        rows.append([
            r["round"], r.get("index"), r.get("requests"), r.get("in_flight_at_kill"),
            r.get("failed"), ", ".join(map(str, r.get("failed_statuses") or [])) or "-",
            f"{r.get('failed_502_with_id')} / {r.get('failed_id_in_body')}",
            r.get("failed_before_kill", "-"), _failed_at(r), r.get("failed_after_recovered", "-"),
            r.get("noticed_s", "-"), r.get("recovered_s", "not within 10 s"),
            f"{r.get('restarts_before')} → {r.get('restarts_after')}",
            r.get("health_poll_max_s"), _share(r.get("new_worker_cpu_share")),
        ])  # fmt: skip
    report.table(
        w,
        ["round", "worker", "requests", "in flight", "failed", "statuses",
         "502 with id (header / body)", "failed before the kill", "failed at s",
         "failed after all alive", "noticed s", "all alive s",
         "restarts", "slowest health read s", "new worker's share of workers' CPU after"],
        rows,
    )  # fmt: skip


def _share(x: float | None) -> str:
    return "-" if x is None else f"{100 * x:.0f} %"


def _failed_at(r: dict[str, Any]) -> str:
    """When the failed requests were answered, in seconds after the kill."""
    at = r.get("failed_at_s") or []
    if not at:
        return "-"
    if len(at) <= 4:
        return ", ".join(f"{t:.3f}" for t in at)
    return f"{at[0]:.3f} … {r.get('failed_last_s'):.3f}"


# ---------------------------------------------------------------- command line


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.workers")
    sub = parser.add_subparsers(dest="command", required=True)
    kill = sub.add_parser("kill", help="load a native-mode gateway, kill one worker, watch health")
    kill.add_argument("--base", required=True)
    kill.add_argument("--path", default=USERS)
    kill.add_argument("--clients", type=int, default=KILL_CLIENTS)
    kill.add_argument("--before", type=float, default=KILL_BEFORE)
    kill.add_argument("--after", type=float, default=KILL_AFTER)
    kill.add_argument("--index", type=int, default=0)
    args = parser.parse_args(argv)
    print(json.dumps(asyncio.run(_kill_run(args))))
    return 0


if __name__ == "__main__":
    sys.exit(main())
