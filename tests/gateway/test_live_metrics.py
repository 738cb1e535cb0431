"""`strangler serve --workers 2`: whichever worker answers a scrape, it counts every worker's
requests (prometheus-client's multiprocess mode, set up by serve)."""

from __future__ import annotations

from pathlib import Path

import httpx
from prometheus_client.multiprocess import MultiProcessCollector

from tests.gateway.conftest import table_text
from tests.gateway.live import live_gateway
from tests.proxy.test_metrics import scrape

UNMATCHED = (("mode", "legacy"), ("route", "(unmatched)"), ("status", "502"))


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
    metrics_dir = tmp_path / "metrics"
    env = {"PROMETHEUS_MULTIPROC_DIR": str(metrics_dir)}
    # every request: 502 from no legacy
    with live_gateway(table_text(closed_port_url), tmp_path, env, workers=2) as gateway:
        url = gateway.url
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
