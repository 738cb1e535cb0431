"""Prometheus metrics at /_strangler/metrics (prometheus-client), every name prefixed strangler_.

    strangler_requests_total{route, mode, status}        every request the gateway answered
    strangler_side_duration_seconds{route, side}         how long a side (legacy | native) took:
                                                         the side that answered the client as
                                                         the gateway saw it; a shadow candidate
                                                         as its experiment measured it
    strangler_in_flight_requests                         requests being answered now
    strangler_shadow_outcomes_total{route, outcome}      matched, mismatched, ignored, errored,
                                                         skipped, shed, unsampled
    strangler_store_dropped_total                        results that never reached the store
    strangler_reloads_total{trigger, outcome}            applied, unchanged, rejected
    strangler_reload_errors_total{trigger}               rejected tables
    strangler_refused_total{reason}                      refusals at the edge and by dispatch
    strangler_side_answers_total{route, side, result}    answers of canary and guarded routes by
                                                         the side that gave them (ok | error)
    strangler_fallbacks_total{route, reason}             native failed a safe request, legacy
                                                         answered (5xx | timeout | error)
    strangler_guard_rollbacks_total{route}               routes a guard rolled back
    strangler_native_workers{state}                      native workers (native.workers) alive
                                                         and down, read at the scrape
    strangler_native_worker_in_flight{worker}            requests a native worker is serving
    strangler_native_worker_requests_total{worker}       requests sent to it (candidates too)
    strangler_native_worker_restarts_total{worker}       times its process died and was replaced

Several uvicorn workers are several processes, each with its own counters. With
PROMETHEUS_MULTIPROC_DIR set (`strangler serve --workers N` sets a fresh one), each process
writes its values to files there and a scrape, whichever worker answers it, sums them all
(prometheus-client's multiprocess mode); without it, the default registry of the one process.
The native workers' figures are those of the gateway process that answers the scrape (each
gateway process runs workers of its own).

The request path pays one dict lookup (the label children are cached per route, mode, side and
status, a set bounded by the table), one counter increment, one histogram observation and the
in-flight gauge's two steps.
"""

from __future__ import annotations

import contextlib
import functools
import os
import shutil
import tempfile
from collections.abc import Callable, Iterator
from typing import Any

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    REGISTRY,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
    multiprocess,
)
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from shadow.records import LATENCY_BOUNDS, Result, Source

MULTIPROC_ENV = "PROMETHEUS_MULTIPROC_DIR"
CONTENT_TYPE = CONTENT_TYPE_LATEST
_OTHER_SIDE = {"legacy": "native", "native": "legacy"}


class Metrics:
    def __init__(self, registry: CollectorRegistry | None = REGISTRY) -> None:
        self.registry = registry
        self.requests = Counter(
            "strangler_requests", "Requests answered, by route, mode and status",
            ["route", "mode", "status"], registry=registry,
        )  # fmt: skip
        self.duration = Histogram(
            "strangler_side_duration_seconds", "Time a side (legacy or native) took to answer",
            ["route", "side"], buckets=LATENCY_BOUNDS, registry=registry,
        )  # fmt: skip
        self.in_flight = Gauge(
            "strangler_in_flight_requests", "Requests being answered now",
            registry=registry, multiprocess_mode="livesum",
        )  # fmt: skip
        self.shadow = Counter(
            "strangler_shadow_outcomes", "Shadow requests by outcome (skipped and shed included)",
            ["route", "outcome"], registry=registry,
        )  # fmt: skip
        self.store_dropped = Counter(
            "strangler_store_dropped", "Shadow results dropped before reaching the parity store",
            registry=registry,
        )  # fmt: skip
        self.reloads = Counter(
            "strangler_reloads", "Table reloads by trigger and outcome (applied, unchanged, "
            "rejected)", ["trigger", "outcome"], registry=registry,
        )  # fmt: skip
        self.reload_errors = Counter(
            "strangler_reload_errors", "Rejected tables by trigger", ["trigger"], registry=registry
        )
        self.refusals = Counter(
            "strangler_refused", "Requests and connections refused, by reason (head limits, "
            "timeouts, connection bound, bad paths and hosts, bodies over the limit)",
            ["reason"], registry=registry,
        )  # fmt: skip
        self.side_answers = Counter(
            "strangler_side_answers", "Answers of canary and guarded routes by side and result",
            ["route", "side", "result"], registry=registry,
        )  # fmt: skip
        self.fallbacks = Counter(
            "strangler_fallbacks", "Safe requests the native side failed and legacy answered",
            ["route", "reason"], registry=registry,
        )  # fmt: skip
        self.guard_rollbacks = Counter(
            "strangler_guard_rollbacks", "Routes rolled back to legacy by their guard",
            ["route"], registry=registry,
        )  # fmt: skip
        # the native worker pool, read at each scrape (set by create_app with native.workers)
        self.workers = WorkersCollector()
        if registry is not None:
            registry.register(self.workers)
        self._children: dict[tuple[str, str, str | None, int], tuple[Any, Any]] = {}
        self._answers: dict[tuple[str, str, bool], Any] = {}
        self._dropped_seen = 0
        # bound once: the request path calls these without an attribute walk
        self.started = self.in_flight.inc
        self._ended = self.in_flight.dec

    # ------------------------------------------------------------ the request path

    def finished(
        self, route: str, mode: str, side: str | None, status: int, seconds: float
    ) -> None:
        """One request answered; `side` None: no side answered it (admin, a refused path)."""
        key = (route, mode, side, status)
        children = self._children.get(key)
        if children is None:
            children = self._children[key] = self._new_children(key)
        children[0].inc()
        if children[1] is not None:
            children[1].observe(seconds)
        self._ended()

    def _new_children(self, key: tuple[str, str, str | None, int]) -> tuple[Any, Any]:
        route, mode, side, status = key
        counter = self.requests.labels(route, mode, str(status))
        return counter, (self.duration.labels(route, side) if side is not None else None)

    # ------------------------------------------------------------ shadow, store, reloads

    def shadow_result(self, result: Result, primary: str) -> None:
        """A result on its way to the store; `primary`: the side that answered (legacy/native)."""
        if result.unsampled:
            self.shadow.labels(result.route, "unsampled").inc(result.unsampled)
            return
        if result.source is not Source.PC:
            return  # A/A comparisons learn noise; they are not the candidate's outcomes
        self.shadow.labels(result.route, result.outcome.value).inc(result.repeat)
        if result.candidate_duration is not None:
            side = _OTHER_SIDE.get(primary, "native")
            self.duration.labels(result.route, side).observe(result.candidate_duration)

    # ------------------------------------------------------------ migration controls

    def answered(self, route: str, side: str, error: bool) -> None:
        key = (route, side, error)
        child = self._answers.get(key)
        if child is None:
            child = self._answers[key] = self.side_answers.labels(
                route, side, "error" if error else "ok"
            )
        child.inc()

    def refused(self, reason: str) -> None:
        self.refusals.labels(reason).inc()

    def fell_back(self, route: str, reason: str) -> None:
        self.fallbacks.labels(route, reason).inc()

    def guard_rolled_back(self, route: str) -> None:
        self.guard_rollbacks.labels(route).inc()

    def sync_dropped(self, total: int) -> None:
        """Bring the drop counter up to a writer's running total (it may restart from 0)."""
        if total > self._dropped_seen:
            self.store_dropped.inc(total - self._dropped_seen)
        self._dropped_seen = total

    def reloaded(self, trigger: str, ok: bool, changed: bool) -> None:
        outcome = "rejected" if not ok else "applied" if changed else "unchanged"
        self.reloads.labels(trigger, outcome).inc()
        if not ok:
            self.reload_errors.labels(trigger).inc()

    # ------------------------------------------------------------ the scrape

    def exposition(self, multiproc_dir: str | None = None) -> bytes:
        """The text format; in multiprocess mode, the sum over every process's files."""
        path = multiproc_dir if multiproc_dir is not None else os.environ.get(MULTIPROC_ENV)
        if path:
            registry = CollectorRegistry()
            multiprocess.MultiProcessCollector(registry, path=path)  # type: ignore[no-untyped-call]
            registry.register(self.workers)
            return generate_latest(registry)
        return generate_latest(self.registry if self.registry is not None else REGISTRY)

    def requests_by_route(self, multiproc_dir: str | None = None) -> dict[str, int]:
        """Requests answered per route since start, by every worker in multiprocess mode."""
        path = multiproc_dir if multiproc_dir is not None else os.environ.get(MULTIPROC_ENV)
        if path:
            families = multiprocess.MultiProcessCollector(None, path=path).collect()  # type: ignore[no-untyped-call]
        else:
            families = self.requests.collect()
        totals: dict[str, int] = {}
        for family in families:
            for sample in family.samples:
                if sample.name == "strangler_requests_total":
                    route = sample.labels["route"]
                    totals[route] = totals.get(route, 0) + int(sample.value)
        return totals

    def process_exiting(self) -> None:
        """A worker shutting down: its in-flight gauge must not outlive it in the sum."""
        path = os.environ.get(MULTIPROC_ENV)
        if path:
            multiprocess.mark_process_dead(os.getpid(), path)  # type: ignore[no-untyped-call]


class WorkersCollector(Collector):
    """The native worker pool's state, read when scraped (nothing to keep up to date)."""

    def __init__(self) -> None:
        # NativeWorkers.status: {"count", "alive", "workers": [{"index", "in_flight", ...}]}
        self.status: Callable[[], dict[str, Any]] | None = None

    def collect(self) -> Iterator[Metric]:
        if self.status is None:
            return
        status = self.status()
        workers: list[dict[str, Any]] = status["workers"]
        alive = GaugeMetricFamily(
            "strangler_native_workers", "Native workers by state", labels=["state"]
        )
        alive.add_metric(["alive"], status["alive"])
        alive.add_metric(["down"], status["count"] - status["alive"])
        in_flight = GaugeMetricFamily(
            "strangler_native_worker_in_flight",
            "Requests a native worker is serving now",
            labels=["worker"],
        )
        served = CounterMetricFamily(
            "strangler_native_worker_requests",
            "Requests sent to a native worker (shadow candidates included)",
            labels=["worker"],
        )
        restarts = CounterMetricFamily(
            "strangler_native_worker_restarts",
            "Times a native worker's process died and another took its place",
            labels=["worker"],
        )
        for worker in workers:
            index = [str(worker["index"])]
            in_flight.add_metric(index, worker["in_flight"])
            served.add_metric(index, worker["served"])
            restarts.add_metric(index, worker["restarts"])
        yield from (alive, in_flight, served, restarts)


@functools.cache
def default_metrics() -> Metrics:
    """The process's metrics on the default registry (created once: names are unique there)."""
    return Metrics()


@contextlib.contextmanager
def multiprocess_dir(workers: int) -> Iterator[str | None]:
    """For `serve --workers N > 1`: a fresh PROMETHEUS_MULTIPROC_DIR the workers inherit.

    One the operator set is used as it is, emptied of the files of earlier runs (stale counters
    would be summed in); one made here is removed at exit.
    """
    given = os.environ.get(MULTIPROC_ENV)
    if given:
        os.makedirs(given, exist_ok=True)
        for name in os.listdir(given):
            if name.endswith(".db"):
                os.remove(os.path.join(given, name))
        yield given
        return
    if workers <= 1:
        yield None
        return
    made = tempfile.mkdtemp(prefix="strangler-metrics-")
    os.environ[MULTIPROC_ENV] = made
    try:
        yield made
    finally:
        os.environ.pop(MULTIPROC_ENV, None)
        shutil.rmtree(made, ignore_errors=True)
