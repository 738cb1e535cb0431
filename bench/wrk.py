"""One wrk run, pinned to the load core, parsed into numbers; raw output kept."""

from __future__ import annotations

import json
import shlex
import subprocess
from dataclasses import asdict, dataclass, field
from pathlib import Path

LUA = Path(__file__).with_name("wrk_json.lua")


@dataclass
class WrkResult:
    url: str
    conns: int
    duration: float
    requests: int = 0
    rps: float = 0.0
    p50_us: float = 0.0
    p90_us: float = 0.0
    p99_us: float = 0.0
    mean_us: float = 0.0
    max_us: float = 0.0
    errors: int = 0
    non_2xx: int = 0
    timeouts: int = 0
    bytes: int = 0
    command: str = ""
    extra: dict[str, object] = field(default_factory=dict)

    def as_dict(self) -> dict[str, object]:
        return asdict(self)


def command(
    url: str,
    conns: int,
    duration: float,
    cpus: str,
    headers: dict[str, str],
    rate: float | None = None,
) -> list[str]:
    """The wrk command line; `rate` (req/s) paces it (wrk_json.lua reads WRK_RATE)."""
    # one wrk thread: the load generator has one core of its own
    cmd = ["taskset", "-c", cpus, "wrk", "-t1", f"-c{conns}", f"-d{max(1, round(duration))}s"]
    if rate:
        cmd = ["env", f"WRK_RATE={rate:.0f}", *cmd]
    cmd += ["--latency", "--timeout", "10s", "-s", str(LUA)]
    for k, v in headers.items():
        cmd += ["-H", f"{k}: {v}"]
    return [*cmd, url]


def run(
    url: str,
    conns: int,
    duration: float,
    cpus: str,
    headers: dict[str, str] | None = None,
    raw: Path | None = None,
    rate: float | None = None,
) -> WrkResult:
    cmd = command(url, conns, duration, cpus, headers or {}, rate)
    proc = subprocess.run(cmd, capture_output=True, text=True, check=False, timeout=duration + 60)
    shown = " ".join(shlex.quote(c) for c in cmd)
    for k, v in (headers or {}).items():  # credentials never reach the results
        shown = shown.replace(v, "<" + k.lower() + ">")
    result = WrkResult(url, conns, duration, command=shown)
    if raw is not None:
        raw.write_text(f"$ {shown}\n{proc.stdout}\n{proc.stderr}")
    line = next((ln for ln in proc.stdout.splitlines() if ln.startswith("WRK_JSON ")), None)
    if proc.returncode != 0 or line is None:
        raise RuntimeError(
            f"wrk failed ({proc.returncode}): {proc.stderr[-500:]} {proc.stdout[-500:]}"
        )
    data = json.loads(line[len("WRK_JSON ") :])
    secs = data["duration_us"] / 1e6
    result.requests = data["requests"]
    result.rps = data["requests"] / secs if secs else 0.0
    result.p50_us = data["p50"]
    result.p90_us = data["p90"]
    result.p99_us = data["p99"]
    result.mean_us = data["lat_mean"]
    result.max_us = data["lat_max"]
    result.errors = data["err_connect"] + data["err_read"] + data["err_write"] + data["err_timeout"]
    result.non_2xx = data["err_status"]
    result.timeouts = data["err_timeout"]
    result.bytes = data["bytes"]
    result.duration = secs or duration
    return result
