"""Candidates run by the gateway's own process have a cap of their own (`max_in_process`): over
it the comparison is shed and counted, never queued, while upstream candidates keep the wider
`max_in_flight`."""

from __future__ import annotations

import asyncio

import pytest

from shadow.compare import Outcome
from shadow.experiment import Call, Experiment, ShadowSettings
from shadow.observation import Observation
from shadow.records import RequestInfo, Source
from tests.shadow.helpers import ListSink, candidate, primary

BODY = '{"data":[{"id":1,"name":"Ann"}]}'
HERE = (True, False)  # the candidate runs in this process
AA_HERE = (False, True)  # the primary's second call (A/A) runs in this process


def request(i: int) -> RequestInfo:
    return RequestInfo("GET", "/u", "", f"r{i}")


async def started() -> None:
    """Let the scheduled experiments reach their calls (each side runs in a task of its own)."""
    for _ in range(5):
        await asyncio.sleep(0)


def held(gate: asyncio.Event, calls: list[str], name: str = "candidate") -> Call:
    async def call() -> Observation:
        calls.append(name)
        await gate.wait()
        return candidate(BODY)

    return call


async def test_in_process_candidates_over_their_cap_are_shed_and_counted() -> None:
    sink, gate, calls = ListSink(), asyncio.Event(), list[str]()
    exp = Experiment(sink, ShadowSettings(max_in_flight=64, max_in_process=2, noise_sample=0.0))
    for i in range(5):
        exp.submit("users.list", request(i), primary(BODY), held(gate, calls), in_process=HERE)
    await started()
    assert (exp.in_flight, exp.in_process, exp.shed, len(calls)) == (2, 2, 3, 2)
    gate.set()
    await exp.close()
    assert exp.in_process == 0
    assert (sink.counted(Outcome.MATCHED), sink.counted(Outcome.SHED)) == (2, 3)


async def test_upstream_candidates_are_not_held_by_the_in_process_cap() -> None:
    sink, gate, calls = ListSink(), asyncio.Event(), list[str]()
    exp = Experiment(sink, ShadowSettings(max_in_process=1, noise_sample=0.0))
    exp.submit("users.list", request(0), primary(BODY), held(gate, calls), in_process=HERE)
    for i in range(1, 4):
        exp.submit("users.list", request(i), primary(BODY), held(gate, calls))
    assert (exp.in_flight, exp.in_process, exp.shed) == (4, 1, 0)
    gate.set()
    await exp.close()
    assert sink.counted(Outcome.MATCHED) == 4


async def test_the_route_cap_stays_within_the_global_one() -> None:
    sink, gate, calls = ListSink(), asyncio.Event(), list[str]()
    exp = Experiment(sink, ShadowSettings(max_in_process=1))
    route = ShadowSettings(max_in_process=8, noise_sample=0.0)
    for i in range(3):
        call = held(gate, calls)
        exp.submit("users.list", request(i), primary(BODY), call, settings=route, in_process=HERE)
    assert (exp.in_process, exp.shed) == (1, 2)
    gate.set()
    await exp.close()


async def test_an_in_process_aa_call_over_the_cap_is_dropped_and_the_comparison_runs() -> None:
    sink, gate, calls = ListSink(), asyncio.Event(), list[str]()
    exp = Experiment(sink, ShadowSettings(max_in_process=1, noise_sample=1.0))
    # primary: native in-process, so its second call (A/A) runs here; the candidate is upstream
    again = held(gate, calls, "again")
    for i in range(2):
        call = held(gate, calls)
        exp.submit("native.first", request(i), primary(BODY), call, again, in_process=AA_HERE)
    await started()
    assert (exp.in_flight, exp.in_process, exp.shed) == (2, 1, 0)
    assert sorted(calls) == ["again", "candidate", "candidate"]  # the second A/A never ran
    gate.set()
    await exp.close()
    assert sink.counted(Outcome.MATCHED, Source.PC) == 2
    assert sink.counted(Outcome.MATCHED, Source.AA) == 1


async def test_a_refused_dry_run_is_counted_as_shed() -> None:
    sink = ListSink()
    exp = Experiment(sink)
    exp.count_shed("users.create")
    await exp.close()
    assert (exp.shed, sink.counted(Outcome.SHED)) == (1, 1)


class Clock:
    """A monotonic clock the test moves; a call moves it by what the call 'takes'."""

    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def taking(clock: Clock, seconds: float) -> Call:
    async def call() -> Observation:
        clock.now += seconds
        return candidate(BODY)

    return call


async def test_in_process_calls_are_held_to_their_share_of_the_time() -> None:
    sink, clock = ListSink(), Clock()
    settings = ShadowSettings(max_in_process=1, in_process_share=0.25, noise_sample=0.0)
    exp = Experiment(sink, settings, monotonic=clock)
    for i in range(6):  # each call takes 0.1 s: a fourth would pass a quarter of the second
        exp.submit("users.list", request(i), primary(BODY), taking(clock, 0.1), in_process=HERE)
        await exp.drain()
    assert exp.spent_recently() == pytest.approx(0.3)
    assert exp.shed == 3
    clock.now += 1.01  # the window moves past them: room again
    exp.submit("users.list", request(9), primary(BODY), taking(clock, 0.1), in_process=HERE)
    await exp.close()
    assert (exp.shed, sink.counted(Outcome.MATCHED), sink.counted(Outcome.SHED)) == (3, 4, 3)


async def test_little_traffic_is_never_shed_for_its_share() -> None:
    sink, clock = ListSink(), Clock()
    exp = Experiment(sink, ShadowSettings(noise_sample=0.0), monotonic=clock)  # default share
    for i in range(20):  # 10 ms calls, one every 100 ms: a tenth of the time
        exp.submit("users.list", request(i), primary(BODY), taking(clock, 0.01), in_process=HERE)
        await exp.drain()
        clock.now += 0.09
    await exp.close()
    assert (exp.shed, sink.counted(Outcome.MATCHED)) == (0, 20)


async def test_a_share_of_one_turns_the_limit_off_and_upstream_calls_never_count() -> None:
    sink, clock = ListSink(), Clock()
    exp = Experiment(sink, ShadowSettings(in_process_share=1.0, noise_sample=0.0), monotonic=clock)
    for i in range(5):
        exp.submit("users.list", request(i), primary(BODY), taking(clock, 0.5), in_process=HERE)
        await exp.drain()
    capped = Experiment(ListSink(), ShadowSettings(noise_sample=0.0), monotonic=clock)
    for i in range(5):  # upstream candidates: not in this process, not counted in its time
        capped.submit("users.list", request(i), primary(BODY), taking(clock, 0.5))
        await capped.drain()
    await exp.close()
    await capped.close()
    assert (exp.shed, capped.shed, capped.spent_recently()) == (0, 0, 0.0)


async def test_the_time_record_keeps_only_the_last_second() -> None:
    sink, clock = ListSink(), Clock()
    exp = Experiment(sink, ShadowSettings(in_process_share=1.0, noise_sample=0.0), monotonic=clock)
    for i in range(300):  # 1 ms calls, one every 10 ms: 3 s of them
        exp.submit("users.list", request(i), primary(BODY), taking(clock, 0.001), in_process=HERE)
        await exp.drain()
        clock.now += 0.009
    await exp.close()
    assert sink.counted(Outcome.MATCHED) == 300
    assert len(exp._spent) <= 101  # the calls of the last second, not all 300
