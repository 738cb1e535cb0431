"""The runner the gateway calls on every request of a shadow route.

`Experiment.submit` is synchronous and returns at once: it decides (deterministic sampling, the
in-flight cap, the body cap) and schedules a background task that calls the candidate (and, for a
sampled fraction of safe requests, the primary again: A/A) under the route's timeout, compares in
a worker thread, and hands the results to the writer. Nothing in it can raise into the caller or
delay it: a candidate that hangs, raises or returns garbage becomes an errored observation, and
work over the cap is shed and counted. Internal faults are counted in `faults` and logged.

Candidates that run in this process (an in-process native app, `in_process=True`) have a cap
of their own, `max_in_process`, far below `max_in_flight`: their work (routing, a database
driver in worker threads) takes the same core and interpreter lock as the client's requests, so
each one running slows every client, while an upstream candidate only waits on a socket. Over
that cap the comparison is shed and counted as shed like any other, never queued: a parity
report then says how much of the traffic was compared. An A/A call that would run in-process
over the cap is dropped alone (it is a sample already) and the comparison still runs.

The cap bounds how many such calls run at once, not how much of the core they take, so a second
rule bounds their share of the time, `in_process_share`: while the in-process calls that ended
within the last second took more than that share of it, none starts, and what arrives is shed
the same way. With the default (0.25) they occupy about a quarter of the time at most, and a
gateway with little traffic sheds nothing.

Requests that are not compared (unsampled, skipped, shed) are tallied per route and handed to
the writer in bulk: after `_TALLY_MAX` of them, when a comparison starts on the route, and at the
latest `tally_seconds` after the first of a tally, on a timer. Without the timer the last request
of a burst would wait for the next one on its route, and the outcomes would lag the requests.
"""

from __future__ import annotations

import asyncio
import collections
import concurrent.futures
import contextlib
import dataclasses
import logging
import threading
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Protocol

import orjson

from shadow.compare import Comparison, Outcome, Rules, compare
from shadow.fieldpath import Pattern
from shadow.noise import NoiseLedger
from shadow.observation import Lifted, Observation, Side, lift
from shadow.records import RequestInfo, Result, Sample, Source
from shadow.redact import redact_query, redact_text, redact_tree
from shadow.settings import DEFAULTS, DiffBudget, ShadowSettings, compiled, sampled

__all__ = [
    "DiffBudget", "Experiment", "RequestInfo", "ShadowSettings", "observe", "sampled", "wants_aa",
]  # fmt: skip

log = logging.getLogger("strangler.shadow")
SAFE_METHODS = frozenset({"GET", "HEAD"})
_UNSAMPLED = "unsampled"
_TALLY_MAX = 100  # requests counted before the tally goes to the writer
WINDOW = 1.0  # seconds over which in-process calls' share of the time is taken
_TALLY_SECONDS = 1.0  # ... or once the oldest in it is this old
Call = Callable[[], Awaitable[Observation]]
# One tree diff at a time, whatever the compare threads: deepdiff parses paths with
# ast.literal_eval, and CPython 3.11's AST constructor keeps its recursion depth in state
# shared by every thread, so two parsing at once can fail ("AST constructor recursion depth
# mismatch", python/cpython#106905) and lose the comparison. deepdiff holds the interpreter
# lock throughout anyway: serialising it costs no parallelism.
TREE_DIFFS = threading.Lock()


class ResultSink(Protocol):
    def put(self, result: Result, /) -> bool: ...


class Experiment:
    def __init__(
        self,
        writer: ResultSink,
        settings: ShadowSettings = DEFAULTS,
        *,
        clock: Callable[[], float] = time.time,
        monotonic: Callable[[], float] = time.monotonic,
        ledger: NoiseLedger | None = None,
        compare_threads: int = 2,
        tree_diffs_per_second: float | None = 50.0,
        tally_seconds: float = _TALLY_SECONDS,
    ) -> None:
        self.writer = writer
        # told of every result as it goes to the writer (the gateway's metrics); never raising
        self.observers: list[Callable[[Result], None]] = []
        self.settings = settings  # defaults; a route passes its own to submit
        self.clock = clock
        self.ledger = ledger or NoiseLedger()
        self.budget = DiffBudget(tree_diffs_per_second) if tree_diffs_per_second else None
        self.shed = 0
        self.in_process = 0  # experiments running now that call a side in this process
        self.monotonic = monotonic
        # (ended, seconds taken) of the in-process calls that ended within the last WINDOW
        self._spent: collections.deque[tuple[float, float]] = collections.deque()
        self._spent_total = 0.0
        self.faults = 0  # bugs of our own, caught so the caller never sees them
        self._tasks: set[asyncio.Task[None]] = set()
        self._tallies: dict[tuple[str, Outcome | str], tuple[int, float]] = {}
        self.tally_seconds = tally_seconds
        self._tally_timer: asyncio.TimerHandle | None = None
        self._closed = False
        # comparing is CPU work: off the event loop, on threads of its own so that a burst of
        # deepdiffs cannot starve the loop's default executor
        self._executor = concurrent.futures.ThreadPoolExecutor(compare_threads, "strangler-compare")

    @property
    def in_flight(self) -> int:
        return len(self._tasks)

    def submit(
        self,
        route_id: str,
        request: RequestInfo,
        primary: Observation,
        candidate: Call,
        primary_again: Call | None = None,
        *,
        settings: ShadowSettings | None = None,
        in_process: tuple[bool, bool] = (False, False),
    ) -> None:
        """Schedule the comparison of one request; returns at once and never raises.

        `in_process`: whether the candidate, and the primary's second call, run in this
        process (they then count against `max_in_process`).
        """
        try:
            self._submit(route_id, request, primary, candidate, primary_again, settings, in_process)
        except Exception:
            self.faults += 1
            log.exception("shadow submit failed for route %s", route_id)

    def _submit(
        self,
        route: str,
        request: RequestInfo,
        primary: Observation,
        candidate: Call,
        again: Call | None,
        settings: ShadowSettings | None,
        in_process: tuple[bool, bool],
    ) -> None:
        s = settings or self.settings
        at = self.clock()
        if not sampled(request.request_id, s.sample):
            self._tally(route, _UNSAMPLED, at)
            return
        if primary.truncated or primary.skipped or not self._shadowed(request.method, s):
            self._tally(route, Outcome.SKIPPED, at)
            return
        if self._closed or len(self._tasks) >= min(s.max_in_flight, self.settings.max_in_flight):
            self._shed(route, at)
            return
        aa_call = again if again is not None and wants_aa(request, s) else None
        local_full = not self.room_in_process(s)
        if local_full and in_process[0]:
            self._shed(route, at)
            return
        if local_full and in_process[1]:
            aa_call = None
        self._flush_tallies(at, route)
        job = self._job(route, request, at, primary, s)
        if in_process[0]:
            candidate = self.counted(candidate)
        if aa_call is not None and in_process[1]:
            aa_call = self.counted(aa_call)
        task = asyncio.get_running_loop().create_task(self._run(job, candidate, aa_call, s))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    def _job(
        self, route: str, request: RequestInfo, at: float, primary: Observation, s: ShadowSettings
    ) -> _Job:
        """One comparison to run: the route's rules, with the noise learned so far."""
        noise, kinds = self.ledger.noise_rules(route, s.thresholds)
        headers = tuple(h.lower() for h in s.headers)
        rules = Rules(headers, compiled(s.ignore), noise, noise_kinds=kinds)
        return _Job(route, request, at, primary, rules, compiled(s.redact), self.budget)

    async def run_now(
        self,
        route_id: str,
        request: RequestInfo,
        primary: Observation,
        candidate: Call,
        primary_again: Call | None = None,
        *,
        settings: ShadowSettings,
    ) -> None:
        """Compare one request and hand its results on, returning when they are handed: no
        sampling, no caps, nothing shed (a replay, which waits rather than drops). The same
        rules, learned noise, comparison, redaction and results as `submit`."""
        job = self._job(route_id, request, self.clock(), primary, settings)
        await self._run(job, candidate, primary_again, settings)

    def in_process_cap(self, s: ShadowSettings) -> int:
        """Calls in this process allowed at once: the route's cap within the global one."""
        return min(s.max_in_process, self.settings.max_in_process)

    def room_in_process(self, s: ShadowSettings) -> bool:
        """Whether an in-process call may start now: under the cap, and under the share of the
        time such calls may take (over the last WINDOW seconds)."""
        if self.in_process >= self.in_process_cap(s):
            return False
        share = min(s.in_process_share, self.settings.in_process_share)
        return share >= 1.0 or self.spent_recently() < share * WINDOW

    def spent_recently(self) -> float:
        """Seconds taken by the in-process calls that ended within the last WINDOW."""
        horizon = self.monotonic() - WINDOW
        spent = self._spent
        while spent and spent[0][0] < horizon:
            self._spent_total -= spent.popleft()[1]
        return max(self._spent_total, 0.0)

    def count_shed(self, route_id: str) -> None:
        """A request whose comparison the caller could not start for want of room (a write's
        dry run refused over the cap): counted as shed, as submit counts its own; never raises."""
        try:
            self._shed(route_id, self.clock())
        except Exception:
            self.faults += 1
            log.exception("shadow count failed for route %s", route_id)

    def _shed(self, route: str, at: float) -> None:
        self.shed += 1
        self._tally(route, Outcome.SHED, at)

    def _tally(self, route: str, kind: Outcome | str, at: float) -> None:
        """Requests not compared are counted here and handed over in bulk: under overload, one
        result per shed request would fill the writer's queue just when it matters most."""
        n, first = self._tallies.get((route, kind), (0, at))
        self._tallies[route, kind] = (n + 1, first)
        if n + 1 >= _TALLY_MAX or at - first >= self.tally_seconds:
            self._flush_tallies(at, route)
        elif self._tally_timer is None and not self._closed:
            with contextlib.suppress(RuntimeError):  # no running loop: close() flushes
                loop = asyncio.get_running_loop()
                self._tally_timer = loop.call_later(self.tally_seconds, self._tallies_due)

    def _tallies_due(self) -> None:
        self._tally_timer = None
        try:
            self._flush_tallies(self.clock())
        except Exception:
            self.faults += 1
            log.exception("shadow tally flush failed")

    def _flush_tallies(self, at: float, route: str | None = None) -> None:
        for key in [k for k in self._tallies if route is None or k[0] == route]:
            n, _ = self._tallies.pop(key)
            if key[1] == _UNSAMPLED:
                self._put(Result(key[0], at, Outcome.SKIPPED, unsampled=n))
            else:
                self._put(Result(key[0], at, Outcome(key[1]), repeat=n))

    def _put(self, result: Result) -> None:
        self.writer.put(result)
        for observer in self.observers:
            try:
                observer(result)
            except Exception:
                self.faults += 1
                log.exception("shadow result observer failed")

    @staticmethod
    def _shadowed(method: str, s: ShadowSettings) -> bool:
        return method.upper() in SAFE_METHODS or s.writes == "dry_run"

    def counted(self, call: Call) -> Call:
        """The call, holding one of the in-process places from now until it returns (the
        caller checked `room_in_process` first; a write's dry run, run before its primary,
        takes its place here too); the time it took counts against the share."""
        self.in_process += 1

        async def counted() -> Observation:
            started = self.monotonic()
            try:
                return await call()
            finally:
                self.in_process -= 1
                ended = self.monotonic()
                self._spent.append((ended, ended - started))
                self._spent_total += ended - started
                self.spent_recently()  # drops what left the window, whatever the share

        return counted

    async def _run(self, job: _Job, candidate: Call, again: Call | None, s: ShadowSettings) -> None:
        try:
            calls = [observe(candidate, Side.CANDIDATE, s.timeout)]
            if again is not None:
                calls.append(observe(again, Side.PRIMARY, s.timeout))
            seen = await asyncio.gather(*calls)
            if seen[0].shed:  # the candidate found no room after all: as if shed at submit
                self._shed(job.route, self.clock())
                return
            loop = asyncio.get_running_loop()
            results = await loop.run_in_executor(
                self._executor, evaluate, job, seen[0], seen[1] if again else None
            )
            for source, comparison, result in results:
                self.ledger.record(job.route, source, comparison)
                self._put(result)
        except Exception:
            self.faults += 1
            log.exception("shadow experiment failed for route %s", job.route)

    async def drain(self) -> None:
        """Wait for the experiments running now (and any they are racing with) to finish."""
        while self._tasks:
            await asyncio.wait(set(self._tasks))

    async def close(self, deadline: float = 5.0) -> None:
        """Stop taking work, let running experiments finish within `deadline`, cancel the rest."""
        self._closed = True
        if self._tasks:
            _, pending = await asyncio.wait(set(self._tasks), timeout=deadline)
            for task in pending:
                task.cancel()
            await asyncio.gather(*pending, return_exceptions=True)
        if self._tally_timer is not None:
            self._tally_timer.cancel()
            self._tally_timer = None
        self._flush_tallies(self.clock())
        self._executor.shutdown(wait=False, cancel_futures=True)


def wants_aa(request: RequestInfo, s: ShadowSettings) -> bool:
    """Whether the primary is called a second time for this request (A/A, noise): a sampled
    share of safe requests, the same ones however often the request is seen."""
    safe = request.method.upper() in SAFE_METHODS
    return safe and sampled(request.request_id + "#aa", s.noise_sample)


async def observe(call: Call, side: Side, budget: float) -> Observation:
    """Call one side under its timeout; every way it can fail becomes an errored observation."""
    loop = asyncio.get_running_loop()
    started = loop.time()
    try:
        async with asyncio.timeout(budget):
            seen: object = await call()
    except TimeoutError:
        return Observation.failed(side, f"timed out after {budget:g}s", loop.time() - started)
    except asyncio.CancelledError:
        task = asyncio.current_task()
        if task is not None and task.cancelling():
            raise  # we are being cancelled (shutdown): let it through
        # the side cancelled itself (e.g. its own client gave up): an answer that never came
        return Observation.failed(side, "cancelled", loop.time() - started)
    except Exception as exc:
        error = f"raised {type(exc).__name__}: {exc}"
        return Observation.failed(side, error, loop.time() - started)
    if not isinstance(seen, Observation):
        error = f"garbage: {type(seen).__name__} instead of an observation"
        return Observation.failed(side, error, loop.time() - started)
    return seen if seen.side is side else dataclasses.replace(seen, side=side)


@dataclass(frozen=True, slots=True)
class _Job:
    route: str
    request: RequestInfo
    at: float
    primary: Observation
    rules: Rules
    redact: tuple[Pattern, ...]
    budget: DiffBudget | None = None


def evaluate(
    job: _Job, candidate: Observation, again: Observation | None
) -> list[tuple[Source, Comparison, Result]]:
    """Compare (in a worker thread) and build the results to store, samples redacted."""
    out = [(Source.PC, *_judge(job, candidate, Source.PC, job.rules))]
    # A/A finds noise, so it must not have noise set apart already (a shed call: no A/A)
    if again is not None and not again.shed:
        out.append((Source.AA, *_judge(job, again, Source.AA, replace_noise(job.rules))))
    return out


def replace_noise(rules: Rules) -> Rules:
    return dataclasses.replace(rules, noise=frozenset(), noise_kinds=None)


def _judge(
    job: _Job, other: Observation, source: Source, rules: Rules
) -> tuple[Comparison, Result]:
    if other.truncated or other.skipped:
        return Comparison(Outcome.SKIPPED), Result(job.route, job.at, Outcome.SKIPPED, source)
    c = _compare_within_budget(job, other, source, rules)
    sample = None
    if c.outcome in (Outcome.MISMATCHED, Outcome.ERRORED):
        sample = make_sample(job, c, other, rules.headers)
    p, o = job.primary, other
    result = Result(
        job.route, job.at, c.outcome, source,
        p.duration if p.error is None else None, o.duration if o.error is None else None,
        (*c.differences, *c.noise), sample, diffed=c.diffed,
    )  # fmt: skip
    return c, result


def _compare_within_budget(
    job: _Job, other: Observation, source: Source, rules: Rules
) -> Comparison:
    """The outcome first, without deepdiff; the fields only when the budget allows.

    A/A mismatches always get their tree diff (noise is learned from their fields, and they
    are few), but spend from the budget all the same, so that together they stay near it.
    """
    quick = compare(job.primary, other, dataclasses.replace(rules, tree_diff=False))
    if quick.outcome is not Outcome.MISMATCHED or quick.diffed:
        return quick
    allowed = job.budget is None or job.budget.take()
    if allowed or source is Source.AA:
        with TREE_DIFFS:  # lifting again costs µs; the diff costs ms
            return compare(job.primary, other, rules)
    return quick


def make_sample(job: _Job, c: Comparison, other: Observation, headers: tuple[str, ...]) -> Sample:
    def side(lifted: Lifted | None, seen: Observation) -> str:
        if seen.error is not None:
            return orjson.dumps({"error": redact_text(seen.error)}).decode()
        tree = (lifted or lift(seen, headers)).tree()
        return orjson.dumps(redact_tree(tree, job.redact)).decode()

    r = job.request
    request = RequestInfo(r.method, redact_text(r.path), redact_query(r.query), r.request_id)
    error = redact_text(c.error) if c.error else None
    return Sample(request, side(c.primary, job.primary), side(c.candidate, other), error)
