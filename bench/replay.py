"""Part 7: what a replay costs and how fast it goes, beside the legacy side alone and beside
shadow mode's comparison. Not in the default BENCH_PARTS: `BENCH_PARTS=7 make bench` (it writes
bench/results/replay.md; BENCH_REPORT names where the rest of the report goes).

Per round, endpoint (the users list; an invoice with its items and user) and concurrency C:

- legacy alone: wrk at C connections on the legacy application (PHP-FPM behind nginx, on
  MariaDB, `php.direct`), closed loop: the side's own throughput at that concurrency;
- replay: BENCH_REPLAY_REQUESTS log lines of the same request replayed at `--concurrency C`
  (`shadow.replay.Replay` with `proxy.modes.replay.GatewaySides`, what `strangler replay`
  runs) against the same PHP-FPM, the native handlers in process on the same MariaDB, noise
  sampled at 5 % as the table's default. The replaying process is pinned to the load core, where
  wrk runs for the first figure, so PHP-FPM sees the same machine. Figures: replayed requests a
  second ÷ legacy alone (each replayed request also calls the native side and compares), and
  the replaying process's CPU per request (the native side, the comparison, the client).

Comparison cost per request, side by side on the same real pairs: the (legacy, native)
answers the replay saw (up to a thousand) are compared again through shadow mode's path
(`Experiment.submit`) and through replay's (`Experiment.run_now`), CPU seconds in the comparison
threads per request: once as they came (equal; shadow mode with the gateway's tree-diff budget
of 50 a second, which equal pairs never spend), and once with one field of every native answer
changed (differing): replay diffs every mismatch to find its fields; shadow mode does the same
within its budget (the same cost), and past it, under load, settles the outcome alone. That last
figure is shadow mode's here: what replay pays beyond it is the tree diff of every difference.
"""

from __future__ import annotations

import asyncio
import os
import statistics
import time
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from shadow import experiment as experiment_module
from shadow.experiment import Experiment, RequestInfo
from shadow.observation import Observation
from shadow.settings import ShadowSettings

if TYPE_CHECKING:
    from bench.driver import Bench

PART = "7"
CONNS = (4, 16)
ENDPOINTS = {
    "users": "/api/v1/admin/users",
    "invoice": "/api/v1/admin/invoices/1?include=items,user",
}
RESULTS = Path(__file__).resolve().parent / "results" / "replay.md"
ROUTES = """\
routes:
  - id: users.list
    match: GET /api/v1/admin/users
    mode: shadow
  - id: invoices.show
    match: GET /api/v1/admin/invoices/{{id:int}}
    mode: shadow
"""


def requests_per_run(bench: Bench) -> int:
    return int(os.environ.get("BENCH_REPLAY_REQUESTS") or ("300" if bench.s.quick else "2000"))


def start(bench: Bench) -> None:
    """The legacy side under PHP-FPM on MariaDB (as parts 1 to 3 start it)."""
    from bench import services

    services.php_on_mariadb(bench, bench.s.sut_cpu)


def part7(bench: Bench, rnd: int) -> None:
    target = bench.targets.get("php.direct")
    if target is None:
        bench.note("part 7: the legacy side did not start; not measured")
        return
    pairs: dict[str, list[tuple[Observation, Observation]]] = {}
    for case, path in ENDPOINTS.items():
        for conns in CONNS:
            alone = bench.measure(PART, case, target, path, conns, rnd, label="legacy-alone")
            replayed = _replay(bench, case, path, conns, pairs.setdefault(case, []))
            replayed.update({
                "part": PART, "case": case, "round": rnd, "conns": conns, "target": "replay",
                "legacy_rps": alone["rps"] if alone else None,
            })  # fmt: skip
            bench.results["measurements"].append(replayed)
            bench.log(
                f"r{rnd} p7 {case:8} replay        c{conns:<3} {replayed['rps']:9.0f} req/s "
                f"cpu/req {replayed['cpu_us_per_req']:6.0f} us"
            )
    for case, seen in pairs.items():
        cost = compare_costs(seen)
        bench.results["measurements"].append(
            {"part": PART, "case": case, "round": rnd, "conns": 0, "target": "compare", **cost}
        )
        bench.log(f"r{rnd} p7 {case:8} compare       {cost}")
    RESULTS.write_text(render(bench.results))


def _replay(
    bench: Bench, case: str, path: str, conns: int, keep: list[tuple[Observation, Observation]]
) -> dict[str, Any]:
    from handlers.app import create_app as create_native
    from proxy.modes.replay import GatewaySides
    from proxy.table.parser import parse
    from shadow.replay import Limits, Replay
    from shadow.runs import Totals
    from shadow.sources import Request

    url = bench.targets["php.direct"].base
    table = parse(
        f'version: 1\nlegacy: {{url: "{url}", timeout: 30s}}\n'
        'native: {app: "handlers.app:app", timeout: 30s}\n'
        "shadow: {timeout: 30s}\n" + ROUTES.format()
    )
    n = requests_per_run(bench)
    lines = [Request("GET", path, f"bench:{i}") for i in range(n)]
    headers = list(bench.auth.items())
    native = create_native(bench.dbs["mariadb"]["url"])
    seen: list[tuple[Observation, Observation]] = []
    real = experiment_module.evaluate

    def capture(job: Any, candidate: Observation, again: Observation | None) -> Any:
        if len(seen) < 1000:
            seen.append((job.primary, candidate))
        return real(job, candidate, again)

    async def go() -> tuple[float, float, int]:
        sides = GatewaySides(table, headers, native_app=native)
        await sides.open()
        try:
            experiment = Experiment(_Discard(), tree_diffs_per_second=None)
            replay = Replay(experiment, sides, "bench", Limits(concurrency=conns))
            wall, cpu = time.monotonic(), time.process_time()
            await replay.run(lines, Totals(), asyncio.Event())
            wall, cpu = time.monotonic() - wall, time.process_time() - cpu
            await experiment.close()
            return wall, cpu, replay.progress.compared
        finally:
            await sides.close()

    affinity = os.sched_getaffinity(0)
    experiment_module.evaluate = capture
    try:
        os.sched_setaffinity(0, {int(bench.s.load_cpu)})
        wall, cpu, compared = asyncio.run(go())
    finally:
        experiment_module.evaluate = real
        os.sched_setaffinity(0, affinity)
    keep.extend(seen[: 1000 - len(keep)])
    return {"requests": n, "compared": compared, "rps": n / wall,
            "cpu_us_per_req": cpu / n * 1e6}  # fmt: skip


class _Discard:
    def put(self, result: object, /) -> bool:
        return True


def compare_costs(pairs: list[tuple[Observation, Observation]]) -> dict[str, float]:
    """CPU µs per request in the comparison threads, shadow mode's path and replay's: equal
    pairs (the gateway's default budget); differing pairs, every one diffed (replay, and shadow
    mode within its budget) and outcome only (shadow mode once its budget is spent)."""
    differing = [(p, _changed(c)) for p, c in pairs]
    return {
        "pairs": len(pairs),
        "shadow_equal_us": _cost(pairs, replay=False, budget=50.0),
        "replay_equal_us": _cost(pairs, replay=True),
        "shadow_differing_us": _cost(differing, replay=False, budget=1e-9),
        "replay_differing_us": _cost(differing, replay=True),
    }


def _changed(seen: Observation) -> Observation:
    from dataclasses import replace

    body = seen.body.replace(b'"type":"', b'"type":"x', 1) if seen.body else seen.body
    return replace(seen, body=body)


def _cost(
    pairs: list[tuple[Observation, Observation]], *, replay: bool, budget: float | None = None
) -> float:
    if not pairs:
        return 0.0
    spent = [0.0]
    real = experiment_module.evaluate

    def timed(job: Any, candidate: Observation, again: Observation | None) -> Any:
        started = time.thread_time()
        try:
            return real(job, candidate, again)
        finally:
            spent[0] += time.thread_time() - started

    settings = ShadowSettings(noise_sample=0.0, max_in_flight=10_000, max_in_process=10_000,
                              in_process_share=1.0)  # fmt: skip

    async def go() -> None:
        experiment = Experiment(_Discard(), settings, tree_diffs_per_second=budget)
        for i, (primary, candidate) in enumerate(pairs):
            request = RequestInfo("GET", "/bench", "", f"b{i}")

            async def call(seen: Observation = candidate) -> Observation:
                return seen

            if replay:
                await experiment.run_now("bench", request, primary, call, settings=settings)
            else:
                experiment.submit("bench", request, primary, call, settings=settings)
        await experiment.close(deadline=600.0)

    experiment_module.evaluate = timed
    try:
        asyncio.run(go())
    finally:
        experiment_module.evaluate = real
    return spent[0] / len(pairs) * 1e6


# ---------------------------------------------------------------- the report


@dataclass(frozen=True)
class Spread:
    values: list[float]

    def __str__(self) -> str:
        if not self.values:
            return "-"
        v = sorted(self.values)
        return f"{statistics.median(v):,.2f} ({v[0]:,.2f} … {v[-1]:,.2f})"


def render(results: dict[str, Any]) -> str:
    ours = [m for m in results.get("measurements", []) if str(m.get("part")) == PART]
    machine = results.get("machine", {})
    lines = [
        "# Replay: throughput and comparison cost", "",
        "Written by `BENCH_PARTS=7 make bench` (bench/replay.py explains every figure). Each "
        "figure is median (min … max) over rounds, each ratio taken within a round. The machine "
        "has 2 cores and is shared with other work while this runs: read ratios, not absolutes.",
        "", f"Machine: {machine.get('cpu_model', '?')}, {machine.get('cores', '?')} cores; "
        f"load average at start {machine.get('loadavg_start', '?')}; started "
        f"{machine.get('started_utc', '?')} UTC. Requests per replay: "
        f"{next((m['requests'] for m in ours if m.get('target') == 'replay'), '?')}.", "",
        "## Replay throughput beside the legacy side alone", "",
        "| endpoint | C | legacy alone req/s | replay req/s | replay ÷ legacy alone "
        "| replay CPU µs/req |",
        "|---|---|---|---|---|---|",
    ]  # fmt: skip
    for case in ENDPOINTS:
        for conns in CONNS:
            reps = [m for m in ours if m.get("target") == "replay" and m["case"] == case
                    and m["conns"] == conns]  # fmt: skip
            alone = [m["legacy_rps"] for m in reps if m.get("legacy_rps")]
            ratio = [m["rps"] / m["legacy_rps"] for m in reps if m.get("legacy_rps")]
            lines.append(
                f"| {case} | {conns} | {Spread(alone)} | {Spread([m['rps'] for m in reps])} | "
                f"{Spread(ratio)} | {Spread([m['cpu_us_per_req'] for m in reps])} |"
            )
    lines += [
        "", "## Comparison cost per request, replay beside shadow mode", "",
        "CPU µs in the comparison threads per request, on the same real answer pairs; "
        "differing pairs: replay diffs each one, shadow mode past its tree-diff budget (as under "
        "load) settles the outcome alone (within the budget it diffs them at replay's cost).", "",
        "| endpoint | pairs | shadow mode | replay | replay ÷ shadow |", "|---|---|---|---|---|",
    ]  # fmt: skip
    for case in ENDPOINTS:
        costs = [m for m in ours if m.get("target") == "compare" and m["case"] == case]
        for kind in ("equal", "differing"):
            shadow = [m[f"shadow_{kind}_us"] for m in costs]
            replay = [m[f"replay_{kind}_us"] for m in costs]
            ratio = [r / s for r, s in zip(replay, shadow, strict=True) if s]
            lines.append(
                f"| {case} | {kind} | {Spread(shadow)} | {Spread(replay)} | {Spread(ratio)} |"
            )
    notes = [n for n in results.get("notes", []) if "part 7" in n or "replay" in n]
    if notes:
        lines += ["", "## Notes", "", *(f"- {n}" for n in notes)]
    return "\n".join(lines) + "\n"
