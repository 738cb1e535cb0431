"""The experiment runner: the caller gets control back at once, and every fault of the candidate
(hang, exception, garbage, over the in-flight cap) becomes a counted result, never an error."""

from __future__ import annotations

import asyncio
import enum
import threading

import pytest

from shadow import experiment as experiment_module
from shadow.compare import Outcome
from shadow.experiment import DiffBudget, Experiment, ShadowSettings, sampled
from shadow.observation import Observation
from shadow.records import RequestInfo, Result, Source
from tests.shadow.helpers import ListSink, candidate, primary, until

GET = RequestInfo("GET", "/api/v1/admin/users", "page=1", "req-1")
BODY = '{"data":[{"id":1,"name":"Ann"}]}'


def answer(body: str = BODY) -> experiment_module.Call:
    async def call() -> Observation:
        return candidate(body)

    return call


async def test_a_matching_candidate_is_compared_in_the_background() -> None:
    sink = ListSink()
    exp = Experiment(sink, ShadowSettings(noise_sample=0.0))
    exp.submit("users.list", GET, primary(BODY), answer())
    assert sink.results == [] and exp.in_flight == 1  # submit only scheduled the work
    await exp.close()
    assert [(r.outcome, r.source) for r in sink.results] == [(Outcome.MATCHED, Source.PC)]
    assert sink.results[0].candidate_duration == pytest.approx(0.02)


async def test_a_hanging_candidate_times_out_as_errored() -> None:
    sink = ListSink()
    exp = Experiment(sink, ShadowSettings(timeout=0.05))
    never = asyncio.Event()

    async def hang() -> Observation:
        await never.wait()
        raise AssertionError("never released")

    exp.submit("users.list", GET, primary(BODY), hang)
    assert sink.results == []
    await exp.close()
    [result] = sink.results
    assert result.outcome is Outcome.ERRORED
    assert result.sample is not None and "timed out after 0.05s" in (result.sample.error or "")


async def test_a_raising_candidate_is_errored_and_the_caller_sees_nothing() -> None:
    sink = ListSink()
    exp = Experiment(sink)

    async def boom() -> Observation:
        raise ConnectionResetError("peer reset")

    exp.submit("users.list", GET, primary(BODY), boom)
    await exp.close()
    assert [r.outcome for r in sink.results] == [Outcome.ERRORED]
    assert "ConnectionResetError: peer reset" in (sink.results[0].sample.error or "")  # type: ignore[union-attr]


@pytest.mark.parametrize(
    "garbage",
    [None, "200 OK", b"{}", Observation.of(candidate("").side, 0, (), b"", 0.0)],
    ids=["none", "text", "bytes", "no-status"],
)
async def test_a_candidate_returning_garbage_is_errored(garbage: object) -> None:
    sink = ListSink()
    exp = Experiment(sink)

    async def junk() -> Observation:
        return garbage  # type: ignore[return-value]

    exp.submit("users.list", GET, primary(BODY), junk)
    await exp.close()
    assert [r.outcome for r in sink.results] == [Outcome.ERRORED]


async def test_over_max_in_flight_work_is_shed_and_counted() -> None:
    sink = ListSink()
    exp = Experiment(sink, ShadowSettings(max_in_flight=2))
    gate = asyncio.Event()

    async def slow() -> Observation:
        await gate.wait()
        return candidate(BODY)

    for i in range(5):
        exp.submit("users.list", RequestInfo("GET", "/u", "", f"r{i}"), primary(BODY), slow)
    assert exp.in_flight == 2 and exp.shed == 3
    gate.set()
    await exp.close()
    counted = {o: sum(r.repeat for r in sink.results if r.outcome is o) for o in Outcome}
    assert (counted[Outcome.MATCHED], counted[Outcome.SHED]) == (2, 3)


async def test_a_candidate_that_finds_no_room_when_it_runs_is_shed_not_compared() -> None:
    sink = ListSink()
    exp = Experiment(sink, ShadowSettings(noise_sample=1.0))

    async def no_room() -> Observation:
        return Observation(candidate(BODY).side, shed=True)

    exp.submit("users.list", GET, primary(BODY), no_room, answer())
    await exp.close()
    assert exp.shed == 1
    counted = {o: sum(r.repeat for r in sink.results if r.outcome is o) for o in Outcome}
    assert counted[Outcome.SHED] == 1
    assert sum(counted.values()) == 1  # no comparison, and no A/A pair, was stored


async def test_requests_not_compared_reach_the_writer_in_bulk() -> None:
    sink = ListSink()
    exp = Experiment(sink, ShadowSettings(sample=0.0), clock=lambda: 100.0)
    for i in range(250):
        exp.submit("users.list", RequestInfo("GET", "/u", "", f"r{i}"), primary(BODY), answer())
    assert [r.unsampled for r in sink.results] == [100, 100]  # the queue sees 2 results, not 250
    await exp.close()
    assert sum(r.unsampled for r in sink.results) == 250


def outcomes(sink: ListSink) -> int:
    """Requests the results stand for: each comparison once, each tally by its count."""
    return sum(r.unsampled or r.repeat for r in sink.results)


@pytest.mark.parametrize(
    "last",
    [
        ShadowSettings(sample=0.0),
        ShadowSettings(max_in_flight=0),
        ShadowSettings(writes="none"),
    ],
    ids=["unsampled", "shed", "skipped"],
)
async def test_the_last_request_of_a_burst_is_counted_without_waiting_for_the_next(
    last: ShadowSettings,
) -> None:
    sink = ListSink()
    exp = Experiment(sink, ShadowSettings(noise_sample=0.0, max_in_flight=600), tally_seconds=0.05)
    for i in range(551):
        exp.submit("users.list", RequestInfo("GET", "/u", "", f"r{i}"), primary(BODY), answer())
    await exp.drain()
    method = "POST" if last.writes == "none" and last.sample else "GET"
    exp.submit("users.list", RequestInfo(method, "/u", "", "r551"), primary(BODY), answer(),
               settings=last)  # fmt: skip
    assert outcomes(sink) == 551  # held in the tally for now: no other request comes
    await until(lambda: outcomes(sink) == 552)
    await exp.close()
    assert outcomes(sink) == 552


async def test_an_aa_call_runs_for_sampled_safe_requests_only() -> None:
    sink = ListSink()
    exp = Experiment(sink, ShadowSettings(noise_sample=1.0, writes="dry_run"))
    again = answer('{"data":[{"id":1,"name":"Ann"}],"at":"later"}')
    exp.submit("users.list", GET, primary(BODY), answer(), again)
    post = RequestInfo("POST", "/api/v1/admin/users", "", "req-2")
    exp.submit("users.write", post, primary(BODY), answer(), again)
    await exp.close()
    seen = sorted((r.route, r.source.value, r.outcome.value) for r in sink.results)
    assert seen == [
        ("users.list", "aa", "mismatched"),
        ("users.list", "pc", "matched"),
        ("users.write", "pc", "matched"),
    ]
    aa = next(r for r in sink.results if r.source is Source.AA)
    assert [d.field for d in aa.differences] == ["body.at"]


async def test_unsafe_methods_without_dry_run_are_skipped() -> None:
    sink = ListSink()
    exp = Experiment(sink)
    exp.submit("users.write", RequestInfo("DELETE", "/u/1"), primary(BODY), answer())
    await exp.close()
    assert [r.outcome for r in sink.results] == [Outcome.SKIPPED]


async def test_a_primary_over_max_body_is_skipped_without_calling_the_candidate() -> None:
    sink = ListSink()
    exp = Experiment(sink)
    called = False

    async def track() -> Observation:
        nonlocal called
        called = True
        return candidate(BODY)

    big = Observation.of(primary("").side, 200, (), b"x" * 10, 0.01, truncated=True)
    exp.submit("users.list", GET, big, track)
    await exp.close()
    assert [r.outcome for r in sink.results] == [Outcome.SKIPPED] and not called


async def test_unsampled_requests_are_tallied_not_compared() -> None:
    sink = ListSink()
    exp = Experiment(sink, ShadowSettings(sample=0.0))
    exp.submit("users.list", GET, primary(BODY), answer())
    await exp.close()
    assert [(r.unsampled, r.differences) for r in sink.results] == [(1, ())]


async def test_comparison_runs_off_the_event_loop_thread(monkeypatch: pytest.MonkeyPatch) -> None:
    threads: list[str] = []
    real = experiment_module.evaluate

    def spy(*args: object) -> object:
        threads.append(threading.current_thread().name)
        return real(*args)  # type: ignore[arg-type]

    monkeypatch.setattr(experiment_module, "evaluate", spy)
    exp = Experiment(ListSink())
    exp.submit("users.list", GET, primary(BODY), answer())
    await exp.close()
    assert len(threads) == 1 and threads[0] != threading.current_thread().name
    assert threads[0].startswith("strangler-compare")


async def test_a_broken_writer_never_reaches_the_caller() -> None:
    class Broken:
        def put(self, result: Result) -> bool:
            raise RuntimeError("queue exploded")

    exp = Experiment(Broken())
    exp.submit("users.list", GET, primary(BODY), answer())  # must not raise
    await exp.close()
    assert exp.faults == 1


async def test_bad_settings_are_a_fault_not_an_exception_for_the_caller() -> None:
    exp = Experiment(ListSink())
    exp.submit("users.list", GET, primary(BODY), answer(), settings=ShadowSettings(ignore=("x",)))
    await exp.close()
    assert exp.faults == 1 and exp.in_flight == 0


async def test_learned_noise_turns_later_comparisons_ignored() -> None:
    sink = ListSink()
    exp = Experiment(sink, ShadowSettings(noise_sample=1.0, noise_min_samples=1))
    for i in range(5):
        request = RequestInfo("GET", "/u", "", f"r{i}")
        first = primary(f'{{"id":1,"at":"{i}"}}')
        exp.submit("users.list", request, first, answer(f'{{"id":1,"at":"{i}x"}}'),
                   answer(f'{{"id":1,"at":"{i}y"}}'))  # fmt: skip
        await exp.drain()  # one at a time, so each sees what the previous A/A taught
    await exp.close()
    pc = [r.outcome for r in sink.results if r.source is Source.PC]
    assert pc[0] is Outcome.MISMATCHED and pc[-1] is Outcome.IGNORED


def test_sampling_is_deterministic_per_request_id() -> None:
    ids = [f"req-{i}" for i in range(10_000)]
    first = [sampled(i, 0.3) for i in ids]
    assert first == [sampled(i, 0.3) for i in ids]
    assert 2_700 < sum(first) < 3_300
    assert all(sampled(i, 1.0) for i in ids[:100])
    assert not any(sampled(i, 0.0) for i in ids[:100])
    # a smaller fraction selects a subset of a larger one: raising `sample` only adds requests
    assert all(sampled(i, 0.5) for i in ids if sampled(i, 0.1))


def test_settings_copy_a_route_config_by_name() -> None:
    class Writes(enum.Enum):  # stands in for the gateway's enum, which shadow may not import
        DRY_RUN = "dry_run"

    class Config:
        sample = 0.5
        timeout = 1.5
        headers = ("content-type",)
        writes = Writes.DRY_RUN

    settings = ShadowSettings.from_config(Config(), relative_threshold=0.1)
    assert (settings.sample, settings.timeout, settings.headers) == (0.5, 1.5, ("content-type",))
    assert settings.writes == "dry_run" and settings.thresholds.relative == 0.1


async def test_a_candidate_that_cancels_itself_is_errored() -> None:
    sink = ListSink()
    exp = Experiment(sink)

    async def gives_up() -> Observation:
        raise asyncio.CancelledError

    exp.submit("users.list", GET, primary(BODY), gives_up)
    await exp.close()
    assert [r.outcome for r in sink.results] == [Outcome.ERRORED]


def test_the_diff_budget_refills_with_time() -> None:
    now = [0.0]
    budget = DiffBudget(2.0, burst=2.0, clock=lambda: now[0])
    assert [budget.take() for _ in range(3)] == [True, True, False]
    now[0] = 0.5  # one token back
    assert [budget.take() for _ in range(2)] == [True, False]


async def test_mismatches_over_the_diff_budget_are_counted_without_fields() -> None:
    sink = ListSink()
    exp = Experiment(sink, ShadowSettings(noise_sample=0.0), tree_diffs_per_second=0.001)
    for i in range(3):
        request = RequestInfo("GET", "/u", "", f"r{i}")
        exp.submit("users.list", request, primary('{"a":1}'), answer('{"a":2}'))
    await exp.close()
    assert [r.outcome for r in sink.results] == [Outcome.MISMATCHED] * 3
    assert [(r.diffed, len(r.differences)) for r in sink.results] == [
        (True, 1),
        (False, 0),
        (False, 0),
    ]


def test_sampling_is_pinned_so_a_run_replays_on_any_process_and_version() -> None:
    # blake2b of the request id, not Python's per-process salted hash(): these never change
    picked = [sampled(f"req-{i}", 0.5) for i in range(12)]
    assert picked == [True, True, True, True, True, False, True, False, True, False, True, False]


async def test_one_aa_difference_is_not_enough_to_call_a_field_noise() -> None:
    sink = ListSink()
    exp = Experiment(sink, ShadowSettings(noise_sample=1.0))  # noise_min_samples: 20
    for i in range(5):
        request = RequestInfo("GET", "/u", "", f"r{i}")
        first, other, again = (f'{{"id":1,"at":"{i}{s}"}}' for s in ("", "x", "y"))
        exp.submit("users.list", request, primary(first), answer(other), answer(again))
        await exp.drain()
    await exp.close()
    pc = [r.outcome for r in sink.results if r.source is Source.PC]
    assert pc == [Outcome.MISMATCHED] * 5


async def test_a_cookie_learned_as_noise_never_hides_a_candidate_that_stops_sending_it() -> None:
    sink = ListSink()
    settings = ShadowSettings(
        noise_sample=1.0, noise_min_samples=5, headers=("content-type", "set-cookie")
    )
    # next to no tree diffs: later comparisons are settled without one, by the rules learned
    exp = Experiment(sink, settings, tree_diffs_per_second=1e-9)

    def cookie(value: str | None) -> tuple[tuple[str, str], ...]:
        jar = (("set-cookie", f"sid={value}"),) if value is not None else ()
        return (("content-type", "application/json"), *jar)

    def side(value: str | None) -> experiment_module.Call:
        async def call() -> Observation:
            return candidate(BODY, cookie(value))

        return call

    def run(i: int, other: str | None) -> None:
        request = RequestInfo("GET", "/u", "", f"r{i}")
        exp.submit("users.list", request, primary(BODY, cookie(f"p{i}")), side(other),
                   side(f"again{i}"))  # fmt: skip

    for i in range(8):  # every answer of the primary has a session of its own
        run(i, f"c{i}")
        await exp.drain()
    assert exp.ledger.noise_fields("users.list", settings.thresholds) == {"headers.set-cookie"}
    run(8, "c8")
    await exp.drain()
    run(9, None)  # the candidate stops sending its cookie
    await exp.close()
    last = [r for r in sink.results if r.source is Source.PC][-2:]
    assert [(r.outcome, r.diffed) for r in last] == [
        (Outcome.IGNORED, False),
        (Outcome.MISMATCHED, False),
    ]


async def test_tree_diffs_never_run_in_two_compare_threads_at_once(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """deepdiff reaches CPython 3.11's AST constructor, which two threads cannot use at once
    (a spurious SystemError loses the comparison): every mismatch is diffed, one at a time."""
    inside, most = [0], [0]
    lock = threading.Lock()
    real = experiment_module.compare

    def watched(*args: object, **kwargs: object) -> object:
        rules = args[2]
        if not getattr(rules, "tree_diff", True):
            return real(*args, **kwargs)  # type: ignore[arg-type]
        with lock:
            inside[0] += 1
            most[0] = max(most[0], inside[0])
        threading.Event().wait(0.005)  # long enough for another thread to come in
        try:
            return real(*args, **kwargs)  # type: ignore[arg-type]
        finally:
            with lock:
                inside[0] -= 1

    monkeypatch.setattr(experiment_module, "compare", watched)
    sink = ListSink()
    exp = Experiment(sink, ShadowSettings(noise_sample=0.0, max_in_flight=64),
                     compare_threads=4, tree_diffs_per_second=None)  # fmt: skip
    for n in range(24):
        request = RequestInfo("GET", "/u", "", f"r{n}")
        exp.submit("users.list", request, primary(BODY), answer(BODY.replace("Ann", f"A{n}")))
    await exp.close(deadline=30.0)
    assert sum(1 for r in sink.results if r.outcome is Outcome.MISMATCHED) == 24
    assert all(r.differences for r in sink.results)  # each one diffed
    assert most[0] == 1
