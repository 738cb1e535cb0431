"""`StoreWriter`: results in, batches out, off the request path; a store can never hold it up.

`put` never blocks and never raises: it appends to a bounded queue, and a full queue drops the
result and counts it. A background task wakes every `interval` seconds (or sooner, when
`batch_size` results wait), folds what is queued into one `Batch` and hands it to the store on
a daemon thread of its own, so synchronous SQLAlchemy never runs on the event loop and a store
that hangs cannot keep the process from exiting.

The store may be given, or opened by the writer itself (`opener`), on the same thread, in the
background: the caller serves at once. While the first attempt runs, results wait in the queue;
once an attempt has failed, results are dropped and counted until one succeeds, tried again
after `retry` seconds, doubling up to `max_retry`. `state` and `error` say how it goes.

Counting. Every result put is, in the end, exactly one of: `written` (in a batch the store
accepted), `dropped` (queue full, no store, the store refused its batch, or still queued when
`close` gave up) or `in_doubt` (in the batch the store was writing when `close` gave up: it may
yet land). The counters only grow, and stop growing once `close` has returned, so a gateway that
retires a writer reads them once (`Totals` does the sums across writers). Drops are also written
to the store, as a count, with the next batch that succeeds.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import enum
import logging
import time
import weakref
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

from shadow.records import Batch, Recorded, Result, fold
from shadow.threads import DaemonWorker

log = logging.getLogger("strangler.shadow")


class Sink(Protocol):
    bucket_seconds: int

    def write(self, batch: Batch, /) -> None: ...


class StoreState(enum.Enum):
    OPEN = "open"
    OPENING = "opening"  # the first attempt is running: results wait in the queue
    UNAVAILABLE = "unavailable"  # no store: results are dropped and counted


@dataclass(frozen=True, slots=True)
class WriterStats:
    written: int
    dropped: int
    in_doubt: int
    failures: int  # batches the store refused
    open_failures: int  # attempts to open the store that failed
    queued: int
    state: StoreState
    error: str | None  # why the store is not open (the last failed attempt)


class StoreWriter:
    def __init__(
        self,
        store: Sink | None = None,
        *,
        opener: Callable[[], Sink] | None = None,
        max_queue: int = 10_000,
        batch_size: int = 500,
        interval: float = 0.5,
        retry: float = 1.0,
        max_retry: float = 60.0,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.store = store
        self.opener = opener
        self.max_queue = max_queue
        self.batch_size = batch_size
        self.interval = interval
        self.retry = retry
        self.max_retry = max_retry
        self.clock = clock
        self.dropped = 0
        self.written = 0
        self.in_doubt = 0
        self.failures = 0
        self.open_failures = 0
        self.error: str | None = None
        if store is not None:
            self.state = StoreState.OPEN
        elif opener is not None:
            self.state = StoreState.OPENING
        else:
            self.state, self.error = StoreState.UNAVAILABLE, "no store"
        self._unreported_drops = 0
        self._queue: collections.deque[Result | Recorded] = collections.deque()
        self._writing = 0  # results in the batch on the store's thread now
        self._wake = asyncio.Event()
        self._settled = asyncio.Event()  # the first attempt to open has ended, or none was due
        if self.state is not StoreState.OPENING:
            self._settled.set()
        self._task: asyncio.Task[None] | None = None
        self._closing = False
        self._closed = False
        self._worker = DaemonWorker("strangler-store")

    def start(self) -> None:
        if self._task is None:
            self._task = asyncio.get_running_loop().create_task(self._run())

    def attach(self, store: Sink) -> None:
        """Write to `store` from now on (a store opened elsewhere)."""
        self.store, self.state, self.error = store, StoreState.OPEN, None
        self._settled.set()

    def put(self, result: Result | Recorded) -> bool:
        """Queue a result (or a recorded request); False when it was dropped. Never raises,
        never waits."""
        if self._task is None and not self._closing:
            with contextlib.suppress(RuntimeError):  # no running loop: flush() writes later
                self.start()
        if self._closing or self.state is StoreState.UNAVAILABLE:
            self._drop(1)
            return False
        if len(self._queue) >= self.max_queue:
            self._drop(1)
            return False
        self._queue.append(result)
        if len(self._queue) >= self.batch_size:
            self._wake.set()
        return True

    @property
    def queued(self) -> int:
        return len(self._queue)

    def stats(self) -> WriterStats:
        return WriterStats(
            self.written, self.dropped, self.in_doubt, self.failures, self.open_failures,
            len(self._queue), self.state, self.error,
        )  # fmt: skip

    async def wait_settled(self) -> StoreState:
        """Wait for the first attempt to open the store to end; the state it left."""
        await self._settled.wait()
        return self.state

    async def flush(self) -> None:
        """Write everything queued now (used by close, and by tests); nothing while no store is
        open."""
        while self._queue and self.store is not None:
            await self._write_some()

    async def close(self, deadline: float = 5.0) -> WriterStats:
        """Stop taking results and write what is queued, giving up after `deadline` seconds:
        what is still queued then is dropped, the batch being written is in doubt, and the
        counters are final."""
        if self._closed:
            return self.stats()
        self._closing = True
        self._wake.set()
        try:
            async with asyncio.timeout(deadline):
                if self._task is not None:
                    # never cancelled mid-write while there is time: a batch already on the
                    # store's thread lands, and is counted as written
                    await asyncio.shield(self._task)
                await self.flush()
        except TimeoutError:
            log.warning(
                "parity store writer gave up after %gs: %d results dropped, %d in doubt",
                deadline, len(self._queue), self._writing,
            )  # fmt: skip
        if self._task is not None and not self._task.done():
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        self.in_doubt += self._writing
        self._writing = 0
        self._drop(len(self._queue))
        self._queue.clear()
        self._closed = True
        self._settled.set()
        self._worker.stop()
        return self.stats()

    async def _run(self) -> None:
        delay = self.retry
        while not self._closing:
            if self.store is None:
                if self.opener is None or not await self._open():
                    await self._sleep(delay)
                    delay = min(delay * 2, self.max_retry)
                continue
            await self._sleep(self.interval)
            try:
                await self._write_some()
            except Exception:  # a bug of ours must not stop the writing for good
                log.exception("parity store writer failed")

    async def _sleep(self, seconds: float) -> None:
        """Until `seconds` pass, a full batch waits, or close is called."""
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._wake.wait(), seconds)
        self._wake.clear()

    async def _open(self) -> bool:
        assert self.opener is not None
        try:
            store = await self._worker.run(self.opener)
        except Exception as exc:
            self.open_failures += 1
            self.error = f"{type(exc).__name__}: {exc}"
            self.state = StoreState.UNAVAILABLE
            self._drop(len(self._queue))
            self._queue.clear()
            self._settled.set()
            log.warning("parity store cannot be opened; results are dropped: %s", self.error)
            return False
        self.attach(store)
        return True

    async def _write_some(self) -> None:
        store = self.store
        if store is None:
            return
        taken = [self._queue.popleft() for _ in range(min(len(self._queue), self.batch_size))]
        drops, self._unreported_drops = self._unreported_drops, 0
        if not taken and not drops:
            return
        try:
            batch = fold(taken, store.bucket_seconds, drops, self.clock())
            self._writing = len(taken)
            # no timeout here: a write cannot be stopped on its thread, and counting it as
            # dropped while it may still land would count it twice; the store's own timeouts
            # bound it, a slow store fills the queue (and `put` drops from there), and `close`
            # gives up on it as in doubt
            await self._worker.run(store.write, batch)
        except Exception as exc:  # the store's trouble is never the caller's
            self._writing = 0
            self.failures += 1
            self._drop(len(taken))
            self._unreported_drops += drops
            log.warning("parity store write failed; %d results dropped: %r", len(taken), exc)
        else:
            self._writing = 0
            self.written += len(taken)

    def _drop(self, n: int) -> None:
        self.dropped += n
        self._unreported_drops += n


class Totals:
    """Counters summed over every writer a gateway has had, each writer counted once: a writer
    retired when the store moves keeps its final counts here, and retiring it again (or a
    writer never tracked) changes nothing."""

    def __init__(self) -> None:
        self._live: dict[int, StoreWriter] = {}
        self._retired: weakref.WeakSet[StoreWriter] = weakref.WeakSet()
        self._dropped = 0
        self._written = 0
        self._in_doubt = 0

    def track(self, writer: StoreWriter) -> None:
        if writer not in self._retired:
            self._live[id(writer)] = writer

    def retire(self, writer: StoreWriter) -> None:
        """Call after `writer.close()`: its counters are final."""
        if self._live.pop(id(writer), None) is None:
            return
        self._retired.add(writer)
        self._dropped += writer.dropped
        self._written += writer.written
        self._in_doubt += writer.in_doubt

    @property
    def dropped(self) -> int:
        return self._dropped + sum(w.dropped for w in self._live.values())

    @property
    def written(self) -> int:
        return self._written + sum(w.written for w in self._live.values())

    @property
    def in_doubt(self) -> int:
        return self._in_doubt + sum(w.in_doubt for w in self._live.values())
