"""`StoreWriter`: results in, batches out, off the request path.

`put` never blocks and never raises: it appends to a bounded queue, and a full queue drops the
result and counts it. A background task wakes every `interval` seconds (or sooner, when
`batch_size` results wait), folds what is queued into one `Batch` and hands it to the store in a
dedicated worker thread, so synchronous SQLAlchemy never runs on the event loop. A store that is
slow makes the queue fill up, and new results are dropped; a store that fails loses that batch;
both are counted (`dropped`), and the count itself is written with the next batch that succeeds.
`close` flushes what is queued, within a deadline.
"""

from __future__ import annotations

import asyncio
import collections
import concurrent.futures
import contextlib
import logging
import time
from collections.abc import Callable
from typing import Protocol

from shadow.records import Batch, Result, fold

log = logging.getLogger("strangler.shadow")


class Sink(Protocol):
    bucket_seconds: int

    def write(self, batch: Batch, /) -> None: ...


class StoreWriter:
    def __init__(
        self,
        store: Sink,
        *,
        max_queue: int = 10_000,
        batch_size: int = 500,
        interval: float = 0.5,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.store = store
        self.max_queue = max_queue
        self.batch_size = batch_size
        self.interval = interval
        self.clock = clock
        self.dropped = 0  # results lost: queue full, store failed or too slow
        self.written = 0  # results in batches the store accepted
        self.failures = 0  # batches the store refused
        self._unreported_drops = 0
        self._queue: collections.deque[Result] = collections.deque()
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._closing = False
        self._executor = concurrent.futures.ThreadPoolExecutor(1, "strangler-store")

    def start(self) -> None:
        if self._task is None:
            self._task = asyncio.get_running_loop().create_task(self._run())

    def put(self, result: Result) -> bool:
        """Queue a result; False when it was dropped. Never raises, never waits."""
        if self._task is None and not self._closing:
            with contextlib.suppress(RuntimeError):  # no running loop: flush() writes later
                self.start()
        if self._closing or len(self._queue) >= self.max_queue:
            self._drop(1)
            return False
        self._queue.append(result)
        if len(self._queue) >= self.batch_size:
            self._wake.set()
        return True

    @property
    def queued(self) -> int:
        return len(self._queue)

    async def flush(self) -> None:
        """Write everything queued now (used by close, and by tests)."""
        while self._queue:
            await self._write_some()

    async def close(self, deadline: float = 5.0) -> None:
        """Stop taking results and write what is queued, within `deadline` seconds."""
        self._closing = True
        self._wake.set()
        try:
            async with asyncio.timeout(deadline):
                if self._task is not None:
                    # never cancelled mid-write: a batch already in the store's thread lands
                    # anyway, and must be counted as written, not lost
                    await asyncio.shield(self._task)
                await self.flush()
        except TimeoutError:
            self._drop(len(self._queue))
            self._queue.clear()
        self._executor.shutdown(wait=False, cancel_futures=True)

    async def _run(self) -> None:
        while not self._closing:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), self.interval)
            self._wake.clear()
            try:
                await self._write_some()
            except Exception:  # a bug of ours must not stop the writing for good
                log.exception("parity store writer failed")

    async def _write_some(self) -> None:
        taken = [self._queue.popleft() for _ in range(min(len(self._queue), self.batch_size))]
        drops, self._unreported_drops = self._unreported_drops, 0
        if not taken and not drops:
            return
        loop = asyncio.get_running_loop()
        try:
            batch = fold(taken, self.store.bucket_seconds, drops, self.clock())
            # no timeout here: a write cannot be cancelled in its thread, and counting it as
            # dropped while it may still land would count it twice; a slow store instead fills
            # the queue, and `put` drops from there
            await loop.run_in_executor(self._executor, self.store.write, batch)
        except Exception as exc:  # the store's trouble is never the caller's
            self.failures += 1
            self._drop(len(taken))
            self._unreported_drops += drops
            log.warning("parity store write failed; %d results dropped: %r", len(taken), exc)
        else:
            self.written += len(taken)

    def _drop(self, n: int) -> None:
        self.dropped += n
        self._unreported_drops += n
