"""Replay: requests from a source (an access log, recorded requests) sent to both sides and
compared with shadow mode's own pipeline, as one run whose evidence is stored apart.

The gateway's side of it (which route a request takes, how each side is reached) comes in as
`Sides`; the comparison is `Experiment.run_now`, the code a shadow request's comparison runs:
the route's compared headers, `ignore:` rules, learned noise (A/A on `noise_sample` of the
reads, learned as the run goes, as a gateway learns it from its start), the tree diff of every
mismatch (replay has no diff budget), redaction, and the same results, folded into the same
rows. What differs from shadow mode is who calls the sides, and when:

- reads (GET, HEAD): the legacy side and the native side are called at once, each under its
  own budget (legacy.timeout; the route's shadow timeout for native, as a candidate has), the
  native side marked as a dry run as every candidate call is; legacy is the primary, native the
  candidate, whatever the route's `primary:` (a replay asks whether native answers as legacy);
- writes, only with `writes=True` (`--writes dry_run`): the native side runs as a dry run (it
  rolls back) and the legacy side is NOT called: a replayed write must not write. What legacy
  answered is known only as far as the source knows it, its status (an access log's status, a
  recorded request's status when legacy gave it); so a write compares the status alone, on
  both sides, and a write whose legacy status the source does not know is skipped, counted;
  without `writes`, writes are skipped and counted on their route as shadow mode counts them.

Requests that are not sent are counted in `Totals` with the reason (unreadable, outside the
times or routes asked, unmatched, a route with nothing to compare, a route the table does not
know, a path the gateway refuses). At most `concurrency` requests are in flight, started at
most `rate` a second; `stop` ends the run after the requests in flight (Ctrl-C), and what was
compared is kept. Nothing waits on the store: results go to the run's writer, which the run
waits for (it flushes) when too many are queued, rather than drop any.
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
import time
from collections.abc import Awaitable, Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import Protocol

from shadow.compare import Outcome
from shadow.experiment import SAFE_METHODS, Call, Experiment, RequestInfo, observe, wants_aa
from shadow.observation import Observation, Side
from shadow.records import Result, Source
from shadow.runs import LeftOut, Totals
from shadow.settings import ShadowSettings
from shadow.sources import Line, Request, Unreadable

log = logging.getLogger("strangler.replay")
_NOT_SEEN = Observation(Side.PRIMARY, skipped=True)  # a request counted, not compared
_BACKLOG = 2000  # results queued for the store before the run waits for it to catch up
# waits the given seconds unless the event comes first; False when it came
Pause = Callable[[asyncio.Event, float], Awaitable[bool]]


@dataclass(frozen=True, slots=True)
class Plan:
    """Where a request goes: its route, the route's settings for its method, and the path the
    gateway matches (normalised) with its query, and forwards unless the route sends a side
    another."""

    route: str
    settings: ShadowSettings
    path: str
    query: str
    # the path a side is sent when the route sends it another (None: `path`)
    legacy_path: str | None = None
    native_path: str | None = None


@dataclass(frozen=True, slots=True)
class Refused:
    """Why a request is not sent; the route it matched, when it matched one."""

    why: LeftOut
    route: str | None = None


class Sides(Protocol):
    """The gateway's part: routes, and each side called for one request."""

    legacy_timeout: float

    def plan(self, request: Request) -> Plan | Refused: ...

    def legacy(self, request: Request, plan: Plan, request_id: str) -> Call: ...

    def native(self, request: Request, plan: Plan, request_id: str) -> Call: ...


class Backlog(Protocol):
    """The run's writer, as far as the run looks at it."""

    @property
    def queued(self) -> int: ...

    async def flush(self) -> None: ...


@dataclass(frozen=True, slots=True)
class Limits:
    concurrency: int = 4  # requests in flight at most
    rate: float | None = None  # requests started a second, at most
    limit: int | None = None  # requests sent, at most
    writes: bool = False  # replay writes as dry runs (legacy not called: see the docstring)
    since: float | None = None  # epoch seconds: only requests served from then on
    until: float | None = None
    routes: frozenset[str] = frozenset()  # only these routes (empty: all)


@dataclass(slots=True)
class Progress:
    """What the run has done so far, for a progress bar; updated as results come."""

    total: int | None = None  # requests that will be sent, when counted before the run
    sent: int = 0
    done: int = 0  # of those sent, the ones whose comparison is over
    matched: int = 0  # matched, and ignored (they differed only where differences do not count)
    mismatched: int = 0
    errored: int = 0
    skipped: int = 0
    started: float = 0.0  # monotonic

    @property
    def compared(self) -> int:
        return self.matched + self.mismatched + self.errored

    def see(self, result: Result) -> None:
        if result.source is not Source.PC or result.unsampled:
            return
        outcome = result.outcome
        if outcome in (Outcome.MATCHED, Outcome.IGNORED):
            self.matched += 1
        elif outcome is Outcome.MISMATCHED:
            self.mismatched += 1
        elif outcome is Outcome.ERRORED:
            self.errored += 1
        elif outcome is Outcome.SKIPPED:
            self.skipped += result.repeat


class Replay:
    def __init__(
        self,
        experiment: Experiment,
        sides: Sides,
        run_id: str,
        limits: Limits = Limits(),
        *,
        backlog: Backlog | None = None,
        monotonic: Callable[[], float] = time.monotonic,
        pause: Pause | None = None,
    ) -> None:
        self.experiment = experiment
        self.sides = sides
        self.run_id = run_id
        self.limits = limits
        self.backlog = backlog
        self.monotonic = monotonic
        self.pause = pause or _pause
        self.progress = Progress()
        experiment.observers.append(self.progress.see)
        self._next_start = 0.0

    def count(self, lines: Iterable[Line]) -> int:
        """How many of these requests the run would send (a pass over the source first, so
        that a progress bar has its end)."""
        return sum(1 for _ in self._sendable(lines, Totals(), count_only=True))

    async def run(self, lines: Iterable[Line], totals: Totals, stop: asyncio.Event) -> None:
        """Send, compare and hand on every request of `lines`, until they end or `stop`."""
        self.progress.started = self.monotonic()
        room = asyncio.Semaphore(self.limits.concurrency)
        running: set[asyncio.Task[None]] = set()
        try:
            for request, plan, rid in self._sendable(lines, totals):
                await room.acquire()
                if stop.is_set() or not await self._paced(stop):
                    room.release()
                    break
                totals.sent += 1
                self.progress.sent += 1
                task = asyncio.create_task(self._one(request, plan, rid))
                running.add(task)
                task.add_done_callback(running.discard)
                task.add_done_callback(lambda _: room.release())
                await self._keep_up()
            while running:
                await asyncio.wait(set(running))
        except asyncio.CancelledError:  # stopped at once: the requests in flight end too
            for task in running:
                task.cancel()
            await asyncio.gather(*running, return_exceptions=True)
            raise

    def _sendable(
        self, lines: Iterable[Line], totals: Totals, *, count_only: bool = False
    ) -> Iterator[tuple[Request, Plan, str]]:
        """The requests to send, with their plans and request ids; the rest counted in
        `totals` (writes left out are counted on their route, as skipped)."""
        limits = self.limits
        sent = 0
        for number, line in enumerate(lines, 1):
            if limits.limit is not None and sent >= limits.limit:
                return
            totals.read += 1
            if isinstance(line, Unreadable):
                totals.leave_out(LeftOut.UNREADABLE)
                continue
            if not self._in_window(line.at):
                totals.leave_out(LeftOut.OUTSIDE)
                continue
            plan = self.sides.plan(line)
            if isinstance(plan, Refused):
                totals.leave_out(plan.why, plan.route)
                continue
            if limits.routes and plan.route not in limits.routes:
                totals.leave_out(LeftOut.OUTSIDE)
                continue
            rid = self._request_id(line, number)
            if line.method.upper() not in SAFE_METHODS and not limits.writes:
                if not count_only:
                    self._skip(plan, line, rid)
                continue
            sent += 1
            yield line, plan, rid

    def _in_window(self, at: float | None) -> bool:
        since, until = self.limits.since, self.limits.until
        if since is None and until is None:
            return True
        if at is None:
            return False  # the source does not say when it was served: it cannot be placed
        return (since is None or at >= since) and (until is None or at <= until)

    def _request_id(self, line: Request, number: int) -> str:
        """Each replayed request's own id: the run's, then the recorded row or the line."""
        if line.recorded is not None:
            return f"{self.run_id}.r{line.recorded}"
        return f"{self.run_id}.{number}"

    async def _paced(self, stop: asyncio.Event) -> bool:
        """Wait for the next start `rate` allows; False when `stop` came meanwhile."""
        rate = self.limits.rate
        if not rate:
            return True
        now = self.monotonic()
        start = max(now, self._next_start)
        self._next_start = start + 1.0 / rate
        return start <= now or await self.pause(stop, start - now)

    async def _keep_up(self) -> None:
        backlog = self.backlog
        if backlog is not None and backlog.queued >= _BACKLOG:
            await backlog.flush()

    def _skip(self, plan: Plan, line: Request, rid: str) -> None:
        info = RequestInfo(line.method.upper(), plan.path, plan.query, rid)
        self.experiment.submit(plan.route, info, _NOT_SEEN, _never, settings=plan.settings)

    async def _one(self, line: Request, plan: Plan, rid: str) -> None:
        try:
            await self._compare(line, plan, rid)
        except Exception:  # a bug of ours: counted and logged, the run goes on
            self.experiment.faults += 1
            log.exception("replaying %s failed", rid)
        finally:
            self.progress.done += 1

    async def _compare(self, line: Request, plan: Plan, rid: str) -> None:
        sides, s = self.sides, plan.settings
        info = RequestInfo(line.method.upper(), plan.path, plan.query, rid)
        if info.method not in SAFE_METHODS and (line.status is None or line.side != "legacy"):
            # a write whose legacy answer the source does not know: nothing to compare with
            self.experiment.submit(plan.route, info, _NOT_SEEN, _never, settings=s)
            return
        native = observe(sides.native(line, plan, rid), Side.CANDIDATE, s.timeout)
        again: Call | None = None
        if info.method in SAFE_METHODS:
            legacy = observe(sides.legacy(line, plan, rid), Side.PRIMARY, sides.legacy_timeout)
            primary, candidate = await asyncio.gather(legacy, native)
            again = sides.legacy(line, plan, rid) if wants_aa(info, s) else None
        else:  # a write: its dry run, against the status legacy gave then
            primary = Observation(Side.PRIMARY, status=line.status or 0)
            candidate = status_only(await native)
        await self.experiment.run_now(
            plan.route, info, primary, _seen(candidate), again, settings=s
        )


async def _pause(stop: asyncio.Event, seconds: float) -> bool:
    """Wait `seconds`; False when `stop` came first."""
    try:
        await asyncio.wait_for(stop.wait(), seconds)
    except TimeoutError:
        return True
    return False


def status_only(seen: Observation) -> Observation:
    """An answer reduced to its status (a write, whose legacy answer is known by it alone)."""
    if seen.error is not None:
        return seen
    return dataclasses.replace(seen, headers=(), body=b"", truncated=False)


def _seen(observation: Observation) -> Call:
    async def seen() -> Observation:
        return observation

    return seen


async def _never() -> Observation:
    raise AssertionError("a request that is not compared calls no side")


def plan_settings(settings: ShadowSettings) -> ShadowSettings:
    """A route's shadow settings as a replay uses them: every request compared (no sample)."""
    return dataclasses.replace(settings, sample=1.0)
