"""Part 6: what canary mode costs per request, beside legacy and native mode on their own.

Three gateways, one core each in turn (BENCH_SUT_CPU), the tiny static upstream on the load
core: `legacy` (the route in legacy mode), `native` (native mode, `bench.tiny_native` in
process) and `canary` (share 0.5, cohort `header:x-cohort`). wrk sends every request with an
X-Cohort header cycling through BENCH_COHORTS distinct values (wrk_json.lua, WRK_COHORTS), the
same script for all three, so the load generator's own work is the same. The goal's figure is
the canary's CPU per request over what the two modes would cost in its mix:

    canary / (f * native + (1 - f) * legacy)      f: the share of those cohorts hashed to native

so 1.05 means canary mode adds 5 % to what answering the same requests in the two modes costs.
A tiny native side and a tiny upstream make the gateway's own work the whole cost, so the ratio
is the harshest one: on real endpoints the same absolute overhead is a smaller share.
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING, Any

from bench import services
from proxy.modes.cohort import bucket_of

if TYPE_CHECKING:
    from bench.driver import Bench

SALT = "bench"
SHARE = 0.5
PATH = "/tiny.json"
NAMES = ("canary.legacy", "canary.native", "canary.share50")


def cohorts() -> int:
    return int(os.environ.get("BENCH_COHORTS") or "10000")


def native_fraction(n: int) -> float:
    """The share of the cohorts c0 … c(n-1) the canary sends to native (as the gateway hashes)."""
    return sum(bucket_of(SALT, f"c{i}".encode()) < SHARE for i in range(n)) / n


def table(upstream: str, store: str, mode: str) -> str:
    route = [{"id": "tiny", "match": f"GET {PATH}", "mode": mode}]
    text = services.gateway_table(upstream, route, store=store, native_app="bench.tiny_native:app")
    if mode == "canary":
        text = text.replace(
            "    mode: canary\n",
            f'    mode: canary\n    canary: {{share: {SHARE}, cohort: "header:x-cohort"}}\n',
        ).replace("routes:\n", f"canary: {{salt: {SALT}}}\nroutes:\n")
    return text


def start(bench: Bench) -> None:
    static = getattr(bench, "static", None) or services.start_static(bench.reg)
    bench.static = static
    upstream = f"http://127.0.0.1:{static.port}"
    for name, mode in zip(NAMES, ("legacy", "native", "canary"), strict=True):
        store = f"sqlite:///{bench.s.tmp}/parity-{name}.db"
        text = table(upstream, store, mode)
        try:
            proc = services.start_gateway(bench.reg, name, text, cpus=bench.s.sut_cpu)
        except Exception as exc:
            bench.note(f"gateway {name} did not start: {str(exc)[-1500:]}")
            continue
        (bench.s.raw / f"gw-{name}.yaml").write_text(text.replace(str(bench.s.tmp), "$TMP"))
        from bench.driver import Target

        bench.add(Target(name, f"http://127.0.0.1:{proc.port}", [proc], bench.s.sut_cpu, "gateway"))
    bench.results.setdefault("canary", {})["native_fraction"] = native_fraction(cohorts())
    bench.results["canary"]["cohorts"] = cohorts()


def part6(bench: Bench, rnd: int) -> None:
    os.environ["WRK_COHORTS"] = str(cohorts())
    try:
        for conns in bench.s.conns:
            for t in bench._rotate(list(NAMES), rnd):
                bench.place(t, bench.s.load_cpu)
                bench.measure("6", "canary", t, PATH, conns, rnd, label=t.name.split(".")[1])
    finally:
        os.environ.pop("WRK_COHORTS", None)


def overhead(records: list[dict[str, Any]], fraction: float) -> dict[tuple[int, int], float]:
    """(round, conns) → canary CPU per request over its mix of legacy's and native's."""
    cpu: dict[tuple[int, int, str], float] = {}
    for r in records:
        if r.get("part") == "6" and r.get("cpu_us_per_req"):
            cpu[r["round"], r["conns"], r["target"]] = r["cpu_us_per_req"]
    out = {}
    for rnd, conns, target in cpu:
        if target != "share50":
            continue
        legacy, native = cpu.get((rnd, conns, "legacy")), cpu.get((rnd, conns, "native"))
        if legacy and native:
            mix = fraction * native + (1 - fraction) * legacy
            out[rnd, conns] = cpu[rnd, conns, target] / mix
    return out
