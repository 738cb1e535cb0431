"""Observers of an experiment (the gateway's metrics) hear of every result it stores, and one
that raises changes nothing for the writer or the caller."""

from __future__ import annotations

from shadow.compare import Outcome
from shadow.experiment import Experiment, ShadowSettings
from shadow.observation import Observation
from shadow.records import RequestInfo, Result
from tests.shadow.helpers import candidate, primary
from tests.shadow.test_experiment import ListSink

GET = RequestInfo("GET", "/users", "", "req-1")


async def differs() -> Observation:
    return candidate('{"name": "Rob"}')


async def test_every_stored_result_is_told_to_every_observer() -> None:
    sink, heard = ListSink(), list[Result]()
    exp = Experiment(sink, ShadowSettings(noise_sample=0.0, sample=0.5))
    exp.observers.append(heard.append)
    for i in range(20):
        info = RequestInfo("GET", "/users", "", f"req-{i}")
        exp.submit("users.list", info, primary('{"name": "Bob"}'), differs)
    await exp.close()
    assert heard == sink.results
    compared = [r for r in heard if not r.unsampled]
    assert {r.outcome for r in compared} == {Outcome.MISMATCHED}
    assert len(compared) + sum(r.unsampled for r in heard) == 20  # every request, once


async def test_an_observer_that_raises_is_a_counted_fault_and_nothing_else() -> None:
    sink = ListSink()
    exp = Experiment(sink, ShadowSettings(noise_sample=0.0))

    def broken(_result: Result) -> None:
        raise RuntimeError("metrics broke")

    exp.observers.append(broken)
    exp.submit("users.list", GET, primary('{"name": "Bob"}'), differs)
    await exp.close()
    assert [r.outcome for r in sink.results] == [Outcome.MISMATCHED]
    assert exp.faults == 1
