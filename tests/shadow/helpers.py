"""Builders shared by the shadow tests."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

from shadow.compare import Outcome
from shadow.observation import Observation, Side
from shadow.records import Result, Source

JSON = (("content-type", "application/json"),)


def primary(body: bytes | str, headers: tuple[tuple[str, str], ...] = JSON, status: int = 200,
            duration: float = 0.01) -> Observation:  # fmt: skip
    raw = body.encode() if isinstance(body, str) else body
    return Observation.of(Side.PRIMARY, status, headers, raw, duration)


def candidate(body: bytes | str, headers: tuple[tuple[str, str], ...] = JSON, status: int = 200,
              duration: float = 0.02) -> Observation:  # fmt: skip
    raw = body.encode() if isinstance(body, str) else body
    return Observation.of(Side.CANDIDATE, status, headers, raw, duration)


class ListSink:
    """A writer that keeps what it is given."""

    def __init__(self) -> None:
        self.results: list[Result] = []

    def put(self, result: Result) -> bool:
        self.results.append(result)
        return True

    def counted(self, outcome: Outcome, source: Source | None = None) -> int:
        return sum(
            r.repeat
            for r in self.results
            if r.outcome is outcome and (source is None or r.source is source)
        )


async def until(condition: Callable[[], bool], polls: int = 3000) -> None:
    """Wait for `condition`, polling every 10 ms; a bound against waiting forever, not a
    measure of time: fails when it never comes."""
    for _ in range(polls):
        if condition():
            return
        await asyncio.sleep(0.01)
    raise AssertionError("the condition never came")
