"""`make bench`: every figure is a ratio of two things measured side by side in the same run.

Placement (2 cores): wrk always runs on the load core (BENCH_LOAD_CPU, default 0) and the server
under test alone on the other (BENCH_SUT_CPU, default 1). In part 1 the upstream is the server
under test when it is measured directly, and moves to the load core when a proxy is in front of
it, so the proxy has its core to itself. `--workers 2` gateways are not pinned. In part 3 PHP-FPM
may use both cores (PHP scales across processes, the native handlers are one Python process).

Rounds: every round measures every case once, targets interleaved (rotated each round), so slow
drift of a noisy machine hits all targets alike; ratios are taken within a round, then reported
as min / median / max over rounds.

Parts 2 and 3 run twice per round and case: closed loop at 32 connections, then paced (wrk's
delay() hook, see wrk_json.lua) at BENCH_SHADOW_LOAD times legacy mode's closed-loop throughput of
that round, every target at the same offered rate.

Part 9 (bench/workers.py) leaves the server side unpinned: native workers are there to use both
cores; wrk stays on the load core.

Part 8 puts nginx and the gateway, each speaking FastCGI, in front of one PHP-FPM pool (see
bench/fastcgi.py): PHP-FPM on the load core with wrk, the web server under test alone on the other.

Settings (environment): BENCH_QUICK=1 (smoke run), BENCH_RUNS, BENCH_DURATION (s), BENCH_WARMUP
(s), BENCH_SCALE (seed scale), BENCH_CONNS ("32,128"), BENCH_PARTS ("1,2,3,4,5"; 6 to 9 run
when named), BENCH_SHADOW_LOAD (0.5), BENCH_PACED_CONNS (128), BENCH_CANDIDATE_CPU (the load
core; "any": unpinned), BENCH_STREAM_BYTES, BENCH_FPM_CHILDREN, BENCH_PROFILE_SECONDS (0: no
profile), BENCH_TMP, BENCH_RAW.
"""

from __future__ import annotations

import contextlib
import json
import os
import platform
import re
import shutil
import signal
import subprocess
import sys
import time
import traceback
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bench import canary, fastcgi, services, wrk
from bench import replay as replay_part
from bench import workers as workers_part
from bench.procs import CLK_TCK, Proc, Registry, http_get, pin

ROOT = Path(__file__).resolve().parents[1]
PY = sys.executable
USERS = "/api/v1/admin/users"
INVOICE = "/api/v1/admin/invoices/1?include=items,user"
ENDPOINTS = {"users": USERS, "invoice": INVOICE}
# part 8: what nginx and the gateway are loaded with, in front of the same PHP-FPM pool
FCGI_CASES = {
    "users": USERS,
    "invoice": INVOICE,
    "static-4k": fastcgi.SMALL,
    "static-100m": fastcgi.BIG,
}
FCGI_TARGETS = {"fcgi.nginx": "nginx", "fcgi.nginx-keep": "nginx-keep", "fcgi.gw1": "gw1"}
MIB = 1024 * 1024
# part 2: gateway target → label in the results; shadow-url: the candidate behind native.url
SHADOW_TARGETS = {
    "php.gw1": "legacy",
    "php.shadow1": "shadow-1.0",
    "php.shadow01": "shadow-0.1",
    "php.shadow-url": "shadow-url-1.0",
}


def _env(name: str, default: str) -> str:
    return os.environ.get(name) or default


@dataclass
class Settings:
    quick: bool
    runs: int
    duration: float
    warmup: float
    scale: int
    conns: list[int]
    parts: set[str]
    stream_bytes: int
    fpm_children: int
    profile_seconds: float
    load_cpu: str
    sut_cpu: str
    shadow_load: float
    paced_conns: int
    candidate_cpu: str | None
    tmp: Path
    raw: Path
    store_rows: int

    @classmethod
    def from_env(cls) -> Settings:
        quick = os.environ.get("BENCH_QUICK") == "1"
        tmp = Path(_env("BENCH_TMP", f"/tmp/strangler-bench-{uuid.uuid4().hex[:8]}"))
        tmp.mkdir(parents=True, exist_ok=True)
        raw = Path(_env("BENCH_RAW", str(ROOT / "bench" / "results" / "raw")))
        raw.mkdir(parents=True, exist_ok=True)
        load_cpu = _env("BENCH_LOAD_CPU", "0")
        candidate = _env("BENCH_CANDIDATE_CPU", load_cpu)
        return cls(
            quick=quick,
            runs=int(_env("BENCH_RUNS", "1" if quick else "3")),
            duration=float(_env("BENCH_DURATION", "1" if quick else "5")),
            warmup=float(_env("BENCH_WARMUP", "0" if quick else "1")),
            scale=int(_env("BENCH_SCALE", "100" if quick else "10000")),
            conns=[int(c) for c in _env("BENCH_CONNS", "32,128").split(",")],
            parts=set(_env("BENCH_PARTS", "1,2,3,4,5").split(",")),
            stream_bytes=int(_env("BENCH_STREAM_BYTES", str(32 * MIB if quick else 1024 * MIB))),
            fpm_children=int(_env("BENCH_FPM_CHILDREN", "8")),
            profile_seconds=float(_env("BENCH_PROFILE_SECONDS", "2" if quick else "10")),
            load_cpu=load_cpu,
            sut_cpu=_env("BENCH_SUT_CPU", "1"),
            shadow_load=float(_env("BENCH_SHADOW_LOAD", "0.5")),
            paced_conns=int(_env("BENCH_PACED_CONNS", "128")),
            candidate_cpu=None if candidate == "any" else candidate,
            tmp=tmp,
            raw=raw,
            store_rows=int(_env("BENCH_STORE_ROWS", "2000" if quick else "20000")),
        )


@dataclass
class Target:
    """Something wrk can load: a URL, the processes whose CPU and RSS count, where they run."""

    name: str
    base: str
    procs: list[Proc]
    cpus: str | None  # None: not pinned
    kind: str  # direct | nginx | gateway
    info: dict[str, Any] = field(default_factory=dict)
    # processes serving this target beside it (a candidate at native.url): CPU counted apart
    side: list[Proc] = field(default_factory=list)

    def pids(self) -> list[int]:
        out: list[int] = []
        for p in self.procs:
            out += services.php_trees(p) if p.info.get("fpm") else p.tree()
        return out

    def side_pids(self) -> list[int]:
        return [pid for p in self.side for pid in p.tree()]

    def place(self) -> None:
        pin(self.pids(), self.cpus)


class Bench:
    def __init__(self, s: Settings) -> None:
        self.s = s
        self.reg = Registry(s.tmp)
        self.results: dict[str, Any] = {
            "settings": {k: str(v) if isinstance(v, Path) else v for k, v in vars(s).items()},
            "measurements": [],
            "micro": {},
            "stream": [],
            "profiles": {},
            "notes": [],
            "commands": {},
            "setup": {},
        }
        self.results["settings"]["parts"] = sorted(s.parts)
        self.token = ""
        self.mysql_db: str | None = None
        self.mysql_store_db: str | None = None
        self.targets: dict[str, Target] = {}
        self.php: dict[str, Proc] = {}
        self.fcgi_fpm: Proc | None = None  # part 8's PHP-FPM pool

    # ------------------------------------------------------------ helpers

    def note(self, text: str) -> None:
        print(f"[bench] {text}", flush=True)
        self.results["notes"].append(text)

    def log(self, text: str) -> None:
        print(f"[bench] {time.strftime('%H:%M:%S')} {text}", flush=True)

    def save(self) -> None:
        cmds = self.results["commands"]
        for k, v in cmds.items():
            v = v.replace(PY, "python").replace(str(Path(PY).parent) + "/", "")
            v = v.replace(str(self.s.raw), "bench/results/raw").replace(str(self.s.tmp), "$TMP")
            v = re.sub(r"--port \d+", "--port $PORT", v)
            v = re.sub(r"127\.0\.0\.1:\d+", "127.0.0.1:$PORT", v)
            cmds[k] = v.replace(str(ROOT) + "/", "").replace(str(ROOT), ".")
        (self.s.raw / "results.json").write_text(json.dumps(self.results, indent=1, default=str))

    @property
    def auth(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"} if self.token else {}

    # ------------------------------------------------------------ machine

    def machine(self) -> None:
        def out(cmd: list[str]) -> str:
            try:
                p = subprocess.run(cmd, capture_output=True, text=True, timeout=20, check=False)
                return (p.stdout + p.stderr).strip()
            except OSError as exc:
                return f"unavailable: {exc}"

        lscpu = out(["lscpu"])
        model = re.search(r"Model name:\s*(.+)", lscpu)
        mem = Path("/proc/meminfo").read_text().split("\n")[0].split()[1]
        code = (
            "import importlib.metadata as m;"
            "print(' '.join(f'{p}={m.version(p)}' for p in "
            "('uvicorn','aiohttp','uvloop','httptools','starlette','sqlalchemy','orjson','deepdiff')))"
        )
        self.results["machine"] = {
            "cpu_model": model.group(1).strip() if model else "?",
            "cores": os.cpu_count(),
            "memory_gib": round(int(mem) / 1024 / 1024, 1),
            "kernel": platform.release(),
            "loadavg_start": Path("/proc/loadavg").read_text().split()[:3],
            "started_utc": time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime()),
        }
        self.results["versions"] = {
            "python": platform.python_version(),
            "packages": out([PY, "-c", code]),
            "nginx": out([services.NGINX, "-v"]).replace("nginx version: ", ""),
            "php": out(["php", "-v"]).splitlines()[0],
            "php-fpm": out([services.PHP_FPM, "-v"]).splitlines()[0],
            "wrk": out(["wrk", "-v"]).splitlines()[0],
            "mariadb": out(["mysql", "-uroot", "-h127.0.0.1", "-N", "-e", "select version()"]),
            "git": out(["git", "-C", str(ROOT), "log", "-1", "--format=%h %s"]),
        }

    # ------------------------------------------------------------ databases

    def mysql(self, sql: str) -> None:
        import pymysql

        conn = pymysql.connect(host="127.0.0.1", port=3306, user="root", autocommit=True)
        try:
            with conn.cursor() as cur:
                cur.execute(sql)
        finally:
            conn.close()

    def seed(self) -> None:
        seeder = ROOT / "legacy" / "bin" / "seed.php"
        if not seeder.exists():
            raise RuntimeError(f"{seeder} is missing: the real case cannot be seeded")
        name = f"strangler_bench_{uuid.uuid4().hex[:8]}"
        self.mysql(f"CREATE DATABASE `{name}` CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci")
        self.mysql_db = name
        sqlite_path = self.s.tmp / "paymenter.sqlite"
        self.dbs = {
            "mariadb": {
                "php": {
                    "DB_DSN": f"mysql:host=127.0.0.1;port=3306;dbname={name};charset=utf8mb4",
                    "DB_USER": "root",
                    "DB_PASSWORD": "",
                },
                "url": f"mysql+pymysql://root@127.0.0.1:3306/{name}?charset=utf8mb4",
            },
            "sqlite": {
                "php": {"DB_DSN": f"sqlite:{sqlite_path}"},
                "url": f"sqlite:///{sqlite_path}",
            },
        }
        wanted = ["mariadb"] + (["sqlite"] if "3" in self.s.parts else [])
        for db in wanted:
            t0 = time.monotonic()
            cmd = ["php", str(seeder), "--scale", str(self.s.scale), "--seed", "7"]
            p = subprocess.run(
                cmd,
                env={**os.environ, **self.dbs[db]["php"]},
                capture_output=True,
                text=True,
                cwd=ROOT,
                timeout=3600,
                check=False,
            )
            (self.s.raw / f"seed-{db}.log").write_text(p.stdout[-5000:] + p.stderr[-5000:])
            if p.returncode != 0:
                raise RuntimeError(f"seeding {db} failed: {p.stderr[-2000:]}")
            report = json.loads(p.stdout.strip().splitlines()[-1])
            self.token = report["tokens"]["admin"]
            self.results["setup"][f"seed_{db}_s"] = round(time.monotonic() - t0, 1)
            self.results["setup"][f"seed_{db}_counts"] = report.get("counts")
            self.log(f"seeded {db} at scale {self.s.scale} in {time.monotonic() - t0:.1f}s")
        self.results["commands"]["seed"] = (
            f"DB_DSN=... php legacy/bin/seed.php --scale {self.s.scale} --seed 7"
        )

    # ------------------------------------------------------------ servers

    def gateway_available(self) -> bool:
        return (ROOT / "proxy" / "cli" / "serve.py").exists()

    def shadow_wired(self) -> bool:
        """Whether the composition root plugs a shadow mode handler in (else shadow routes are
        served by their primary alone, and part 2 would measure nothing)."""
        app = ROOT / "proxy" / "app.py"
        return app.exists() and "shadowing" in app.read_text()

    def gateway(
        self,
        name: str,
        upstream: str,
        *,
        routes: list[dict[str, str]] | None = None,
        workers: int = 1,
        sample: float = 1.0,
        database_url: str | None = None,
        extra_env: dict[str, str] | None = None,
        native_url: str | None = None,
    ) -> Target | None:
        if not self.gateway_available():
            return None
        store = f"sqlite:///{self.s.tmp}/parity-{name}.db"
        table = services.gateway_table(
            upstream, routes or [], store=store, sample=sample, native_url=native_url
        )
        env = {"DATABASE_URL": database_url} if database_url else {}
        env.update(extra_env or {})
        cpus = self.s.sut_cpu if workers == 1 else None
        try:
            proc = services.start_gateway(
                self.reg, name, table, workers=workers, cpus=cpus, env=env
            )
        except Exception as exc:
            self.note(f"gateway {name} did not start: {str(exc)[-1500:]}")
            return None
        self.results["commands"].setdefault(
            "gateway",
            proc.info["cmd"].replace(str(self.s.tmp), "$TMP").replace(str(ROOT) + "/", ""),
        )
        (self.s.raw / f"gw-{name}.yaml").write_text(table.replace(str(self.s.tmp), "$TMP"))
        return Target(name, f"http://127.0.0.1:{proc.port}", [proc], cpus, "gateway")

    def shadow_url_gateway(
        self, upstream: str, routes: list[dict[str, str]], database_url: str
    ) -> Target | None:
        """Shadow mode (sample 1.0) whose candidate is the native handlers in a process of their
        own (BENCH_CANDIDATE_CPU), reached through native.url, off the gateway's core."""
        try:
            cand = services.start_candidate(self.reg, database_url, self.s.candidate_cpu)
            status, body = http_get(f"http://127.0.0.1:{cand.port}{USERS}", self.auth)
        except Exception as exc:
            self.note(f"the out-of-process candidate did not start: {str(exc)[-1500:]}")
            return None
        if status != 200:
            self.note(f"the out-of-process candidate answers {status}: {body[:300]!r}")
            return None
        self.results["commands"]["candidate"] = cand.info["cmd"]
        url = f"http://127.0.0.1:{cand.port}"
        t = self.gateway("php.shadow-url", upstream, routes=routes, native_url=url)
        if t is not None:
            t.side.append(cand)
        return t

    def add(self, t: Target | None) -> None:
        if t is not None:
            self.targets[t.name] = t

    def start_all(self) -> None:
        s = self.s
        parts = s.parts
        if "1" in parts:
            static = services.start_static(self.reg)
            self.add(
                Target(
                    "tiny.direct", f"http://127.0.0.1:{static.port}", [static], s.sut_cpu, "direct"
                )
            )
            px = services.start_nginx_proxy(self.reg, "proxy-tiny", static.port or 0)
            self.add(Target("tiny.nginx", f"http://127.0.0.1:{px.port}", [px], s.sut_cpu, "nginx"))
            up = f"http://127.0.0.1:{static.port}"
            self.add(self.gateway("tiny.gw1", up))
            self.add(self.gateway("tiny.gw2", up, workers=2))
            self.static = static
        if "5" in parts:
            if "1" not in parts:
                static = services.start_static(self.reg)
                up = f"http://127.0.0.1:{static.port}"
                self.add(Target("tiny.direct", up, [static], s.sut_cpu, "direct"))
                px = services.start_nginx_proxy(self.reg, "proxy-tiny", static.port or 0)
                self.add(
                    Target("tiny.nginx", f"http://127.0.0.1:{px.port}", [px], s.sut_cpu, "nginx")
                )
                self.add(self.gateway("tiny.gw1", up))
            quiet = {"STRANGLER_LOG_LEVEL": "warning"}
            self.add(self.gateway("tiny.gw-nolog", up, extra_env=quiet))
            for kind in ("aiohttp", "raw"):
                floor = services.start_floor(self.reg, kind, up, s.sut_cpu)
                self.add(
                    Target(
                        f"tiny.floor-{kind}",
                        f"http://127.0.0.1:{floor.port}",
                        [floor],
                        s.sut_cpu,
                        "gateway",
                    )
                )
        if parts & {"1", "2", "3", "7", "8", "9"}:
            try:
                self.seed()
            except Exception as exc:
                self.note(f"the real case is not measured: {exc}")
                parts = parts - {"2", "3", "7", "8", "9"}
        if "8" in parts and self.token:
            self.start_fastcgi()
        if parts & {"1", "2", "3"} and self.token:
            maria = services.start_php(
                self.reg, "mariadb", self.dbs["mariadb"]["php"], s.fpm_children
            )
            self.php["mariadb"] = maria
            self.results["setup"]["php"] = maria.info.get("how")
            up = f"http://127.0.0.1:{maria.port}"
            self.add(Target("php.direct", up, [maria], s.sut_cpu, "direct"))
            if "1" in parts:
                px = services.start_nginx_proxy(self.reg, "proxy-php", maria.port or 0)
                self.add(
                    Target("php.nginx", f"http://127.0.0.1:{px.port}", [px], s.sut_cpu, "nginx")
                )
                self.add(self.gateway("php.gw2", up, workers=2))
            self.add(self.gateway("php.gw1", up))
            routes = [
                {"id": "users.list", "match": f"GET {USERS}", "mode": "shadow"},
                {
                    "id": "invoices.show",
                    "match": "GET /api/v1/admin/invoices/{id:int}",
                    "mode": "shadow",
                },
            ]
            murl = self.dbs["mariadb"]["url"]
            if "2" in parts:
                if not self.shadow_wired():
                    self.note("shadow mode is not wired into the gateway yet: part 2 not measured")
                else:
                    self.add(self.gateway("php.shadow1", up, routes=routes, database_url=murl))
                    self.add(
                        self.gateway(
                            "php.shadow01", up, routes=routes, sample=0.1, database_url=murl
                        )
                    )
                    self.add(self.shadow_url_gateway(up, routes, murl))
            if "3" in parts:
                native = [{**r, "mode": "native"} for r in routes]
                self.add(self.gateway("php.native", up, routes=native, database_url=murl))
                lite = services.start_php(
                    self.reg, "sqlite", self.dbs["sqlite"]["php"], s.fpm_children
                )
                self.php["sqlite"] = lite
                lup = f"http://127.0.0.1:{lite.port}"
                self.add(Target("lite.direct", lup, [lite], None, "direct"))
                self.add(self.gateway("lite.gw1", lup))
                self.add(
                    self.gateway(
                        "lite.native", lup, routes=native, database_url=self.dbs["sqlite"]["url"]
                    )
                )
        if "6" in parts:
            canary.start(self)
        if "7" in parts:
            replay_part.start(self)  # bench/replay.py: the replay part
        if "9" in parts and self.token:
            workers_part.start(self)  # bench/workers.py: native workers
        if "4" in parts:
            stream = services.start_stream_upstream(self.reg, s.load_cpu)
            self.stream_up = stream
            self.add(self.gateway("stream.gw1", f"http://127.0.0.1:{stream.port}"))
        self.check_targets()

    def start_fastcgi(self) -> None:
        """Part 7: one PHP-FPM pool and one document root; nginx (without and with kept
        connections) and the gateway each speak FastCGI to it."""
        s = self.s
        try:
            root = fastcgi.make_site(s.tmp)
            fpm, socket = fastcgi.start_fpm(self.reg, self.dbs["mariadb"]["php"], s.fpm_children)
        except Exception as exc:
            self.note(f"part 8: PHP-FPM did not start: {str(exc)[-1500:]}")
            return
        self.fcgi_fpm = fpm
        self.results["setup"]["php_fastcgi"] = fpm.info.get("how")
        for name, keep in (("fcgi.nginx", False), ("fcgi.nginx-keep", True)):
            px = fastcgi.start_nginx_php(self.reg, name.replace(".", "-"), root, socket, keep)
            target = Target(name, f"http://127.0.0.1:{px.port}", [px], s.sut_cpu, "nginx")
            target.side.append(fpm)  # PHP-FPM's CPU per request, behind each web server
            self.add(target)
        try:
            gw = fastcgi.start_gateway_php(self.reg, root, socket, s.sut_cpu)
        except Exception as exc:
            self.note(f"part 8: the gateway did not start: {str(exc)[-1500:]}")
            return
        table = fastcgi.gateway_table(root, socket).replace(str(s.tmp), "$TMP")
        (s.raw / "gw-fcgi.yaml").write_text(table)
        target = Target("fcgi.gw1", f"http://127.0.0.1:{gw.port}", [gw], s.sut_cpu, "gateway")
        target.side.append(fpm)
        self.add(target)

    def check_targets(self) -> None:
        """Every target answers 200 on what it will be loaded with, before any timing."""
        for name, t in list(self.targets.items()):
            tiny = name.startswith(("tiny.", "canary."))
            paths = ["/tiny.json"] if tiny else list(ENDPOINTS.values())
            if name.startswith("fcgi."):
                paths = [USERS, INVOICE, fastcgi.SMALL]
            if name.startswith("stream."):
                paths = ["/hello"]
            for path in paths:
                try:
                    status, body = http_get(t.base + path, self.auth)
                except Exception as exc:
                    status, body = 0, repr(exc).encode()
                t.info.setdefault("bytes", {})[path] = len(body)
                if status != 200:
                    self.note(f"{name} answers {status} on {path}: {body[:300]!r}; dropped")
                    self.targets.pop(name, None)
                    break
        self.results["setup"]["response_bytes"] = {
            n: t.info.get("bytes") for n, t in self.targets.items()
        }

    # ------------------------------------------------------------ measuring

    def place(self, target: Target, upstream_on: str | None) -> None:
        """Pin the target; put the PHP stacks / static upstream where this case wants them."""
        for up in self._upstreams():
            if up is not target:
                up.cpus = upstream_on
                up.place()
        target.place()

    def _upstreams(self) -> list[Target]:
        return [t for t in self.targets.values() if t.kind == "direct"]

    def measure(
        self,
        part: str,
        case: str,
        target: Target,
        path: str,
        conns: int,
        rnd: int,
        *,
        settle: float = 0.0,
        label: str | None = None,
        extra: dict[str, Any] | None = None,
        rate: float | None = None,
    ) -> dict[str, Any] | None:
        """One wrk run (closed loop, or paced at `rate` req/s) and what it cost the target."""
        url = target.base + path
        label = label or target.name
        raw = self.s.raw / f"r{rnd}-p{part}-{case}-{label}-c{conns}.txt"
        try:
            if self.s.warmup > 0:
                wrk.run(url, conns, self.s.warmup, self.s.load_cpu, self.auth, rate=rate)
            counters0 = self.shadow_counters(target)
            cpu0, side0 = _ticks(target.pids()), _ticks(target.side_pids())
            r = wrk.run(url, conns, self.s.duration, self.s.load_cpu, self.auth, raw, rate)
            if settle:
                time.sleep(settle)
            cpu1, side1 = _ticks(target.pids()), _ticks(target.side_pids())
            counters1 = self.shadow_counters(target)
        except Exception as exc:
            self.note(f"round {rnd} {case} {label} c{conns}: {exc}")
            return None
        rec: dict[str, Any] = {
            "part": part,
            "case": case,
            "target": label,
            "conns": conns,
            "round": rnd,
            "rps": r.rps,
            "requests": r.requests,
            "bytes": r.bytes,
            "duration_s": r.duration,
            "p50_us": r.p50_us,
            "p90_us": r.p90_us,
            "p99_us": r.p99_us,
            "mean_us": r.mean_us,
            "errors": r.errors,
            "non_2xx": r.non_2xx,
            "cpu_us_per_req": _per_request(cpu1 - cpu0, r.requests),
            "rss_mib": _rss(target.pids()) / MIB,
            "loadavg": Path("/proc/loadavg").read_text().split()[0],
        }
        if rate:
            rec["offered_rps"] = rate
        if target.side:
            rec["side_cpu_us_per_req"] = _per_request(side1 - side0, r.requests)
            rec["side_rss_mib"] = _rss(target.side_pids()) / MIB
        if counters0 is not None and counters1 is not None:
            rec["shadow"] = {
                k: counters1[k] - counters0.get(k, 0.0)
                for k in counters1
                if counters1[k] - counters0.get(k, 0.0)
            }
        if extra:
            rec.update(extra)
        if r.errors or r.non_2xx:
            self.note(
                f"round {rnd} {case} {label} c{conns}: {r.errors} errors, {r.non_2xx} non-2xx"
            )
        self.results["commands"].setdefault(
            "wrk_paced" if rate else "wrk", r.command.replace(target.base, "http://127.0.0.1:$PORT")
        )
        self.results["measurements"].append(rec)
        self.log(
            f"r{rnd} p{part} {case:8} {label:13} c{conns:<3} {r.rps:9.0f} req/s "
            f"p50 {r.p50_us / 1000:7.2f} ms p99 {r.p99_us / 1000:7.2f} ms "
            f"cpu/req {rec['cpu_us_per_req'] or 0:6.0f} us rss {rec['rss_mib']:6.1f} MiB"
        )
        return rec

    def shadow_counters(self, target: Target) -> dict[str, float] | None:
        """Shadow counters the gateway exposes under /_strangler/: Prometheus text from
        `metrics`, numbers from the JSON of `parity` and `routes`, keyed by name."""
        if target.kind != "gateway" or "shadow" not in target.name:
            return None
        found: dict[str, float] = self.store_counts(target)
        for path in ("/_strangler/metrics", "/_strangler/parity", "/_strangler/routes"):
            with contextlib.suppress(Exception):
                status, body = http_get(target.base + path, timeout=5)
                if status != 200:
                    continue
                text = body.decode()
                if text.lstrip().startswith(("{", "[")):
                    _flatten(json.loads(text), path.rsplit("/", 1)[1], found)
                    continue
                for line in text.splitlines():
                    if line.startswith("#") or "shadow" not in line:
                        continue
                    key, _, value = line.rpartition(" ")
                    if key.partition("{")[0].endswith("_created"):
                        continue  # a timestamp, not a count
                    with contextlib.suppress(ValueError):
                        found[key] = found.get(key, 0.0) + float(value)
        return found

    def store_counts(self, target: Target) -> dict[str, float]:
        """Outcome counters summed over the gateway's parity store (SQLite in the temp dir)."""
        import sqlite3

        path = self.s.tmp / f"parity-{target.name}.db"
        if not path.exists():
            return {}
        found: dict[str, float] = {}
        with contextlib.suppress(sqlite3.Error):
            conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=5)
            try:
                cur = conn.execute("SELECT * FROM shadow_counts")
                names = [c[0] for c in cur.description]
                for row in cur.fetchall():
                    for name, value in zip(names, row, strict=True):
                        if name not in ("route", "bucket") and isinstance(value, int | float):
                            key = f"store.{name}"
                            found[key] = found.get(key, 0.0) + float(value)
            finally:
                conn.close()
        return found

    def rounds(self) -> None:
        for rnd in range(1, self.s.runs + 1):
            self.log(f"round {rnd}/{self.s.runs}")
            if "1" in self.s.parts:
                self.part1(rnd)
            if "2" in self.s.parts:
                self.part2(rnd)
            if "3" in self.s.parts:
                self.part3(rnd)
            if "4" in self.s.parts:
                self.stream(rnd)
            if "5" in self.s.parts:
                self.part5(rnd)
            if "6" in self.s.parts:
                canary.part6(self, rnd)
            if "7" in self.s.parts:
                replay_part.part7(self, rnd)
            if "8" in self.s.parts:
                self.part8(rnd)
            if "9" in self.s.parts:
                workers_part.part9(self, rnd)
            self.save()

    def _rotate(self, names: list[str], rnd: int) -> list[Target]:
        present = [self.targets[n] for n in names if n in self.targets]
        k = (rnd - 1) % max(1, len(present))
        return present[k:] + present[:k]

    def part1(self, rnd: int) -> None:
        cases = [("tiny", "tiny", "/tiny.json")]
        cases += [(name, "php", path) for name, path in ENDPOINTS.items()]
        for case, prefix, path in cases:
            if f"{prefix}.direct" not in self.targets:
                continue
            for conns in [*self.s.conns, 1]:
                names = [f"{prefix}.{t}" for t in ("direct", "nginx", "gw1", "gw2")]
                if conns == 1:
                    names = names[:3]
                for t in self._rotate(names, rnd):
                    # measured directly, the upstream is the server under test; behind a
                    # proxy it moves to the load core
                    self.place(t, None if t.kind == "direct" else self.s.load_cpu)
                    label = t.name.split(".", 1)[1]
                    self.measure("1", case, t, path, conns, rnd, label=label)

    def part2(self, rnd: int) -> None:
        """Closed loop at 32 connections, then every target at the same offered rate: a share
        (BENCH_SHADOW_LOAD) of what legacy mode just did closed-loop, in this round."""
        names = list(SHADOW_TARGETS)
        if not any(n in self.targets for n in names[1:]):
            return
        for case, path in ENDPOINTS.items():
            closed: dict[str, dict[str, Any] | None] = {}
            for t in self._rotate(names, rnd):
                self.place(t, self.s.load_cpu)
                label = SHADOW_TARGETS[t.name]
                closed[label] = self.measure("2", case, t, path, 32, rnd, settle=1.5, label=label)
            legacy = closed.get("legacy")
            if not legacy or not legacy["rps"]:
                self.note(f"round {rnd} {case}: no legacy throughput, so no same-load runs")
                continue
            rate = self.s.shadow_load * legacy["rps"]
            conns = self.s.paced_conns
            for t in self._rotate(names, rnd):
                self.place(t, self.s.load_cpu)
                label = SHADOW_TARGETS[t.name]
                self.measure(
                    "2", f"{case}-paced", t, path, conns, rnd, settle=1.5, label=label, rate=rate
                )

    def part3(self, rnd: int) -> None:
        """Closed loop at 32 connections, then both modes at the same offered rate (as part 2:
        BENCH_SHADOW_LOAD times legacy mode's closed-loop throughput of this round), where p99
        compares the two at one load rather than at each one's own saturation."""
        for db, prefix in (("mariadb", "php"), ("sqlite", "lite")):
            names = [f"{prefix}.gw1", f"{prefix}.native"]
            for case, path in ENDPOINTS.items():
                closed: dict[str, dict[str, Any] | None] = {}
                for t in self._rotate(names, rnd):
                    self.place(t, None)  # PHP-FPM on both cores
                    mode = "native" if t.name.endswith("native") else "legacy"
                    closed[mode] = self.measure(
                        "3", f"{case}-{db}", t, path, 32, rnd, label=mode, extra={"db": db}
                    )
                legacy = closed.get("legacy")
                if not legacy or not legacy["rps"]:
                    self.note(f"round {rnd} {case} on {db}: no legacy throughput, no paced runs")
                    continue
                rate = self.s.shadow_load * legacy["rps"]
                for t in self._rotate(names, rnd):
                    self.place(t, None)
                    mode = "native" if t.name.endswith("native") else "legacy"
                    self.measure(
                        "3", f"{case}-{db}-paced", t, path, self.s.paced_conns, rnd,
                        label=mode, extra={"db": db}, rate=rate,
                    )  # fmt: skip

    def part5(self, rnd: int) -> None:
        """Where the gateway's time goes: the gateway as shipped, without its access log, and
        two reference proxies (floors), against nginx, tiny upstream, 32 connections."""
        names = ["tiny.nginx", "tiny.gw1", "tiny.gw-nolog", "tiny.floor-aiohttp", "tiny.floor-raw"]
        for t in self._rotate(names, rnd):
            self.place(t, self.s.load_cpu)
            label = t.name.split(".", 1)[1]
            self.measure("5", "floors", t, "/tiny.json", 32, rnd, label=label)

    def part8(self, rnd: int) -> None:
        """nginx and the gateway in front of the same PHP-FPM pool: the PHP endpoints and two
        static files, at 32 connections and at one; PHP-FPM shares the load core with wrk, the
        web server under test has the other. RSS is sampled through the 100 MB runs."""
        fpm = self.fcgi_fpm
        if fpm is None or "fcgi.gw1" not in self.targets:
            return
        for case, path in FCGI_CASES.items():
            names = list(FCGI_TARGETS)
            if case.startswith("static"):
                names.remove("fcgi.nginx-keep")  # files: the same nginx
            for conns in (32, 1):
                for t in self._rotate(names, rnd):
                    fpm.pin(self.s.load_cpu)
                    t.place()
                    label = FCGI_TARGETS[t.name]
                    if case == "static-100m":
                        self._measure_rss("8", case, t, path, conns, rnd, label)
                    else:
                        self.measure("8", case, t, path, conns, rnd, label=label)

    def _measure_rss(
        self, part: str, case: str, t: Target, path: str, conns: int, rnd: int, label: str
    ) -> None:
        """A measurement with the target's RSS sampled every 20 ms: baseline and peak growth."""
        import threading

        pids = t.pids()
        base = _rss(pids)
        peak = [base]
        done = threading.Event()

        def sample() -> None:
            while not done.is_set():
                peak[0] = max(peak[0], _rss(pids))
                time.sleep(0.02)

        sampler = threading.Thread(target=sample, daemon=True)
        sampler.start()
        try:
            rec = self.measure(part, case, t, path, conns, rnd, label=label)
        finally:
            done.set()
            sampler.join()
        if rec is not None:
            rec["rss_base_mib"] = base / MIB
            rec["rss_growth_mib"] = (peak[0] - base) / MIB

    # ------------------------------------------------------------ part 4

    def stream(self, rnd: int) -> None:
        t = self.targets.get("stream.gw1")
        if t is None:
            return
        t.place()
        pids = t.pids()
        before = _rss(pids)
        cmd = [
            "taskset",
            "-c",
            self.s.load_cpu,
            PY,
            "-m",
            "bench.stream_upstream",
            "--client",
            t.base,
            "--bytes",
            str(self.s.stream_bytes),
        ]
        self.results["commands"]["stream"] = " ".join(cmd[3:]).replace(
            t.base, "http://127.0.0.1:$PORT"
        )
        proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, cwd=ROOT)
        peak, samples = before, 0
        while proc.poll() is None:
            peak = max(peak, _rss(pids))
            samples += 1
            time.sleep(0.01)
        out, err = proc.communicate()
        after = _rss(pids)
        try:
            report = json.loads(out.decode().strip().splitlines()[-1])
        except (IndexError, ValueError):
            self.note(f"stream round {rnd} failed: {err.decode()[-1000:]}")
            return
        rec = {
            "round": rnd,
            "rss_before_mib": before / MIB,
            "rss_peak_mib": peak / MIB,
            "rss_after_mib": after / MIB,
            "growth_mib": (peak - before) / MIB,
            "samples": samples,
            **report,
        }
        ok = report.get("up_received") == report["bytes"] == report.get("down_received")
        rec["complete"] = ok
        if not ok:
            self.note(f"stream round {rnd}: body incomplete: {report}")
        self.results["stream"].append(rec)
        self.log(
            f"r{rnd} p4 stream {report['bytes'] / MIB:.0f} MiB up {report.get('up_s')}s "
            f"down {report.get('down_s')}s rss {before / MIB:.1f} -> peak {peak / MIB:.1f} MiB"
        )

    def micro(self) -> None:
        repeat = "3" if self.s.quick else "7"
        quick = ["--quick"] if self.s.quick else []
        jobs: dict[str, list[str]] = {
            "matcher": ["matcher", "--repeat", repeat, *quick],
            "compare": ["compare", "--repeat", repeat, *quick],
        }
        store = ["store", "--repeat", repeat, "--rows", str(self.s.store_rows)]
        with contextlib.suppress(Exception):
            name = f"strangler_bench_store_{uuid.uuid4().hex[:8]}"
            self.mysql(f"CREATE DATABASE `{name}` CHARACTER SET utf8mb4")
            self.mysql_store_db = name
            store += ["--mysql-url", f"mysql+pymysql://root@127.0.0.1:3306/{name}?charset=utf8mb4"]
        jobs["store"] = store
        for part, args in jobs.items():
            out = self.s.raw / f"micro-{part}.json"
            cmd = [
                "taskset",
                "-c",
                self.s.sut_cpu,
                PY,
                "-m",
                "bench.micro",
                *args,
                "--out",
                str(out),
            ]
            self.results["commands"][f"micro_{part}"] = (
                " ".join(cmd).replace(PY, "python").split(" --mysql-url")[0]
            )
            p = subprocess.run(
                cmd, capture_output=True, text=True, cwd=ROOT, timeout=900, check=False
            )
            if p.returncode != 0 or not out.exists():
                self.note(f"micro {part} failed: {p.stderr[-1500:]}")
                continue
            self.results["micro"][part] = json.loads(out.read_text())
            self.log(f"micro {part} done")

    # ------------------------------------------------------------ profile

    def profile(self) -> None:
        if self.s.profile_seconds <= 0 or not shutil.which("py-spy", path=str(Path(PY).parent)):
            if self.s.profile_seconds > 0:
                self.note("py-spy not installed in the venv: no profile")
            return
        cases = [
            ("legacy-tiny", "tiny.gw1", "/tiny.json"),
            ("legacy-php", "php.gw1", USERS),
            ("fastcgi-users", "fcgi.gw1", USERS),
            ("fastcgi-static-4k", "fcgi.gw1", fastcgi.SMALL),
            ("shadow-1.0", "php.shadow1", USERS),
            ("shadow-url-1.0", "php.shadow-url", USERS),
            ("native-mariadb", "php.native", USERS),
        ]
        spy = str(Path(PY).parent / "py-spy")
        for label, name, path in cases:
            t = self.targets.get(name)
            if t is None:
                continue
            self.place(t, self.s.load_cpu)
            if name.startswith("fcgi.") and self.fcgi_fpm is not None:
                self.fcgi_fpm.pin(self.s.load_cpu)
            out = self.s.raw / f"profile-{label}.txt"
            secs = self.s.profile_seconds
            load = subprocess.Popen(
                wrk.command(t.base + path, 32, secs + 3, self.s.load_cpu, self.auth),
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )
            time.sleep(1)
            cmd = [
                "taskset",
                "-c",
                self.s.load_cpu,
                spy,
                "record",
                "--pid",
                str(t.procs[0].pid),
                "--duration",
                str(int(secs)),
                "--rate",
                "250",
                "--format",
                "raw",
                "--output",
                str(out),
                "--nonblocking",
            ]
            p = subprocess.run(cmd, capture_output=True, text=True, timeout=secs + 60, check=False)
            load.wait()
            if p.returncode != 0 or not out.exists():
                self.note(f"profile {label} failed: {p.stderr[-800:]}")
                continue
            self.results["profiles"][label] = fold_profile(out.read_text())
            self.results["commands"]["profile"] = (
                "py-spy record --pid <gateway> --duration N --rate 250 --format raw --nonblocking"
            )
            self.log(f"profile {label} done")

    # ------------------------------------------------------------ run

    def copy_configs(self) -> None:
        dest = self.s.raw / "configs"
        dest.mkdir(exist_ok=True)
        for f in [*self.s.tmp.glob("*.conf"), *self.s.tmp.glob("*.yaml")]:
            (dest / f.name).write_text(f.read_text().replace(str(self.s.tmp), "$TMP"))

    def cleanup(self) -> None:
        with contextlib.suppress(Exception):
            self.copy_configs()
        self.reg.stop_all()
        for db in (self.mysql_db, self.mysql_store_db):
            if db:
                with contextlib.suppress(Exception):
                    self.mysql(f"DROP DATABASE IF EXISTS `{db}`")

    def merge(self, prev: dict[str, Any]) -> None:
        """Take from an earlier run (BENCH_MERGE_WITH=results.json) the parts this run did not
        measure, so a part that could only run later joins the same report. Ratios stay
        within one run: every ratio compares measurements of the same part and round."""
        ours = {str(r["part"]) for r in self.results["measurements"]}
        ours |= set(self.s.parts)
        kept = [r for r in prev.get("measurements", []) if str(r["part"]) not in ours]
        self.results["measurements"] = kept + self.results["measurements"]
        for key in ("micro", "profiles", "setup", "commands"):
            merged = dict(prev.get(key, {}))
            merged.update(self.results.get(key, {}))
            self.results[key] = merged
        if not self.results.get("stream"):
            self.results["stream"] = prev.get("stream", [])
        started = prev.get("machine", {}).get("started_utc")
        self.results["notes"] = [
            *(
                f"(run started {started}) {n}"
                for n in prev.get("notes", [])
                if not any(f"part {p} not measured" in n for p in ours)
            ),
            *self.results["notes"],
            f"parts {', '.join(sorted(self.s.parts))} were measured in a second run started "
            f"{self.results['machine'].get('started_utc')} UTC; the rest in the run started "
            f"{started} UTC",
        ]
        self.results["first_run"] = {
            "machine": prev.get("machine"),
            "settings": prev.get("settings"),
            "elapsed_s": prev.get("elapsed_s"),
        }

    def run(self) -> int:
        t0 = time.monotonic()
        try:
            self.machine()
            if not self.gateway_available():
                self.note("proxy/cli/serve.py is missing: gateway targets not measured")
            if "4" in self.s.parts:
                self.micro()
            self.save()
            self.start_all()
            self.save()
            self.rounds()
            self.profile()
        except BaseException:
            self.note("run aborted: " + traceback.format_exc()[-3000:])
            return_code = 1
        else:
            return_code = 0
        finally:
            for t in self.targets.values():
                if t.kind == "gateway":
                    for p in t.procs:
                        if p.log and p.log.exists():
                            tail = p.log.read_bytes()[-20000:]
                            (self.s.raw / f"gw-{t.name}.log.tail").write_bytes(tail)
            self.cleanup()
            self.results["machine"]["loadavg_end"] = Path("/proc/loadavg").read_text().split()[:3]
            self.results["elapsed_s"] = round(time.monotonic() - t0, 1)
            self.save()
        from bench.report import render

        workers_part.write_report(self.results)  # part 9's own report, bench/results/workers.md
        merge = os.environ.get("BENCH_MERGE_WITH")
        if merge and Path(merge).exists():
            self.merge(json.loads(Path(merge).read_text()))
            self.save()
        text = render(self.results)
        out = Path(_env("BENCH_REPORT", str(ROOT / "bench" / "results" / "latest.md")))
        out.write_text(text)
        self.log(f"wrote {out} ({self.results['elapsed_s']}s)")
        return return_code


_COUNTER_WORDS = ("shed", "skip", "drop", "compar", "match", "error", "sampl", "flight", "fault")


def _flatten(node: Any, prefix: str, out: dict[str, float]) -> None:
    """Numeric leaves of a JSON document whose names speak of shadow work."""
    if isinstance(node, dict):
        for k, v in node.items():
            if k != "trend":  # per-bucket repeats of the totals
                _flatten(v, f"{prefix}.{k}", out)
    elif isinstance(node, list):
        for i, v in enumerate(node):
            key = v.get("id") or v.get("route") if isinstance(v, dict) else None
            _flatten(v, f"{prefix}[{key or i}]", out)
    elif isinstance(node, int | float) and not isinstance(node, bool):
        leaf = prefix.rsplit(".", 1)[-1].lower()
        if any(word in leaf for word in _COUNTER_WORDS):
            out[prefix] = float(node)


def _per_request(ticks: int, requests: int) -> float | None:
    """CPU time in µs per request."""
    return ticks / CLK_TCK * 1e6 / requests if requests else None


def _ticks(pids: list[int]) -> int:
    from bench.procs import cpu_ticks

    return cpu_ticks(pids)


def _rss(pids: list[int]) -> int:
    from bench.procs import rss_bytes

    return rss_bytes(pids)


def fold_profile(text: str, top: int = 25) -> dict[str, Any]:
    """py-spy's raw (collapsed) stacks → share of samples per function, self and inclusive."""
    self_n: dict[str, int] = {}
    incl_n: dict[str, int] = {}
    total = 0
    for line in text.splitlines():
        stack, _, count = line.rpartition(" ")
        if not stack or not count.isdigit():
            continue
        n = int(count)
        total += n
        frames = [_frame(f) for f in stack.split(";")]
        if frames:
            self_n[frames[-1]] = self_n.get(frames[-1], 0) + n
        for f in set(frames):
            incl_n[f] = incl_n.get(f, 0) + n
    areas: dict[str, int] = {}
    for f, n in self_n.items():
        areas[_area(f)] = areas.get(_area(f), 0) + n
    rank = sorted(self_n.items(), key=lambda kv: -kv[1])[:top]
    incl = sorted(incl_n.items(), key=lambda kv: -kv[1])[: top * 2]
    return {
        "samples": total,
        "self": [(f, n / total) for f, n in rank] if total else [],
        "areas": sorted(((a, n / total) for a, n in areas.items()), key=lambda kv: -kv[1])
        if total
        else [],
        "inclusive": [(f, n / total) for f, n in incl] if total else [],
    }


def _area(frame: str) -> str:
    """Which component a frame belongs to: the package of its file."""
    m = re.search(r"\(([^)]*)\)$", frame)
    path = m.group(1) if m else frame
    if "/" not in path:
        return "python: " + path.split(".")[0] if path else "?"
    return path.split("/", 1)[0]


def _frame(frame: str) -> str:
    """ "func (path/to/file.py:123)" → "func (file.py)", paths shortened to the package."""
    m = re.match(r"(.*) \((.*?):?(\d*)\)$", frame)
    if not m:
        return frame
    func, path = m.group(1), m.group(2)
    for marker in ("site-packages/", "/work/main/", "python3.11/"):
        if marker in path:
            path = path.split(marker, 1)[1]
            break
    return f"{func} ({path})"


def _terminate(signum: int, _frame: object) -> None:
    raise KeyboardInterrupt(f"signal {signum}")


def main() -> int:
    signal.signal(signal.SIGTERM, _terminate)
    settings = Settings.from_env()
    return Bench(settings).run()


if __name__ == "__main__":
    sys.exit(main())
