"""One timer for all the connections of an event loop: a periodic sweep over their deadlines.

A connection keeps a single deadline (a float of `loop.time()`) and moves it as it reads;
moving it is an attribute store, not a timer handle to cancel and re-arm on every read or
response. The sweep runs every `interval` seconds while the loop has connections and calls
`expire(now)` on each connection whose deadline has passed; a deadline is thus honoured within
one interval (a tenth of the shortest timeout, at most a second: see EdgeLimits).
"""

from __future__ import annotations

import asyncio
import weakref
from typing import Protocol


class Expiring(Protocol):
    deadline: float

    def expire(self, now: float) -> None: ...


class Sweeper:
    """The sweep of one event loop; `for_loop` gives the loop's one sweeper."""

    def __init__(self, loop: asyncio.AbstractEventLoop, interval: float) -> None:
        # weak: the registry of sweepers is keyed by loop and must not keep a loop alive
        self._loop = weakref.ref(loop)
        self._interval = interval
        self._members: set[Expiring] = set()
        self._timer: asyncio.TimerHandle | None = None

    def add(self, member: Expiring) -> None:
        self._members.add(member)
        loop = self._loop()
        if self._timer is None and loop is not None:
            self._timer = loop.call_later(self._interval, self._sweep)

    def discard(self, member: Expiring) -> None:
        self._members.discard(member)

    def __len__(self) -> int:
        return len(self._members)

    def _sweep(self) -> None:
        self._timer = None
        loop = self._loop()
        if loop is None:
            return
        now = loop.time()
        expired = [member for member in self._members if member.deadline <= now]
        for member in expired:
            member.expire(now)
        # an idle loop costs nothing: the sweep stops with the last connection
        if self._members:
            self._timer = loop.call_later(self._interval, self._sweep)


class Sweepers:
    """The sweeper of each event loop (a server may run one loop per thread)."""

    def __init__(self, interval: float) -> None:
        self._interval = interval
        self._by_loop: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, Sweeper] = (
            weakref.WeakKeyDictionary()
        )

    def for_loop(self, loop: asyncio.AbstractEventLoop) -> Sweeper:
        sweeper = self._by_loop.get(loop)
        if sweeper is None:
            sweeper = self._by_loop[loop] = Sweeper(loop, self._interval)
        return sweeper
