"""The replay engine with fake sides: every request sent is compared by shadow mode's pipeline,
the planted differences are found exactly, what is not sent is counted with its reason, writes
never reach legacy, and rate, concurrency and stop bound what it does."""

from __future__ import annotations

import asyncio
import dataclasses
from collections import Counter
from typing import Any

import orjson
import pytest

from shadow.compare import Outcome
from shadow.experiment import Call, Experiment
from shadow.observation import Observation, Side
from shadow.records import Result, Source
from shadow.replay import Limits, Plan, Refused, Replay, plan_settings
from shadow.runs import LeftOut, Totals
from shadow.settings import ShadowSettings
from shadow.sources import Line, Request, Unreadable
from tests.shadow.helpers import ListSink

JSON = (("content-type", "application/json"),)
QUIET = plan_settings(ShadowSettings(noise_sample=0.0))


def answer(side: Side, doc: Any, status: int = 200) -> Observation:
    return Observation.of(side, status, JSON, orjson.dumps(doc), 0.001)


class FakeSides:
    """`/users/N` answers {"id": N, "name": ...}; native spells the names of planted ids in
    capitals. `/legacy-only` has no native side; `/clock` varies between any two calls."""

    legacy_timeout = 5.0

    def __init__(
        self, planted: frozenset[int] = frozenset(), settings: ShadowSettings = QUIET
    ) -> None:
        self.planted = planted
        self.settings = settings
        self.calls: Counter[str] = Counter()
        self.dry_runs: list[str] = []
        self.in_flight = 0
        self.most_in_flight = 0
        self.ticks = 0

    def plan(self, request: Request) -> Plan | Refused:
        path, _, query = request.target.partition("?")
        if path.startswith("/users/"):
            return Plan("users.show", self.settings, path, query)
        if path == "/clock":
            return Plan("clock", self.settings, path, query)
        if path == "/legacy-only":
            return Refused(LeftOut.NOT_COMPARED, "legacy.only")
        if request.route == "gone":
            return Refused(LeftOut.UNKNOWN_ROUTE)
        return Refused(LeftOut.UNMATCHED)

    def _doc(self, path: str, native: bool) -> Any:
        if path == "/clock":
            self.ticks += 1
            return {"name": "clock", "at": self.ticks}
        n = int(path.rsplit("/", 1)[1])
        name = f"user {n}"
        return {"id": n, "name": name.upper() if native and n in self.planted else name}

    def legacy(self, request: Request, plan: Plan, request_id: str) -> Call:
        async def call() -> Observation:
            self.calls[f"legacy {request.method} {plan.path}"] += 1
            return await self._timed(lambda: answer(Side.PRIMARY, self._doc(plan.path, False)))

        return call

    def native(self, request: Request, plan: Plan, request_id: str) -> Call:
        async def call() -> Observation:
            self.calls[f"native {request.method} {plan.path}"] += 1
            self.dry_runs.append(request_id)
            status = 422 if request.method == "POST" and plan.path.endswith("/9") else 201
            if request.method == "GET":
                return await self._timed(lambda: answer(Side.CANDIDATE, self._doc(plan.path, True)))
            return answer(Side.CANDIDATE, {"created": True}, status)

        return call

    async def _timed(self, make: Any) -> Observation:
        self.in_flight += 1
        self.most_in_flight = max(self.most_in_flight, self.in_flight)
        await asyncio.sleep(0)
        await asyncio.sleep(0)
        self.in_flight -= 1
        result: Observation = make()
        return result


def get(path: str, **kw: Any) -> Request:
    return Request("GET", path, f"log:{path}", **kw)


def pc(sink: ListSink) -> list[Result]:
    return [r for r in sink.results if r.source is Source.PC and not r.unsampled]


ALL = Limits()


async def replay_all(
    sides: FakeSides, lines: list[Line], limits: Limits = ALL, **kw: Any
) -> tuple[ListSink, Totals, Replay]:
    sink = ListSink()
    experiment = Experiment(sink, tree_diffs_per_second=None)
    replay = Replay(experiment, sides, "run1", limits, **kw)
    totals = Totals()
    await replay.run(lines, totals, asyncio.Event())
    await experiment.close()
    return sink, totals, replay


async def test_every_request_is_compared_and_exactly_the_planted_ones_differ() -> None:
    planted = frozenset({3, 17, 40})
    sides = FakeSides(planted)
    lines: list[Line] = [get(f"/users/{n}") for n in range(50)]
    sink, totals, replay = await replay_all(sides, lines)

    results = pc(sink)
    assert (totals.read, totals.sent, len(results)) == (50, 50, 50)
    differing = {
        r.sample.request.path for r in results if r.outcome is Outcome.MISMATCHED if r.sample
    }
    assert differing == {f"/users/{n}" for n in planted}
    fields = {d.field for r in results for d in r.differences}
    assert fields == {"body.name"}
    assert Counter(r.outcome for r in results) == {Outcome.MATCHED: 47, Outcome.MISMATCHED: 3}
    assert (replay.progress.matched, replay.progress.mismatched) == (47, 3)
    # each side once per request; the native side always as a dry run
    assert sum(v for k, v in sides.calls.items() if k.startswith("legacy")) == 50
    assert len(sides.dry_runs) == 50
    assert {r.sample.request.request_id for r in results if r.sample} == {
        f"run1.{n + 1}" for n in planted
    }


async def test_what_is_not_sent_is_counted_with_its_reason() -> None:
    sides = FakeSides()
    lines: list[Line] = [
        get("/users/1"),  # no time, and a window was asked: it cannot be placed
        Unreadable("log:2", "garbage"),
        get("/nowhere", at=120.0),
        get("/legacy-only", at=120.0),
        get("/elsewhere", route="gone", at=120.0),
        get("/users/2", at=10.0),  # before --since
        get("/users/3", at=200.0),
        get("/clock", at=150.0),  # another route than asked
        Request("POST", "/users/4", "log:9", 150.0, status=201, side="legacy"),
    ]
    limits = Limits(since=100.0, routes=frozenset({"users.show"}))
    sink, totals, _ = await replay_all(sides, lines, limits)
    assert totals.to_json() == {
        "read": 9, "sent": 1,
        "left_out": {"not_compared": 1, "outside": 3, "unknown_route": 1, "unmatched": 1,
                     "unreadable": 1},
        "not_compared_routes": {"legacy.only": 1}, "failed": 0,
    }  # fmt: skip
    # the write is skipped, counted on its route
    assert [r.sample for r in pc(sink) if r.outcome is not Outcome.SKIPPED] == [None]
    assert sum(r.repeat for r in pc(sink) if r.outcome is Outcome.SKIPPED) == 1
    assert not any(k.startswith("legacy POST") or k.startswith("native POST") for k in sides.calls)


async def test_writes_run_as_dry_runs_against_the_status_legacy_gave_and_legacy_is_not_called() -> (
    None
):
    sides = FakeSides()
    lines: list[Line] = [
        Request("POST", "/users/8", "log:1", status=201, side="legacy"),
        Request("POST", "/users/9", "log:2", status=201, side="legacy"),  # native answers 422
        Request("POST", "/users/10", "log:3", status=201, side="native"),  # legacy unknown
        Request("POST", "/users/11", "log:4"),  # no status at all
    ]
    sink, _totals, _ = await replay_all(sides, lines, Limits(writes=True))
    outcomes = Counter(r.outcome for r in pc(sink) for _ in range(r.repeat))
    assert outcomes == {Outcome.MATCHED: 1, Outcome.MISMATCHED: 1, Outcome.SKIPPED: 2}
    [mismatch] = [r for r in pc(sink) if r.outcome is Outcome.MISMATCHED]
    assert [d.field for d in mismatch.differences] == ["status"]
    assert not any(k.startswith("legacy") for k in sides.calls)
    assert sides.calls == {"native POST /users/8": 1, "native POST /users/9": 1}


async def test_noise_is_learned_from_legacy_against_itself_as_the_run_goes() -> None:
    settings = plan_settings(ShadowSettings(noise_sample=1.0, noise_min_samples=5))
    sides = FakeSides(settings=settings)
    sink, _, _ = await replay_all(sides, [get("/clock") for _ in range(30)], Limits(concurrency=1))
    outcomes = [r.outcome for r in pc(sink)]
    # until A/A has shown `at` to vary often enough, it is a mismatch; then it is noise
    assert outcomes[:5] == [Outcome.MISMATCHED] * 5
    assert outcomes[-10:] == [Outcome.IGNORED] * 10
    assert sum(1 for r in sink.results if r.source is Source.AA) == 30
    assert sides.calls["legacy GET /clock"] == 60


async def test_concurrency_bounds_the_requests_in_flight() -> None:
    sides = FakeSides()
    await replay_all(sides, [get(f"/users/{n}") for n in range(40)], Limits(concurrency=3))
    assert sides.most_in_flight <= 2 * 3  # each request in flight calls two sides at once
    sides = FakeSides()
    await replay_all(sides, [get(f"/users/{n}") for n in range(40)], Limits(concurrency=1))
    assert sides.most_in_flight <= 2


async def test_rate_spaces_the_starts_without_reading_a_wall_clock() -> None:
    clock = [0.0]
    waits: list[float] = []

    async def pause(stop: asyncio.Event, seconds: float) -> bool:
        waits.append(round(seconds, 6))
        clock[0] += seconds
        return True

    sides = FakeSides()
    await replay_all(
        sides, [get(f"/users/{n}") for n in range(5)], Limits(rate=4.0),
        monotonic=lambda: clock[0], pause=pause,
    )  # fmt: skip
    assert waits == [0.25, 0.25, 0.25, 0.25]  # the first starts at once, then 1/rate apart


async def test_limit_sends_at_most_that_many() -> None:
    sink, totals, replay = await replay_all(
        FakeSides(), [get(f"/users/{n}") for n in range(10)], Limits(limit=4)
    )
    assert (totals.sent, len(pc(sink))) == (4, 4)
    assert replay.count([get(f"/users/{n}") for n in range(10)]) == 4


async def test_stop_ends_the_run_after_the_requests_in_flight_and_keeps_them() -> None:
    sink = ListSink()
    experiment = Experiment(sink, tree_diffs_per_second=None)
    sides = FakeSides()
    replay = Replay(experiment, sides, "run1", Limits(concurrency=2))
    stop = asyncio.Event()

    def stop_after_five(result: Result) -> None:
        if replay.progress.compared >= 5:
            stop.set()

    experiment.observers.append(stop_after_five)
    totals = Totals()
    await replay.run([get(f"/users/{n}") for n in range(100)], totals, stop)
    await experiment.close()
    assert 5 <= totals.sent < 100
    assert len(pc(sink)) == totals.sent  # every request sent was compared and kept


async def test_a_failing_side_is_an_errored_comparison_not_a_failed_run() -> None:
    sides = FakeSides()

    def broken(request: Request, plan: Plan, request_id: str) -> Call:
        async def call() -> Observation:
            raise ConnectionResetError("native went away")

        return call

    sides.native = broken  # type: ignore[method-assign]
    sink, _totals, replay = await replay_all(sides, [get("/users/1"), get("/users/2")])
    assert [r.outcome for r in pc(sink)] == [Outcome.ERRORED, Outcome.ERRORED]
    assert replay.progress.errored == 2 and replay.experiment.faults == 0


@pytest.mark.parametrize("writes", [False, True], ids=["reads-only", "writes"])
async def test_count_agrees_with_what_is_sent(writes: bool) -> None:
    lines: list[Line] = [
        get("/users/1"), get("/nowhere"), Unreadable("x", "y"),
        Request("POST", "/users/2", "log:4", status=201, side="legacy"),
    ]  # fmt: skip
    _sink, totals, replay = await replay_all(FakeSides(), list(lines), Limits(writes=writes))
    assert replay.count(lines) == totals.sent == (2 if writes else 1)


def test_plan_settings_compare_every_request() -> None:
    assert plan_settings(ShadowSettings(sample=0.1)).sample == 1.0
    assert dataclasses.replace(QUIET, sample=0.5).sample == 0.5
