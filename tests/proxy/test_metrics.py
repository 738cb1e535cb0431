"""Prometheus metrics: what each event counts, scraped and parsed with prometheus-client's own
parser, and several processes summed through multiprocess mode."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from prometheus_client import CollectorRegistry
from prometheus_client.parser import text_string_to_metric_families

from proxy.operator.metrics import MULTIPROC_ENV, Metrics, multiprocess_dir
from shadow.compare import Outcome
from shadow.records import Result, Source

ROOT = Path(__file__).resolve().parents[2]


def scrape(text: bytes | str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    """Every sample as (name, sorted labels) → value."""
    decoded = text.decode() if isinstance(text, bytes) else text
    return {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for family in text_string_to_metric_families(decoded)
        for s in family.samples
    }


@pytest.fixture
def metrics() -> Metrics:
    return Metrics(CollectorRegistry())


def test_requests_are_counted_by_route_mode_and_status(metrics: Metrics) -> None:
    for status in (200, 200, 502):
        metrics.started()
        metrics.finished("users.list", "legacy", "legacy", status, 0.003)
    metrics.started()
    metrics.finished("admin", "admin", None, 200, 0.001)
    seen = scrape(metrics.exposition(multiproc_dir=""))
    labels = (("mode", "legacy"), ("route", "users.list"))
    assert seen["strangler_requests_total", (*labels, ("status", "200"))] == 2
    assert seen["strangler_requests_total", (*labels, ("status", "502"))] == 1
    assert (
        seen["strangler_requests_total", (("mode", "admin"), ("route", "admin"), ("status", "200"))]
        == 1
    )
    assert seen["strangler_in_flight_requests", ()] == 0
    side = (("route", "users.list"), ("side", "legacy"))
    assert seen["strangler_side_duration_seconds_count", side] == 3
    assert seen["strangler_side_duration_seconds_bucket", (("le", "0.0025"), *side)] == 0
    assert seen["strangler_side_duration_seconds_bucket", (("le", "0.005"), *side)] == 3
    # admin requests are answered by no side: no latency series for them
    assert not any(k[0].startswith("strangler_side") and ("route", "admin") in k[1] for k in seen)


def test_requests_by_route_sum_every_status_and_mode(metrics: Metrics) -> None:
    for route, status in (("a", 200), ("a", 500), ("b", 200)):
        metrics.started()
        metrics.finished(route, "legacy", "legacy", status, 0.001)
    assert metrics.requests_by_route(multiproc_dir="") == {"a": 2, "b": 1}


def test_in_flight_counts_requests_not_yet_finished(metrics: Metrics) -> None:
    metrics.started()
    metrics.started()
    metrics.finished("r", "native", "native", 200, 0.01)
    assert scrape(metrics.exposition(multiproc_dir=""))["strangler_in_flight_requests", ()] == 1


def test_shadow_results_count_outcomes_and_the_candidates_latency(metrics: Metrics) -> None:
    results = [
        Result("users.list", 0.0, Outcome.MATCHED, Source.PC, 0.01, 0.2),
        Result("users.list", 0.0, Outcome.MISMATCHED, Source.PC, 0.01, 0.03),
        Result("users.list", 0.0, Outcome.MISMATCHED, Source.AA, 0.01, 0.03),  # noise: not counted
        Result("users.list", 0.0, Outcome.SHED, repeat=7),
        Result("users.list", 0.0, Outcome.SKIPPED, repeat=2),
        Result("users.list", 0.0, Outcome.SKIPPED, unsampled=5),
    ]
    for result in results:
        metrics.shadow_result(result, "legacy")
    seen = scrape(metrics.exposition(multiproc_dir=""))

    def outcome(name: str) -> float:
        return seen["strangler_shadow_outcomes_total", (("outcome", name), ("route", "users.list"))]

    assert [outcome(o) for o in ("matched", "mismatched", "shed", "skipped", "unsampled")] == [
        1, 1, 7, 2, 5,
    ]  # fmt: skip
    side = (("route", "users.list"), ("side", "native"))  # legacy answers, native is compared
    assert seen["strangler_side_duration_seconds_count", side] == 2
    assert seen["strangler_side_duration_seconds_bucket", (("le", "0.05"), *side)] == 1


def test_store_drops_follow_the_writers_running_total(metrics: Metrics) -> None:
    for total in (0, 3, 3, 10, 2):  # 2: a new writer started from 0 after a store change
        metrics.sync_dropped(total)
    metrics.sync_dropped(4)
    assert scrape(metrics.exposition(multiproc_dir=""))["strangler_store_dropped_total", ()] == 12


def test_reloads_and_reload_errors(metrics: Metrics) -> None:
    metrics.reloaded("file", ok=True, changed=True)
    metrics.reloaded("admin", ok=True, changed=False)
    metrics.reloaded("sighup", ok=False, changed=False)
    seen = scrape(metrics.exposition(multiproc_dir=""))
    assert seen["strangler_reloads_total", (("outcome", "applied"), ("trigger", "file"))] == 1
    assert seen["strangler_reloads_total", (("outcome", "unchanged"), ("trigger", "admin"))] == 1
    assert seen["strangler_reloads_total", (("outcome", "rejected"), ("trigger", "sighup"))] == 1
    assert seen["strangler_reload_errors_total", (("trigger", "sighup"),)] == 1


WORKER = textwrap.dedent(
    """
    import sys
    from prometheus_client import CollectorRegistry
    from proxy.operator.metrics import Metrics

    m = Metrics(CollectorRegistry())
    for _ in range(int(sys.argv[1])):
        m.started()
        m.finished("users.list", "shadow", "legacy", 200, 0.02)
    m.started()  # one request still in flight in this process
    if sys.argv[2] == "exit":
        m.process_exiting()
    """
)


def test_several_processes_are_summed_in_multiprocess_mode(tmp_path: Path) -> None:
    env = {**os.environ, MULTIPROC_ENV: str(tmp_path)}
    for count, how in ((3, "stay"), (4, "exit")):
        subprocess.run(
            [sys.executable, "-c", WORKER, str(count), how], env=env, cwd=ROOT, check=True
        )
    seen = scrape(Metrics(CollectorRegistry()).exposition(multiproc_dir=str(tmp_path)))
    labels = (("mode", "shadow"), ("route", "users.list"), ("status", "200"))
    assert seen["strangler_requests_total", labels] == 7
    side = (("route", "users.list"), ("side", "legacy"))
    assert seen["strangler_side_duration_seconds_count", side] == 7
    # the process that said it exits no longer counts towards requests in flight
    assert seen["strangler_in_flight_requests", ()] == 1
    assert Metrics(CollectorRegistry()).requests_by_route(str(tmp_path)) == {"users.list": 7}


def test_serve_with_several_workers_gets_a_fresh_directory(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(MULTIPROC_ENV, raising=False)
    with multiprocess_dir(1) as none:
        assert none is None and MULTIPROC_ENV not in os.environ
    with multiprocess_dir(2) as made:
        assert made is not None and os.environ[MULTIPROC_ENV] == made
        assert os.listdir(made) == []
    assert MULTIPROC_ENV not in os.environ and not os.path.exists(made)


def test_an_operators_directory_is_kept_but_emptied_of_old_counters(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "counter_123.db").write_bytes(b"stale")
    (tmp_path / "README").write_text("mine")
    monkeypatch.setenv(MULTIPROC_ENV, str(tmp_path))
    with multiprocess_dir(4) as used:
        assert used == str(tmp_path)
    assert sorted(os.listdir(tmp_path)) == ["README"]
