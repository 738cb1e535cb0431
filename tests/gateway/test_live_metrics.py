"""`strangler serve --workers 2`: whichever worker answers a scrape, it counts every worker's
requests (prometheus-client's multiprocess mode, set up by serve)."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import NamedTuple

import httpx
from prometheus_client.multiprocess import MultiProcessCollector

from tests.gateway.conftest import table_text
from tests.proxy.test_metrics import scrape
from tests.support.services import ROOT, free_port

UNMATCHED = (("mode", "legacy"), ("route", "(unmatched)"), ("status", "502"))


class Served(NamedTuple):
    url: str
    pid: int  # the server's own process (with several workers, their supervisor)


@contextlib.contextmanager
def serving(config: Path, workers: int, env: dict[str, str]) -> Iterator[Served]:
    port = free_port()
    cmd = [sys.executable, "-m", "proxy.cli", "serve", "--config", str(config),
           "--port", str(port), "--workers", str(workers)]  # fmt: skip
    full_env = {**os.environ, "PYTHONPATH": str(ROOT), "STRANGLER_LOG_FORMAT": "json", **env}
    full_env.pop("STRANGLER_ADMIN_TOKEN", None)
    log = (config.parent / "gateway.log").open("wb")
    proc = subprocess.Popen(cmd, env=full_env, stdout=log, stderr=subprocess.STDOUT, cwd=ROOT)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            assert proc.poll() is None, (config.parent / "gateway.log").read_text()
            with contextlib.suppress(httpx.HTTPError):
                if httpx.get(url + "/_strangler/health", timeout=1).status_code == 200:
                    break
            time.sleep(0.1)
        yield Served(url, proc.pid)
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        log.close()


def unmatched_per_worker(directory: Path) -> list[float]:
    """The unmatched requests each worker process counted, read from its own file."""
    counts = []
    for path in sorted(directory.glob("counter_*.db")):
        merged = MultiProcessCollector.merge([str(path)], accumulate=False)  # type: ignore[no-untyped-call]
        counts.append(
            sum(
                s.value
                for metric in merged
                for s in metric.samples
                if s.name == "strangler_requests_total"
                and tuple(sorted(s.labels.items())) == UNMATCHED
            )
        )
    return counts


def test_every_scrape_sums_the_requests_of_every_worker(
    tmp_path: Path, closed_port_url: str
) -> None:
    config = tmp_path / "routing.yaml"
    config.write_text(table_text(closed_port_url))  # every request: 502 from no legacy
    metrics_dir = tmp_path / "metrics"
    with serving(config, 2, {"PROMETHEUS_MULTIPROC_DIR": str(metrics_dir)}) as (url, _):
        sent = 0
        # a new connection per request, until both workers have answered some
        while sum(1 for n in unmatched_per_worker(metrics_dir) if n) < 2 and sent < 400:
            assert httpx.get(f"{url}/anything/{sent}", timeout=5).status_code == 502
            sent += 1
        per_worker = unmatched_per_worker(metrics_dir)
        assert sum(1 for n in per_worker if n) == 2 and sum(per_worker) == sent
        totals = set()
        for _ in range(8):
            seen = scrape(httpx.get(f"{url}/_strangler/metrics", timeout=5).text)
            totals.add(seen["strangler_requests_total", UNMATCHED])
    assert totals == {sent}
