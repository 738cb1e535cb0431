"""Candidates run by the gateway's own process have a cap of their own (`max_in_process`): over
it the comparison is shed and counted, never queued, while upstream candidates keep the wider
`max_in_flight`."""

from __future__ import annotations

import asyncio

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
