"""results.json → bench/results/latest.md. Ratios are taken within a round, then summarised as
min / median / max over rounds. Run alone to re-render: python -m bench.report RESULTS.json

Every sentence that states a result is computed from the results; nothing here knows what an
earlier run found.
"""

from __future__ import annotations

import json
import statistics
import sys
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import Any

Num = float | int
Spread = tuple[float, float, float]
Write = Callable[[str], None]
X = "\N{MULTIPLICATION SIGN}"
# an analysis written after a run of part 6, included in bench/results/canary.md
ROOT_FINDINGS_CANARY = Path(__file__).resolve().parent / "results" / "canary-findings.md"
SHADOWS = ("shadow-1.0", "shadow-0.1", "shadow-url-1.0")
UNEQUAL_LOAD = 0.05  # same-load rows: achieved rates further apart than this are flagged


def spread(values: Iterable[Num | None]) -> Spread | None:
    vals = [float(v) for v in values if v is not None]
    if not vals:
        return None
    return min(vals), statistics.median(vals), max(vals)


def fmt(s: Spread | None, digits: int = 2, unit: str = "") -> str:
    if s is None:
        return "not measured"
    lo, mid, hi = s
    return f"**{mid:.{digits}f}**{unit} ({lo:.{digits}f} … {hi:.{digits}f})"


def table(w: Write, header: Sequence[str], rows: Iterable[Sequence[object]]) -> None:
    """One Markdown table and the blank line after it."""
    w("| " + " | ".join(header) + " |")
    w("|" + "---|" * len(header))
    for row in rows:
        w("| " + " | ".join(str(c) for c in row) + " |")
    w("")


class Data:
    def __init__(self, results: dict[str, Any]) -> None:
        self.r = results
        self.m = results.get("measurements", [])
        for rec in self.m:  # bytes read per second, answers that did not end included
            if rec.get("bytes") and rec.get("duration_s"):
                rec.setdefault("bytes_per_s", rec["bytes"] / rec["duration_s"])

    def by_round(self, part: str, case: str, target: str, conns: int, key: str) -> dict[int, float]:
        out = {}
        want = (part, case, target, conns)
        for rec in self.m:
            same = (rec["part"], rec["case"], rec["target"], rec["conns"]) == want
            if same and rec.get(key) is not None:
                out[rec["round"]] = float(rec[key])
        return out

    def stat(self, part: str, case: str, target: str, conns: int, key: str) -> Spread | None:
        return spread(self.by_round(part, case, target, conns, key).values())

    def ratio(
        self,
        part: str,
        case: str,
        a: str,
        b: str,
        conns: int,
        key: str = "rps",
        op: Callable[[float, float], float | None] | None = None,
    ) -> Spread | None:
        xa = self.by_round(part, case, a, conns, key)
        xb = self.by_round(part, case, b, conns, key)
        f = op or (lambda x, y: x / y if y else None)
        return spread(f(xa[k], xb[k]) for k in xa if k in xb)

    def has(self, part: str, case: str | None = None) -> bool:
        return any(r["part"] == part and case in (None, r["case"]) for r in self.m)

    def conns(self, part: str, case: str) -> int:
        """The connection count of a case measured at one count (the paced runs)."""
        return next((r["conns"] for r in self.m if (r["part"], r["case"]) == (part, case)), 0)

    def added_latency(self, case: str, proxy: str) -> dict[int, float]:
        p = self.by_round("1", case, proxy, 1, "p50_us")
        d = self.by_round("1", case, "direct", 1, "p50_us")
        return {k: p[k] - d[k] for k in p if k in d}

    def added_ratio(self, case: str) -> Spread | None:
        g, n = self.added_latency(case, "gw1"), self.added_latency(case, "nginx")
        return spread(g[k] / n[k] if n[k] > 0 else None for k in g if k in n)

    def same_load(self, case: str, target: str, key: str = "p99_us") -> Spread | None:
        """`target` / legacy mode at the same offered rate (part 2, paced runs)."""
        paced = f"{case}-paced"
        return self.ratio("2", paced, target, "legacy", self.conns("2", paced), key)

    def shed_share(self, case: str, target: str) -> Spread | None:
        """Share of the client's requests whose candidate was shed, in %."""
        return spread(
            100 * outcomes(r, "shed") / r["requests"]
            for r in self.m
            if (r["part"], r["case"], r["target"]) == ("2", case, target)
            and "shadow" in r
            and r["requests"]
        )

    def unequal_rounds(self, case: str, targets: Sequence[str] = SHADOWS) -> dict[int, float]:
        """Rounds of the paced runs where a target's achieved rate is more than UNEQUAL_LOAD
        away from legacy mode's: round → the largest relative difference."""
        paced = f"{case}-paced"
        conns = self.conns("2", paced)
        base = self.by_round("2", paced, "legacy", conns, "rps")
        worst: dict[int, float] = {}
        for t in targets:
            for rnd, rps in self.by_round("2", paced, t, conns, "rps").items():
                if base.get(rnd):
                    off = abs(rps / base[rnd] - 1)
                    worst[rnd] = max(worst.get(rnd, 0.0), off)
        return {rnd: off for rnd, off in worst.items() if off > UNEQUAL_LOAD}


_PROM_OUTCOMES = "strangler_shadow_outcomes_total"


def outcomes(rec: dict[str, Any], kind: str) -> float:
    """How many of one shadow outcome a run saw: the gateway's Prometheus counter, counted when
    it happens, where the gateway has one; else the parity store's counts, which are flushed
    later and can include the tail of the warm-up."""
    counters = rec.get("shadow", {})
    prom = {k: v for k, v in counters.items() if k.startswith(_PROM_OUTCOMES + "{")}
    if prom:
        return float(sum(v for k, v in prom.items() if f'outcome="{kind}"' in k))
    return float(counters.get(f"store.{kind}", 0))


def verdict(s: Spread | None, ok: Callable[[float], bool]) -> str:
    if s is None:
        return "not measured"
    lo, mid, hi = s
    if ok(mid):
        return "**met**" + ("" if ok(lo) and ok(hi) else " (not in every round)")
    return "**missed**" + (" (met in some rounds)" if ok(lo) or ok(hi) else "")


def _ms(s: Spread | None) -> Spread | None:
    return None if s is None else (s[0] / 1000, s[1] / 1000, s[2] / 1000)


def _load(d: Data) -> str:
    return f"{d.r.get('settings', {}).get('shadow_load', 0.5):g}"


def render(results: dict[str, Any]) -> str:
    d = Data(results)
    if {str(p) for p in results.get("settings", {}).get("parts", [])} == {"8"}:
        return render_fastcgi(results)
    s = results.get("settings", {})
    out: list[str] = []
    w = out.append
    w("# Benchmark results\n")
    w("Every figure is a ratio of two things measured side by side in the same run (targets")
    w(
        "interleaved, rotated each round), reported as **median** (min … max) over "
        f"{s.get('runs')} round(s). Generated by `make bench` (bench/run.sh); raw wrk output, "
    )
    w("configs, profiles and results.json are in bench/results/raw/ (not committed).\n")
    if s.get("quick"):
        w(
            "> **Smoke run (BENCH_QUICK=1)**: durations and seed scale are too small for the "
            "figures to mean anything.\n"
        )
    only_canary = {m.get("part") for m in d.m} == {"6"}  # a run of part 6 alone (canary.md)
    for section in () if only_canary else (headline, goals, findings):
        section(d, w)
    if only_canary and (ROOT_FINDINGS_CANARY.exists()):
        w(ROOT_FINDINGS_CANARY.read_text())
    machine(results, w)
    parts = (part6,) if only_canary else (part1, part2, part3, part4, part5, part6, part8)
    for section in parts:
        section(d, w)
    profiles(results, w)
    notes(results, w)
    commands(results, w)
    return "\n".join(out) + "\n"


def headline(d: Data, w: Write) -> None:
    w("## Headline\n")
    for line in headline_lines(d):
        w(f"- {line}")
    w("")


def headline_lines(d: Data) -> list[str]:
    lines = []
    t = d.ratio("1", "tiny", "gw1", "nginx", 32)
    lines.append(
        f"Legacy mode vs nginx reverse proxy, tiny upstream, one core, 32 connections: "
        f"{fmt(t)} of nginx's throughput"
    )
    for case in ("users", "invoice"):
        r = d.ratio("1", case, "gw1", "nginx", 32)
        lines.append(
            f"Legacy mode vs nginx in front of PHP-FPM ({case}), 32 connections: "
            f"{fmt(r)} of nginx's throughput"
        )
    a = d.added_ratio("tiny")
    lines.append(f"Latency added at 1 connection (p50), gateway vs nginx: {fmt(a, 1, X)}")
    for target, what in (("shadow-1.0", "in-process"), ("shadow-url-1.0", "at native.url")):
        p = d.same_load("users", target)
        lines.append(
            f"Shadow mode (sample 1.0, candidate {what}) client p99 vs legacy mode at the same "
            f"load ({_load(d)}{X} legacy throughput, users list): {fmt(p, 2, X)}"
        )
    for db in ("mariadb", "sqlite"):
        n = d.ratio("3", f"users-{db}", "native", "legacy", 32)
        lines.append(f"Native vs PHP-FPM throughput, users list on {db}: {fmt(n, 1, X)}")
    return lines


def _micro(d: Data, *keys: str) -> Any:
    node: Any = d.r.get("micro", {})
    for k in keys:
        if not isinstance(node, dict) or k not in node:
            return None
        node = node[k]
    return node


def goals(d: Data, w: Write) -> None:
    w("## Goals\n")
    rows: list[list[str]] = []
    t = d.ratio("1", "tiny", "gw1", "nginx", 32)
    rows.append(
        [
            "legacy mode, tiny upstream, one core: throughput vs nginx proxy (c32)",
            "≥ 0.12",
            fmt(t),
            verdict(t, lambda x: x >= 0.12),
        ]
    )
    for case in ("users", "invoice"):
        r = d.ratio("1", case, "gw1", "nginx", 32)
        rows.append(
            [
                f"legacy mode in front of PHP-FPM ({case}): throughput vs nginx proxy (c32)",
                "≥ 0.90",
                fmt(r),
                verdict(r, lambda x: x >= 0.90),
            ]
        )
    a = d.added_ratio("tiny")
    rows.append(
        [
            "latency added at 1 connection, p50, vs nginx's added latency (tiny upstream)",
            f"≤ 2{X}",
            fmt(a, 1, X),
            verdict(a, lambda x: x <= 2),
        ]
    )
    rows += shadow_goal_rows(d)
    rows.append(compare_goal_row(d))
    rows += native_goal_rows(d)
    rows += growth_goal_rows(d)
    rows += fastcgi_goal_rows(d)
    table(w, ["measure", "goal", "result", "verdict"], rows)


def shadow_goal_rows(d: Data) -> list[list[str]]:
    rows = []
    for case in ("users", "invoice"):
        for target, what in (("shadow-1.0", ""), ("shadow-url-1.0", ", candidate at native.url")):
            p = d.same_load(case, target)
            v = verdict(p, lambda x: x <= 1.10)
            shed = d.shed_share(f"{case}-paced", target)
            if shed is not None and shed[2] > 0:
                v += f"; candidates shed for {fmt(shed, 0, ' %')} of requests"
            off = d.unequal_rounds(case, [target])
            if off:
                v += f"; loads differ by > {UNEQUAL_LOAD:.0%} in round(s) " + ", ".join(
                    str(k) for k in sorted(off)
                )
            rows.append(
                [
                    f"shadow mode (sample 1.0{what}): client p99 vs legacy mode at the same load "
                    f"({_load(d)}{X} legacy throughput, paced) ({case})",
                    f"≤ 1.10{X}",
                    fmt(p, 2, X),
                    v,
                ]
            )
        closed = d.ratio("2", case, "shadow-1.0", "legacy", 32, "p99_us")
        rows.append(
            [
                f"for reference: the same, closed loop c32 ({case}); not the same load (shadow "
                "gets fewer requests)",
                "",
                fmt(closed, 2, X),
                "not the goal's measure",
            ]
        )
    return rows


def compare_goal_row(d: Data) -> list[str]:
    what = "equal 3.5 KB responses: comparison cost"
    goal = "≤ 50 µs, off the event loop"
    eq = _micro(d, "compare", "sizes", "3500", "equal")
    if not eq:
        return [what, goal, "not measured", "not measured"]
    off = _compare_off_loop()
    s = (eq["min_us"], eq["median_us"], eq["max_us"])
    v = verdict(s, lambda x: x <= 50)
    if not off:
        v += "; not shown to run off the event loop"
    where = "compared in a worker thread" if off else "?"
    return [what, goal, f"{fmt(s, 1, ' µs')}; {where}", v]


def native_p99(d: Data, case: str, db: str) -> tuple[Spread | None, str]:
    """p99 native / legacy: at the same offered rate when measured (paced), else closed loop."""
    paced = f"{case}-{db}-paced"
    if d.has("3", paced):
        return d.ratio("3", paced, "native", "legacy", d.conns("3", paced), "p99_us"), "same load"
    return d.ratio("3", f"{case}-{db}", "native", "legacy", 32, "p99_us"), "closed loop c32"


def native_goal_rows(d: Data) -> list[list[str]]:
    rows = []
    for db in ("mariadb", "sqlite"):
        for case in ("users", "invoice"):
            n = d.ratio("3", f"{case}-{db}", "native", "legacy", 32)
            p, how = native_p99(d, case, db)
            ok = (verdict(n, lambda x: x >= 2), verdict(p, lambda x: x < 1))
            both = (
                "**met**"
                if all(v.startswith("**met") for v in ok)
                else ("not measured" if n is None else "**missed**")
            )
            rows.append(
                [
                    f"native vs legacy mode, {case}, {db}: throughput (c32); p99 ({how})",
                    f"≥ 2{X}; lower",
                    f"{fmt(n, 2, X)}; p99 {fmt(p, 2, X)}",
                    f"{both} ({ok[0]}; {ok[1]})",
                ]
            )
    return rows


def growth_goal_rows(d: Data) -> list[list[str]]:
    rows = []
    m = _micro(d, "matcher", "sizes")
    if m:
        worst = max(row[k]["median_us"] for row in m.values() for k in row if k != "compile")
        flat = max(
            m["10000"][k]["median_us"] / m["10"][k]["median_us"] for k in m["10"] if k != "compile"
        )
        rows.append(
            [
                "match time from 10 to 10,000 routes",
                "flat, < 20 µs",
                f"worst lookup {worst:.1f} µs; 10,000 vs 10 routes ≤ {flat:.2f}{X}",
                "**met**" if worst < 20 and flat <= 2 else "**missed**",
            ]
        )
    st = d.r.get("stream", [])
    if not st:
        return [*rows, ["RSS while streaming 1 GiB", "flat, < +20 MiB", "not measured", ""]]
    g = spread(x["growth_mib"] for x in st)
    v = verdict(g, lambda x: x < 20)
    if not all(x.get("complete") for x in st):
        v += "; a body was incomplete"
    size = st[0]["bytes"] / 1024 / 1024
    what = f"RSS while streaming {size:.0f} MiB up and down"
    return [*rows, [what, "flat, < +20 MiB", f"+{fmt(g, 1, ' MiB')}", v]]


def _compare_off_loop() -> bool:
    path = Path(__file__).resolve().parents[1] / "shadow" / "experiment.py"
    try:
        text = path.read_text()
    except OSError:
        return False
    return "run_in_executor" in text and "compare" in text


# ---------------------------------------------------------------- findings


def findings(d: Data, w: Write) -> None:
    """What this run's figures say, computed from them; then the analysis written after the
    run (bench/results/findings.md), when there is one."""
    lines = [*floor_findings(d), *shadow_findings(d), *profile_findings(d), *compare_findings(d)]
    if lines:
        w("## Findings (computed from this run)\n")
        for line in lines:
            w(f"- {line}")
        w("")
    path = Path(__file__).resolve().parent / "results" / "findings.md"
    if path.exists():
        w(path.read_text().rstrip() + "\n")


def _mid(s: Spread | None) -> float | None:
    return None if s is None else s[1]


def floor_findings(d: Data) -> list[str]:
    cpu = {
        t: _mid(d.stat("5", "floors", t, 32, "cpu_us_per_req"))
        for t in ("nginx", "gw1", "gw-nolog", "floor-aiohttp", "floor-raw")
    }
    if cpu["gw1"] is None or cpu["nginx"] is None:
        return []
    known = ", ".join(f"{t} {v:.0f} µs" for t, v in cpu.items() if v is not None)
    lines = [f"CPU per request on the tiny upstream at 32 connections (part 5): {known}."]
    raw, aio = cpu["floor-raw"], cpu["floor-aiohttp"]
    if raw and aio:
        lines.append(
            f"gw1's CPU per request is {cpu['gw1'] / raw:.1f}{X} floor-raw's (a bare callable on "
            f"a lean HTTP/1.1 client) and {cpu['gw1'] / aio:.1f}{X} floor-aiohttp's (a bare "
            "callable on one aiohttp session)."
        )
    log = d.ratio("5", "floors", "gw-nolog", "gw1", 32, "cpu_us_per_req")
    if log is not None:
        lines.append(f"With its access log off the gateway takes {fmt(log, 2, X)} the CPU.")
    return lines


def shadow_findings(d: Data) -> list[str]:
    lines = []
    for case in ("users", "invoice"):
        paced = f"{case}-paced"
        if not d.has("2", paced):
            continue
        parts = []
        for t in SHADOWS:
            p, c = d.same_load(case, t), d.same_load(case, t, "cpu_us_per_req")
            if p is not None and c is not None:
                parts.append(f"{t} p99 {p[1]:.2f}{X}, gateway CPU per request {c[1]:.2f}{X}")
        line = (
            f"{case}, same offered rate ({_load(d)}{X} legacy mode's closed-loop throughput), "
            "medians vs legacy mode: " + "; ".join(parts) + "."
        )
        side = d.stat("2", paced, "shadow-url-1.0", d.conns("2", paced), "side_cpu_us_per_req")
        if side is not None:
            line += f" The out-of-process candidate uses {side[1]:.0f} µs per request on its core."
        off = d.unequal_rounds(case)
        if off:
            rounds = ", ".join(str(k) for k in sorted(off))
            line += f" Loads differ by more than {UNEQUAL_LOAD:.0%} in round(s) {rounds}."
        lines.append(line)
    totals = _shadow_totals(d, ("shed", "skipped", "errored"))
    if totals:
        lines.append("Shadow work not compared, over all part 2 runs: " + totals + ".")
    return lines


def _shadow_totals(d: Data, kinds: Sequence[str]) -> str:
    out = []
    for t in SHADOWS:
        recs = [r for r in d.m if r["part"] == "2" and r["target"] == t and "shadow" in r]
        if not recs:
            continue
        total = sum(r["requests"] for r in recs)
        counts = {k: sum(outcomes(r, k) for r in recs) for k in kinds}
        shown = ", ".join(f"{k} {v:g}" for k, v in counts.items())
        out.append(f"{t}: {shown} of {total} requests")
    return "; ".join(out)


def profile_findings(d: Data) -> list[str]:
    lines = []
    for label, p in d.r.get("profiles", {}).items():
        areas = p.get("areas") or []
        top = p.get("self") or []
        if not areas or not top:
            continue
        shares = ", ".join(f"{a} {s * 100:.0f} %" for a, s in areas[:3])
        lines.append(
            f"Profile {label}: own time mostly in {shares}; the top function is "
            f"`{top[0][0]}` ({top[0][1] * 100:.0f} %)."
        )
    return lines


def compare_findings(d: Data) -> list[str]:
    sizes = _micro(d, "compare", "sizes") or {}
    lines = []
    for row in sizes.values():
        for kind in ("unequal_one", "unequal_many"):
            c = row.get(kind, {})
            if c and c.get("outcome") != "mismatched":
                lines.append(
                    f"A real difference ({kind}) in a {row['identical'].get('bytes')}-byte body "
                    f"was classified `{c.get('outcome')}` with {c.get('differences')} "
                    "differences (part 2, comparison cost)."
                )
    return lines


# ---------------------------------------------------------------- machine


def machine(results: dict[str, Any], w: Write) -> None:
    m, v, s = results.get("machine", {}), results.get("versions", {}), results.get("settings", {})
    w("## Machine and versions\n")
    w(
        f"- CPU: {m.get('cpu_model')}, {m.get('cores')} cores; memory {m.get('memory_gib')} GiB; "
        f"kernel {m.get('kernel')}"
    )
    w(
        f"- Load average at start {' '.join(m.get('loadavg_start', []))}, at end "
        f"{' '.join(m.get('loadavg_end', []))} (the machine is shared: other jobs ran alongside)"
    )
    w(f"- Started {m.get('started_utc')} UTC; took {results.get('elapsed_s')} s")
    first = results.get("first_run")
    if first:
        fm = first.get("machine") or {}
        w(
            f"- Two runs: the parts not listed in this run's settings come from a run started "
            f"{fm.get('started_utc')} UTC (took {first.get('elapsed_s')} s, load average "
            f"{' '.join(fm.get('loadavg_start', []))} at start); see the notes"
        )
    w(f"- Python {v.get('python')}; {v.get('packages')}")
    w(
        f"- nginx {v.get('nginx')}; {v.get('php')}; {v.get('php-fpm')}; {v.get('wrk')}; "
        f"MariaDB {v.get('mariadb')}"
    )
    w(f"- Commit: {v.get('git')}")
    w(
        f"- Settings: {s.get('runs')} rounds, {s.get('duration')} s per wrk run after "
        f"{s.get('warmup')} s warm-up, seed scale {s.get('scale')}, "
        f"PHP-FPM {s.get('fpm_children')} "
        f"static workers, load core {s.get('load_cpu')}, server-under-test core {s.get('sut_cpu')}"
    )
    setup = results.get("setup", {})
    if setup:
        php = setup.get("php") or setup.get("php_fastcgi")
        seeded = f"{setup.get('seed_mariadb_s')} s (MariaDB)"
        if setup.get("seed_sqlite_s") is not None:
            seeded += f", {setup.get('seed_sqlite_s')} s (SQLite)"
        w(f"- Set-up: PHP under {php}; seeding took {seeded}")
    w("")


# ---------------------------------------------------------------- parts


def _abs_table(
    d: Data,
    w: Write,
    part: str,
    case: str,
    targets: Sequence[str],
    conns_list: Sequence[int],
    side_label: str = "candidate CPU µs/req",
) -> None:
    """Absolute figures per target; a column for the candidate process where one was measured."""
    side = any(
        r.get("side_cpu_us_per_req") is not None
        for r in d.m
        if (r["part"], r["case"]) == (part, case)
    )
    header = ["target", "conns", "req/s", "p50 ms", "p99 ms", "CPU µs/req", "RSS MiB"]
    if side:
        header.append(side_label)
    rows = []
    for conns in conns_list:
        for t in targets:
            rps = d.stat(part, case, t, conns, "rps")
            if rps is None:
                continue

            def st(key: str, t: str = t, conns: int = conns) -> Spread | None:
                return d.stat(part, case, t, conns, key)

            row = [t, conns, fmt(rps, 0), fmt(_ms(st("p50_us"))), fmt(_ms(st("p99_us")))]
            row += [fmt(st("cpu_us_per_req"), 0), fmt(st("rss_mib"), 1)]
            if side:
                cand = st("side_cpu_us_per_req")
                row.append(fmt(cand, 0) if cand else "")
            rows.append(row)
    table(w, header, rows)


def _ratio_row(
    label: str, cells: Iterable[Spread | None], digits: int = 2, unit: str = ""
) -> list[str]:
    return [label, *(fmt(c, digits, unit) for c in cells)]


def part1(d: Data, w: Write) -> None:
    w("## 1. Pass-through\n")
    w(
        "wrk on the load core; the server under test alone on the other core (the upstream itself "
        "when measured directly; behind a proxy, the upstream moves to the load core). gw1 = "
        "gateway in legacy mode, one worker, pinned; gw2 = `--workers 2`, not pinned.\n"
    )
    conns = sorted({r["conns"] for r in d.m if r["part"] == "1"} - {1})
    for case, title in (
        ("tiny", "tiny static JSON (nginx)"),
        ("users", "PHP-FPM: users list `/api/v1/admin/users`"),
        ("invoice", "PHP-FPM: invoice with includes `/api/v1/admin/invoices/1?include=items,user`"),
    ):
        if not d.has("1", case):
            continue
        w(f"### {title}\n")
        rows = [
            _ratio_row(f"throughput {a} / {b}", (d.ratio("1", case, a, b, c) for c in conns))
            for a, b in (("gw1", "nginx"), ("gw2", "nginx"), ("nginx", "direct"), ("gw1", "direct"))
        ]
        cpu = (d.ratio("1", case, "gw1", "nginx", c, "cpu_us_per_req") for c in conns)
        rows.append(_ratio_row("CPU per request gw1 / nginx", cpu, 1, X))
        for a, b in (("gw1", "nginx"), ("gw2", "nginx")):
            p99 = (d.ratio("1", case, a, b, c, "p99_us") for c in conns)
            rows.append(_ratio_row(f"p99 {a} / {b}", p99, 2, X))
        table(w, ["ratio", *(f"c{c}" for c in conns)], rows)
        g, n = d.added_latency(case, "gw1"), d.added_latency(case, "nginx")
        w(
            f"Latency added at 1 connection (p50 minus direct p50): gateway "
            f"{fmt(spread(g.values()), 0, ' µs')}, nginx {fmt(spread(n.values()), 0, ' µs')}; "
            f"ratio {fmt(d.added_ratio(case), 1, X)}\n"
        )
        _abs_table(d, w, "1", case, ["direct", "nginx", "gw1", "gw2"], [*conns, 1])


def part2(d: Data, w: Write) -> None:
    w("## 2. Shadow mode\n")
    if not d.has("2"):
        w("Not measured (see notes).\n")
        return
    s = d.r.get("settings", {})
    cand = s.get("candidate_cpu")
    w(
        "PHP-FPM on MariaDB on the load core with wrk, the gateway alone on the other core. "
        "shadow-1.0 and shadow-0.1: the candidate (the native handlers) runs in the gateway "
        "process, sample 1.0 and 0.1; shadow-url-1.0: sample 1.0, the candidate is the same "
        "handlers served by uvicorn as a process of its own behind `native.url`, "
        + (f"pinned to core {cand}" if cand is not None else "not pinned")
        + ". CPU per request: the gateway process's utime+stime over the run (plus 1.5 s for "
        "background work to finish), divided by the client's requests; the candidate process's "
        "is counted apart.\n"
    )
    for case in ("users", "invoice"):
        if not d.has("2", case):
            continue
        w(f"### {case}\n")
        _same_load(d, w, case)
        _closed_loop(d, w, case)
        _shadow_counts(d, w, case)
    _compare_cost(d, w)


def _targets(d: Data, case: str) -> list[str]:
    found = {r["target"] for r in d.m if r["part"] == "2" and r["case"] == case}
    return [t for t in ("legacy", *SHADOWS) if t in found]


def _same_load(d: Data, w: Write, case: str) -> None:
    paced = f"{case}-paced"
    if not d.has("2", paced):
        return
    conns = d.conns("2", paced)
    shadows = _targets(d, paced)[1:]
    w(f"#### At the same load: paced at {_load(d)}{X} legacy mode's closed-loop throughput\n")
    w(
        f"Each round, after the closed-loop runs below, every target gets the same offered rate, "
        f"{_load(d)} times legacy mode's closed-loop req/s of that round, from {conns} wrk "
        "connections paced by one shared schedule (wrk's delay() hook, bench/wrk_json.lua). "
        "Latency is from send to response. A target that cannot keep up achieves less than "
        f"offered; a round where a target's achieved rate is more than {UNEQUAL_LOAD:.0%} away "
        "from legacy mode's is flagged.\n"
    )
    keys = [("p99_us", "client p99"), ("p50_us", "client p50"), ("rps", "achieved req/s")]
    _shadow_ratios(d, w, paced, conns, "ratio vs legacy mode, same offered rate", keys)
    offered = d.by_round("2", paced, "legacy", conns, "offered_rps")
    flagged = d.unequal_rounds(case)
    rows = []
    for rnd in sorted(offered):
        row: list[object] = [rnd, f"{offered[rnd]:.0f}"]
        for t in ("legacy", *shadows):
            rps = d.by_round("2", paced, t, conns, "rps").get(rnd)
            p99 = d.by_round("2", paced, t, conns, "p99_us").get(rnd)
            row.append("" if rps is None else f"{rps:.0f}; {(p99 or 0) / 1000:.2f}")
        row.append(f"**no**: {flagged[rnd]:.0%} apart" if rnd in flagged else "yes")
        rows.append(row)
    header = ["round", "offered req/s", *(f"{t} req/s; p99 ms" for t in ("legacy", *shadows))]
    table(w, [*header, f"loads within {UNEQUAL_LOAD:.0%}"], rows)
    _abs_table(d, w, "2", paced, ["legacy", *shadows], [conns])


def _closed_loop(d: Data, w: Write, case: str) -> None:
    w("#### Closed loop, 32 connections (not the same load: a slower target gets fewer requests)\n")
    keys = [("rps", "throughput"), ("p99_us", "client p99")]
    _shadow_ratios(d, w, case, 32, "ratio vs legacy mode, closed loop c32", keys)
    _abs_table(d, w, "2", case, ["legacy", *_targets(d, case)[1:]], [32])


def _shadow_ratios(
    d: Data, w: Write, case: str, conns: int, title: str, keys: list[tuple[str, str]]
) -> None:
    """Each shadow target against legacy mode in the same round, and the share it shed."""
    shadows = _targets(d, case)[1:]
    keys = [*keys, ("cpu_us_per_req", "gateway CPU per request")]
    rows = [
        _ratio_row(label, (d.ratio("2", case, t, "legacy", conns, key) for t in shadows), 2, X)
        for key, label in keys
    ]
    shed = (d.shed_share(case, t) for t in shadows)
    rows.append(_ratio_row("candidates shed, % of requests (not a ratio)", shed, 0))
    table(w, [title, *shadows], rows)


_STORE_COLUMNS = (
    "matched",
    "mismatched",
    "ignored",
    "errored",
    "skipped",
    "shed",
    "unsampled",
    "dropped",
    "aa_compared",
)


def _shadow_counts(d: Data, w: Write, case: str) -> None:
    recs = [
        r
        for r in d.m
        if r["part"] == "2" and r["case"] in (case, f"{case}-paced") and "shadow" in r
    ]
    cols = [c for c in _STORE_COLUMNS if any(r["shadow"].get(f"store.{c}") for r in recs)]
    if cols:
        w(
            "Outcomes written to the parity store during each run (change of the "
            "`shadow_counts` sums, read after the run and 1.5 s of settling), against the "
            "client's requests:\n"
        )
        rows = [
            [
                r["target"],
                "paced" if r["case"].endswith("-paced") else "closed c32",
                r["round"],
                r["requests"],
                *(f"{r['shadow'].get(f'store.{c}', 0):g}" for c in cols),
            ]
            for r in recs
        ]
        table(w, ["target", "load", "round", "requests", *cols], rows)
    other = [
        (r, {k: v for k, v in r["shadow"].items() if not k.startswith("store.")}) for r in recs
    ]
    other = [o for o in other if o[1]]
    if other:
        w("Counters from the admin surface (/_strangler/), change over each run:\n")
        for r, c in other:
            shown = ", ".join(f"`{k}` {v:g}" for k, v in sorted(c.items()))
            w(f"- {r['target']}, {r['case']}, round {r['round']}: {shown}")
        w("")
    if not cols and not other:
        w("No shadow counters found (parity store or /_strangler/).\n")


def _compare_cost(d: Data, w: Write) -> None:
    comp = _micro(d, "compare", "sizes")
    if not comp:
        return
    w("### Comparison cost (shadow.compare.compare, in-process, one core)\n")
    w(
        "identical = same bytes; equal = same JSON, other bytes (key order, `\\/` escapes); "
        "unequal_one = one field differs; unequal_many = a field differs in every list item.\n"
    )
    kinds = ("identical", "equal", "unequal_one", "unequal_many")
    rows = []
    for size, row in comp.items():
        cells = [
            f"{c.get('median_us', 0):.1f} µs ({c.get('outcome')}, {c.get('differences')} diffs)"
            for c in (row.get(k, {}) for k in kinds)
        ]
        rows.append([row["identical"].get("bytes", size), *cells])
    table(w, ["body bytes", *kinds], rows)


def part3(d: Data, w: Write) -> None:
    w("## 3. Native vs PHP\n")
    if not d.has("3"):
        w("Not measured (see notes).\n")
        return
    w(
        "Same gateway (pinned to one core), same endpoints, same database; legacy mode forwards to "
        "PHP-FPM behind nginx (PHP-FPM may use both cores), native mode calls the in-process "
        "handlers. 32 connections.\n"
    )
    w(
        "Then both modes again at the same offered rate, paced as in part 2: "
        f"{_load(d)}{X} legacy mode's closed-loop throughput of the round, so that p99 compares "
        "the two at one load, not each at its own saturation.\n"
    )
    cases = [(case, db) for db in ("mariadb", "sqlite") for case in ("users", "invoice")]
    rows = []
    for case, db in cases:
        paced = f"{case}-{db}-paced"
        conns = d.conns("3", paced)
        rows.append(
            [
                case,
                db,
                fmt(d.ratio("3", f"{case}-{db}", "native", "legacy", 32), 2, X),
                fmt(d.ratio("3", f"{case}-{db}", "native", "legacy", 32, "p99_us"), 2, X),
                fmt(d.ratio("3", paced, "native", "legacy", conns, "p99_us"), 2, X)
                if conns
                else "not measured",
            ]
        )
    header = [
        "endpoint",
        "database",
        "throughput native / legacy (c32)",
        "p99 native / legacy (c32)",
        "p99 native / legacy (same load)",
    ]
    table(w, header, rows)
    for case, db in cases:
        if d.stat("3", f"{case}-{db}", "legacy", 32, "rps") is None:
            continue
        w(f"{case} on {db}:\n")
        _abs_table(d, w, "3", f"{case}-{db}", ["legacy", "native"], [32])
        paced = f"{case}-{db}-paced"
        if d.has("3", paced):
            w(f"{case} on {db}, same offered rate:\n")
            _abs_table(d, w, "3", paced, ["legacy", "native"], [d.conns("3", paced)])


def part4(d: Data, w: Write) -> None:
    w("## 4. Growth\n")
    m = _micro(d, "matcher", "sizes")
    if m:
        w(
            "### Match time (proxy.table.matcher: compile_table + Matcher.match), µs per call, "
            "median of repeats (min … max)\n"
        )
        kinds = [k for k in next(iter(m.values())) if k != "compile"]
        rows = [
            [
                n,
                f"{row['compile']['median_us'] / 1000:.1f}",
                *(fmt((row[k]["min_us"], row[k]["median_us"], row[k]["max_us"]), 2) for k in kinds),
            ]
            for n, row in m.items()
        ]
        table(w, ["routes", "compile ms", *kinds], rows)
    st = d.r.get("stream", [])
    if st:
        w("### Streaming a large body through legacy mode (gateway RSS, sampled every 50 ms)\n")
        header = ["round", "bytes each way", "RSS before MiB", "peak MiB", "growth MiB"]
        rows = [
            [
                x["round"],
                x["bytes"],
                f"{x['rss_before_mib']:.1f}",
                f"{x['rss_peak_mib']:.1f}",
                f"{x['growth_mib']:.1f}",
                x.get("up_s"),
                x.get("down_s"),
                x.get("complete"),
            ]
            for x in st
        ]
        table(w, [*header, "up s", "down s", "complete"], rows)
    _store_rate(d, w)


def _store_rate(d: Data, w: Write) -> None:
    store = _micro(d, "store")
    if not store:
        return
    w("### Parity store write rate (shadow.store + StoreWriter), results per second\n")
    if "error" in store:
        w(f"Not measured: {store['error']}\n")
        return
    rows = []
    for db in ("sqlite", "mariadb"):
        x = store.get(db)
        if not x:
            continue
        if "error" in x:
            rows.append([db, x["error"], ""])
            continue
        a, b = x["writer_results_per_s"], x["batch_results_per_s"]
        rows.append(
            [
                db,
                fmt((a["min"], a["median"], a["max"]), 0),
                fmt((b["min"], b["median"], b["max"]), 0),
            ]
        )
    header = ["database", "through StoreWriter (put + flush)"]
    table(w, [*header, "one folded batch of 500 via Store.write"], rows)


def part5(d: Data, w: Write) -> None:
    if not d.has("5"):
        return
    w("## 5. Where the gateway's time goes\n")
    w(
        "Same placement as part 1 (tiny upstream, 32 connections, each target alone on its core), "
        "measured in the same rounds: the gateway as shipped (gw1); the same gateway with its "
        "access log off (`STRANGLER_LOG_LEVEL=warning`); and two reference proxies from "
        "bench/floors.py served by the same uvicorn: a bare ASGI callable forwarding with one "
        "aiohttp ClientSession (floor-aiohttp), and one with a keep-alive pool of asyncio "
        "protocols parsing with httptools (floor-raw, the floor of a lean HTTP/1.1 client). "
        "Where gw1 stands between the floors and nginx says how much of its cost is the HTTP "
        "client and how much the rest of the gateway. CPU per request is the less noisy figure "
        "on a shared machine.\n"
    )
    rows = []
    for t in ("nginx", "gw1", "gw-nolog", "floor-aiohttp", "floor-raw"):
        r = d.ratio("5", "floors", t, "nginx", 32)
        if r is None:
            continue
        cpu = d.stat("5", "floors", t, 32, "cpu_us_per_req")
        rel = d.ratio("5", "floors", t, "gw1", 32, "cpu_us_per_req")
        rows.append([t, fmt(r), fmt(cpu, 0), fmt(rel, 2, X)])
    table(w, ["target", "throughput / nginx", "CPU µs per request", "CPU / gw1 CPU"], rows)


def part6(d: Data, w: Write) -> None:
    if not d.has("6"):
        return
    from bench.canary import overhead

    info = d.r.get("canary", {})
    fraction = float(info.get("native_fraction", 0.5))
    w("## 6. What canary mode costs\n")
    w(
        "Three gateways on the tiny upstream, each alone on the server core in turn: the route in "
        "legacy mode, in native mode (a native app that does next to nothing, in process), and in "
        f"canary mode at share 0.5, every request carrying one of {info.get('cohorts')} cohorts "
        f"in turn ({fraction:.1%} of them hashed to native). Goal: the canary's CPU per request "
        f"at most 1.05{X} what the same requests cost in the two modes on their own, "
        f"{fraction:.3f} {X} native + {1 - fraction:.3f} {X} legacy.\n"
    )
    rows = []
    ratios = overhead(d.m, fraction)
    for conns in sorted({c for _, c in ratios}):
        cpu = {t: d.stat("6", "canary", t, conns, "cpu_us_per_req")
               for t in ("legacy", "native", "share50")}  # fmt: skip
        rps = {t: d.stat("6", "canary", t, conns, "rps") for t in ("legacy", "native", "share50")}
        ratio = spread([v for (_, c), v in ratios.items() if c == conns])
        rows.append([
            str(conns), *(fmt(cpu[t], 0) for t in cpu), *(fmt(rps[t], 0) for t in rps),
            fmt(ratio, 3, X), verdict(ratio, lambda v: v <= 1.05),
        ])  # fmt: skip
    table(
        w,
        ["conns", "CPU µs/req legacy", "native", "canary", "req/s legacy", "native", "canary",
         "canary / mix", f"goal ≤ 1.05{X}"],
        rows,
    )  # fmt: skip


# ---------------------------------------------------------------- part 8

FCGI = (
    ("users", "users list `/api/v1/admin/users`"),
    ("invoice", "invoice with includes `/api/v1/admin/invoices/1?include=items,user`"),
    ("static-4k", "a 4 KB static file"),
    ("static-100m", "a 100 MB static file"),
)


def fastcgi_goal_rows(d: Data) -> list[list[str]]:
    if not d.has("8"):
        return []
    rows = []
    for case in ("users", "invoice"):
        t = d.ratio("8", case, "gw1", "nginx", 32)
        p = d.ratio("8", case, "gw1", "nginx", 32, "p99_us")
        ok = (verdict(t, lambda x: x >= 0.95), verdict(p, lambda x: x <= 1.2))
        both = "**met**" if all(v.startswith("**met") for v in ok) else "**missed**"
        rows.append(
            [
                f"gateway → PHP-FPM vs nginx → PHP-FPM ({case}): throughput (c32); p99 (c32)",
                f"≥ 0.95; ≤ 1.2{X}",
                f"{fmt(t)}; p99 {fmt(p, 2, X)}",
                f"{both} ({ok[0]}; {ok[1]})",
            ]
        )
    t = d.ratio("8", "static-4k", "gw1", "nginx", 32)
    rows.append(
        [
            "gateway vs nginx, a 4 KB static file: throughput (c32)",
            "≥ 0.25",
            fmt(t),
            verdict(t, lambda x: x >= 0.25),
        ]
    )
    g = d.stat("8", "static-100m", "gw1", 32, "rss_growth_mib")
    rows.append(
        [
            "gateway RSS growth while 32 clients download a 100 MB static file",
            "< 20 MiB",
            f"+{fmt(g, 1, ' MiB')}",
            verdict(g, lambda x: x < 20),
        ]
    )
    return rows


def part8(d: Data, w: Write) -> None:
    if not d.has("8"):
        return
    w("## 7. In front of PHP-FPM: nginx or the gateway, both speaking FastCGI\n")
    w(
        "One PHP-FPM pool (`legacy/deploy/run-fpm.sh --fpm-only`, pm = static, the legacy "
        "application on MariaDB) and one document root (the front controller beside a 4 KB and "
        "a 100 MB file). nginx = Laravel's documented server block (`try_files $uri $uri/ "
        "/index.php?$query_string`, a `\\.php$` location with `include fastcgi_params`, a new "
        "FastCGI connection per request) with Debian's file defaults (sendfile, tcp_nopush); "
        "nginx-keep = the same with an upstream `keepalive 16` and `fastcgi_keep_conn on`, as "
        "legacy/deploy/nginx.conf has it; gw1 = the gateway with `legacy: {fastcgi, root}` and "
        "nothing else set, one worker. wrk and PHP-FPM share the load core; the web server under "
        "test has the other to itself. CPU per request counts the web server's processes; "
        "PHP-FPM's, behind each of them, is counted apart.\n"
    )
    rows = []
    for case, _ in FCGI:
        if not d.has("8", case):
            continue
        # a 100 MB answer may not end within a run at 32 connections: bytes per second, then
        key = "bytes_per_s" if case == "static-100m" else "rps"
        row = [case, fmt(d.ratio("8", case, "gw1", "nginx", 32, key))]
        row.append(fmt(d.ratio("8", case, "gw1", "nginx", 32, "p99_us"), 2, X))
        row.append(fmt(d.ratio("8", case, "gw1", "nginx", 32, "cpu_us_per_req"), 1, X))
        row.append(fmt(d.ratio("8", case, "gw1", "nginx-keep", 32, key)))
        added = d.ratio("8", case, "gw1", "nginx", 1, "p50_us", lambda a, b: a - b)
        row.append(fmt(added, 0, " µs"))
        rows.append(row)
    header = ["case", "throughput gw1 / nginx (c32; 100 MB: bytes/s)", "p99 gw1 / nginx (c32)"]
    header += ["CPU/req gw1 / nginx (c32)", "throughput gw1 / nginx-keep (c32)"]
    table(w, [*header, "latency added at c1: p50 gw1 minus nginx"], rows)
    for case, title in FCGI:
        if not d.has("8", case):
            continue
        w(f"### {title}\n")
        _abs_table(d, w, "8", case, ["nginx", "nginx-keep", "gw1"], [32, 1], "PHP-FPM CPU µs/req")
        busy = []
        for t in ("nginx", "nginx-keep", "gw1"):
            share = spread(
                r["rps"] * r["mean_us"] / 1e6 / r["conns"]
                for r in d.m
                if (r["part"], r["case"], r["target"], r["conns"]) == ("8", case, t, 32)
                and r.get("mean_us")
            )
            if share is not None:
                busy.append(f"{t} {fmt(share)}")
        if busy:
            w(
                f"Share of the 32 connections with a request answered in the run (req/s {X} mean "
                "latency ÷ 32; below 1, some connections waited past the run's end): "
                + "; ".join(busy)
                + "\n"
            )
        timeouts = [
            f"{r['target']} c{r['conns']} round {r['round']}: {r['errors']} errors"
            for r in d.m
            if (r["part"], r["case"]) == ("8", case) and r.get("errors")
        ]
        if timeouts:
            w("wrk errors (timeouts at 10 s, resets): " + "; ".join(timeouts) + "\n")
        growth = [
            (r["target"], r["conns"], r["rss_growth_mib"])
            for r in d.m
            if (r["part"], r["case"]) == ("8", case) and "rss_growth_mib" in r
        ]
        if growth:
            cells = sorted({(t, c) for t, c, _ in growth})
            parts = []
            for t, c in cells:
                g = spread(x for tt, cc, x in growth if (tt, cc) == (t, c))
                parts.append(f"{t} c{c} +{fmt(g, 1, ' MiB')}")
            w("Peak RSS growth during the runs (sampled every 20 ms): " + "; ".join(parts) + "\n")


def render_fastcgi(results: dict[str, Any]) -> str:
    """The report of a run of part 8 alone (`BENCH_PARTS=8`)."""
    d = Data(results)
    out: list[str] = []
    w = out.append
    s = results.get("settings", {})
    w("# Benchmark results: part 8, in front of PHP-FPM\n")
    w(
        "Part 8 of `make bench` run alone (`BENCH_PARTS=8`): every figure is a ratio of two "
        "things measured side by side in the same run (targets interleaved, rotated each round), "
        f"reported as **median** (min … max) over {s.get('runs')} round(s).\n"
    )
    w("## Goals\n")
    table(w, ["measure", "goal", "result", "verdict"], fastcgi_goal_rows(d))
    path = Path(__file__).resolve().parent / "results" / "fastcgi-findings.md"
    if path.exists():
        w(path.read_text().rstrip() + "\n")
    machine(results, w)
    part8(d, w)
    profiles(results, w)
    notes(results, w)
    commands(results, w)
    return "\n".join(out) + "\n"


def profiles(results: dict[str, Any], w: Write) -> None:
    prof = results.get("profiles", {})
    if not prof:
        return
    w("## Profiles (py-spy, gateway under 32 connections)\n")
    for label, p in prof.items():
        w(f"### {label}: {p['samples']} samples\n")
        if p.get("areas"):
            w(
                "Own time by component: "
                + ", ".join(f"{a} {share * 100:.0f} %" for a, share in p["areas"][:10])
                + "\n"
            )
        w("Top functions by own time:\n")
        table(w, ["share", "function"], ([f"{s * 100:.1f} %", f"`{f}`"] for f, s in p["self"][:15]))
        w("Inclusive (share of samples with the function on the stack), top entries:\n")
        incl = p["inclusive"][:25]
        table(w, ["share", "function"], ([f"{s * 100:.1f} %", f"`{f}`"] for f, s in incl))


def notes(results: dict[str, Any], w: Write) -> None:
    n = results.get("notes", [])
    if n:
        w("## Notes from the run\n")
        for x in n:
            w(f"- {x[:1500]}")
        w("")


def commands(results: dict[str, Any], w: Write) -> None:
    c = results.get("commands", {})
    s = results.get("settings", {})
    w("## Exact commands\n")
    w("```")
    keys = ("runs", "duration", "warmup", "scale", "shadow_load", "paced_conns")
    env = " ".join(f"BENCH_{k.upper()}={s.get(k)}" for k in keys if k in s)
    parts = sorted(str(p) for p in s.get("parts", []))
    if parts and parts != ["1", "2", "3", "4", "5"]:
        env += f" BENCH_PARTS={','.join(parts)}"
    w(f"{env} make bench")
    for k, v in c.items():
        w(f"# {k}\n{v}")
    w("```")
    w(
        "Generated configurations (nginx, PHP-FPM, routing.yaml of every gateway) are copied to "
        "bench/results/raw/configs/.\n"
    )


def main() -> None:
    results = json.loads(Path(sys.argv[1]).read_text())
    sys.stdout.write(render(results))


if __name__ == "__main__":
    main()
