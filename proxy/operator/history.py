"""Flip history: each change of a route's mode, when it happened and what triggered it.

    diff_tables(old, new)   pure: route added (None → mode), removed (mode → None), or flipped
    FlipStore               the `strangler_flips` table, in the parity store's database
    FlipRecorder            the gateway's side: records accepted reloads and the table at startup

Several gateway processes share one store and each reloads the same file, so each would record
the same flip. A route's flips are numbered (`seq`), and a flip is written only when the route's
latest row does not already say the same (same new mode, same table digest); two writers racing
for the same number collide on the primary key and the second one is dropped. At startup the
table is diffed against the latest stored mode of every route, so a flip made while no gateway
ran is still recorded, with the trigger `startup`.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import (
    Column,
    Engine,
    Float,
    Integer,
    MetaData,
    String,
    Table,
    func,
    select,
)
from sqlalchemy.exc import IntegrityError, SQLAlchemyError

from proxy.logs import get_logger
from proxy.table.model import RouteTable, keeps_evidence
from shadow.store import create_store_engine
from shadow.tables import create_missing, key_string

log = get_logger("proxy.operator.history")


metadata = MetaData()
flips = Table(
    "strangler_flips",
    metadata,
    Column("route", key_string(200), primary_key=True),
    Column("seq", Integer, primary_key=True, autoincrement=False),
    Column("at", Float, nullable=False),
    Column("old_mode", String(16)),  # NULL: the route was added
    Column("new_mode", String(16)),  # NULL: the route was removed
    Column("triggered_by", String(16), nullable=False),
    Column("digest", String(64), nullable=False),
    mysql_charset="utf8mb4",
)


@dataclass(frozen=True, slots=True)
class Change:
    route: str
    old: str | None  # mode value; None: not in the table before
    new: str | None  # None: not in the table after


@dataclass(frozen=True, slots=True)
class Flip:
    route: str
    seq: int
    at: float  # epoch seconds
    old: str | None
    new: str | None
    trigger: str  # startup | file | sighup | admin | guard | resume
    digest: str  # of the table that made the change

    @property
    def text(self) -> str:
        return f"{self.old or '(none)'} → {self.new or '(removed)'}"


def modes_of(table: RouteTable) -> dict[str, str]:
    return {route.id: route.mode.value for route in table.routes}


def diff_modes(before: Mapping[str, str | None], after: Mapping[str, str]) -> tuple[Change, ...]:
    """Added and flipped routes in the order of `after`, then removed ones in that of `before`."""
    changes = [
        Change(route, before.get(route), mode)
        for route, mode in after.items()
        if before.get(route) != mode
    ]
    changes += [
        Change(route, mode, None)
        for route, mode in before.items()
        if mode is not None and route not in after
    ]
    return tuple(changes)


def diff_tables(old: RouteTable, new: RouteTable) -> tuple[Change, ...]:
    return diff_modes(modes_of(old), modes_of(new))


class FlipStore:
    """Synchronous, like the parity store: call it from a worker thread or from the CLI."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    @classmethod
    def on(cls, engine: Engine) -> FlipStore:
        """The flips of the database behind `engine`, its table created when missing."""
        create_missing(metadata, engine)
        return cls(engine)

    @classmethod
    def open(cls, url: str) -> FlipStore:
        return cls.on(create_store_engine(url))

    def close(self) -> None:
        self.engine.dispose()

    def latest_modes(self) -> dict[str, str | None]:
        newest = (
            select(flips.c.route, func.max(flips.c.seq).label("seq"))
            .where(flips.c.triggered_by.not_in(RUNTIME_TRIGGERS))
            .group_by(flips.c.route)
            .subquery()
        )
        query = select(flips.c.route, flips.c.new_mode).join(
            newest, (flips.c.route == newest.c.route) & (flips.c.seq == newest.c.seq)
        )
        with self.engine.connect() as conn:
            return {row.route: row.new_mode for row in conn.execute(query)}

    def record(
        self, changes: Sequence[Change], at: float, trigger: str, digest: str, *, once: bool = True
    ) -> list[Flip]:
        """Write the changes not already written by another gateway; returns those written.
        `once=False`: the caller alone makes this flip (a guard's conditional write won), so it
        is written even when the latest row already names the same mode."""
        written = []
        for change in changes:
            for _ in range(3):  # another gateway took the number for a flip of its own: retry
                flip, raced = self._record_one(change, at, trigger, digest, once)
                if not raced:
                    break
            if flip is not None:
                written.append(flip)
        return written

    def _record_one(
        self, change: Change, at: float, trigger: str, digest: str, once: bool = True
    ) -> tuple[Flip | None, bool]:
        """The flip written (None: already there), and whether a writer raced us for its number."""
        try:
            with self.engine.begin() as conn:
                latest = conn.execute(
                    select(flips)
                    .where(flips.c.route == change.route)
                    .order_by(flips.c.seq.desc())
                    .limit(1)
                ).first()
                same = latest is not None and (latest.new_mode, latest.digest) == (
                    change.new,
                    digest,
                )
                if once and same:
                    return None, False  # another gateway recorded this very flip
                seq = 1 if latest is None else latest.seq + 1
                flip = Flip(change.route, seq, at, change.old, change.new, trigger, digest)
                conn.execute(flips.insert().values(**_values(flip)))
        except IntegrityError:
            return None, True  # the next look sees whether it was this very flip
        return flip, False

    def read(self, route: str | None = None, limit: int | None = None) -> list[Flip]:
        """Newest first."""
        query = select(flips).order_by(flips.c.at.desc(), flips.c.seq.desc(), flips.c.route)
        if route is not None:
            query = query.where(flips.c.route == route)
        if limit is not None:
            query = query.limit(limit)
        with self.engine.connect() as conn:
            return [
                Flip(r.route, r.seq, r.at, r.old_mode, r.new_mode, r.triggered_by, r.digest)
                for r in conn.execute(query)
            ]


def _values(flip: Flip) -> dict[str, Any]:
    return {
        "route": flip.route, "seq": flip.seq, "at": flip.at, "old_mode": flip.old,
        "new_mode": flip.new, "triggered_by": flip.trigger, "digest": flip.digest,
    }  # fmt: skip


class FlipRecorder:
    """Records flips off the event loop; a store that fails is logged, never raised.

    `engine_for(table)` gives the database of the table's parity store (blocking: it runs in a
    worker thread), so flips sit beside the evidence they were made on. History is kept once a
    table involved has a shadow route: an all-legacy gateway creates no database.
    """

    def __init__(
        self,
        engine_for: Callable[[RouteTable], Engine] | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.engine_for = engine_for or EnginesByUrl()
        self.clock = clock
        self.failures = 0
        self._stores: dict[int, FlipStore] = {}
        self._tasks: set[asyncio.Future[Any]] = set()
        # one thread: flips are written in the order they happened, never racing each other
        self._executor: concurrent.futures.ThreadPoolExecutor | None = None

    def store_for(self, table: RouteTable) -> FlipStore:
        """Blocking; the dashboard reads through it too."""
        engine = self.engine_for(table)
        if id(engine) not in self._stores:
            self._stores[id(engine)] = FlipStore.on(engine)
        return self._stores[id(engine)]

    def started(self, table: RouteTable) -> None:
        """The table a gateway starts with, against what the store last recorded."""
        if not has_shadow(table):
            return

        at = self.clock()  # now, not when the thread gets to it: flips keep their order

        def work() -> list[Flip]:
            store = self.store_for(table)
            changes = diff_modes(store.latest_modes(), modes_of(table))
            return store.record(changes, at, "startup", table.digest)

        self._spawn(work)

    def reloaded(self, trigger: str, at: float, old: RouteTable, new: RouteTable) -> None:
        """An accepted reload: the flips it made, against the table before it."""
        changes = diff_tables(old, new)
        if changes and (has_shadow(old) or has_shadow(new)):
            digest = new.digest
            self._spawn(lambda: self.store_for(new).record(changes, at, trigger, digest))

    def _spawn(self, work: Callable[[], list[Flip]]) -> None:
        if self._executor is None:
            self._executor = concurrent.futures.ThreadPoolExecutor(1, "strangler-flips")
        future = asyncio.get_running_loop().run_in_executor(self._executor, self._guarded, work)
        self._tasks.add(future)
        future.add_done_callback(self._tasks.discard)

    def _guarded(self, work: Callable[[], list[Flip]]) -> list[Flip]:
        try:
            written = work()
        except (SQLAlchemyError, OSError) as exc:
            self.failures += 1
            log.warning("flip_history_failed", error=repr(exc))
            return []
        for flip in written:
            log.info("route_flipped", route=flip.route, change=flip.text, trigger=flip.trigger)
        return written

    async def drain(self) -> None:
        """Wait for the writes under way (tests, and shutdown)."""
        while self._tasks:
            await asyncio.gather(*list(self._tasks), return_exceptions=True)

    async def stop(self) -> None:
        await self.drain()
        if self._executor is not None:
            self._executor.shutdown(wait=False)
            self._executor = None
        if isinstance(self.engine_for, EnginesByUrl):
            self.engine_for.close()


def has_shadow(table: RouteTable) -> bool:
    """Whether the table keeps evidence in the parity store (shadow routes, and native and
    canary routes with their controls): its flips are kept beside it."""
    return keeps_evidence(table)


# flips a gateway makes at run time: they override the table, they are not a table's mode
RUNTIME_TRIGGERS = ("guard", "resume")


def record_flip(
    engine: Engine, route: str, old: str | None, new: str | None, trigger: str, at: float,
    digest: str,
) -> None:  # fmt: skip
    """One flip made at run time (a guard's rollback, a resume), in the engine's database."""
    FlipStore.on(engine).record([Change(route, old, new)], at, trigger, digest, once=False)


class EnginesByUrl:
    """An engine per store URL, for a recorder that shares no parity store (the CLI, tests)."""

    def __init__(self) -> None:
        self._engines: dict[str, Engine] = {}

    def __call__(self, table: RouteTable) -> Engine:
        url = table.shadow.store
        if url not in self._engines:
            self._engines[url] = create_store_engine(url)
        return self._engines[url]

    def close(self) -> None:
        for engine in self._engines.values():
            engine.dispose()
        self._engines.clear()
