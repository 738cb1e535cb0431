"""The parity store of one gateway process: opened in the background, followed across reloads.

One `StoreWriter` per process, on the table's `shadow.store` URL (the table loader has already
let STRANGLER_STORE override it). The store is opened only once a table keeps evidence (a shadow
route; a canary, fallback or guard; requests kept by `record:`), so an all-legacy gateway
creates no database. Opening never holds the gateway: the writer opens its store on a thread of
its own, under connect and statement timeouts, while the gateway serves from the first second;
results wait in a bounded queue meanwhile, and are dropped and counted while the store cannot be
reached (it is tried again, with back-off).

On reload with a different store URL (noticed by the first shadow request on the new table)
the new store is opened in the background and, once open, takes the results from then on; the
old writer is flushed (within the close deadline) and retired. The operator changed the URL to
move the evidence somewhere, and a restart must never be needed for a table change. A store
that cannot be opened leaves the one in use and is logged; it is tried again at the next table
that names it. A store handed to `create_app(store=...)` is the gateway's for its whole life.

Counters: `Totals` counts each writer once, so a reload that moves the store never counts a
writer's drops twice; at shutdown a store that hangs gets `close_deadline` seconds, then the
process goes on, counting what it dropped and what it left in doubt.
"""

from __future__ import annotations

import asyncio
import contextlib
import threading

from sqlalchemy.engine import make_url

from proxy.logs import get_logger
from proxy.table.model import RouteTable, keeps_evidence
from shadow.records import Recorded, Result
from shadow.store import Store, StoreWriter, open_store
from shadow.writer import StoreState, Totals

log = get_logger("proxy.modes.storage")


class Nowhere:
    """Where results go while no store is wanted: dropped, and counted."""

    def __init__(self) -> None:
        self.dropped = 0

    def put(self, result: Result | Recorded, /) -> bool:
        self.dropped += 1
        return False


def wants_store(table: RouteTable) -> bool:
    """A table that keeps evidence, or records requests, needs the parity store."""
    return keeps_evidence(table) or any(route.record is not None for route in table.routes)


class StoreHolder:
    def __init__(self, store: Store | None = None, *, close_deadline: float = 5.0) -> None:
        self.fixed = store is not None
        self.url: str | None = None
        self.close_deadline = close_deadline
        self.totals = Totals()
        self.writer: StoreWriter | None = None
        if store is not None:
            self.writer = StoreWriter(store)
            self.totals.track(self.writer)
        self.nowhere = Nowhere()
        self._failed: str | None = None  # the URL that last failed to open
        self._opening: asyncio.Task[None] | None = None  # reports how the first open went
        self._moving: asyncio.Task[None] | None = None
        self._reader: Store | None = None
        self._reader_lock = threading.Lock()

    @property
    def sink(self) -> StoreWriter | Nowhere:
        return self.writer if self.writer is not None else self.nowhere

    @property
    def store(self) -> Store | None:
        """The store results are written to, once it is open."""
        writer = self.writer
        if writer is None or writer.state is not StoreState.OPEN:
            return None
        found = writer.store
        return found if isinstance(found, Store) else None

    def state(self) -> tuple[str, str | None]:
        """How the store is doing, for health: open | opening | unavailable | none."""
        if self.writer is None:
            return ("none", None)
        return (self.writer.state.value, self.writer.error)

    def dropped(self) -> int:
        """Results lost since start: no store open, queue full, store failed or too slow."""
        return self.totals.dropped + self.nowhere.dropped

    def _writer_for(self, url: str) -> StoreWriter:
        writer = StoreWriter(opener=lambda: open_store(url))
        self.totals.track(writer)
        writer.start()
        return writer

    async def start(self, table: RouteTable) -> None:
        """Begin opening the table's store; returns at once (the gateway serves meanwhile)."""
        if self.fixed:
            if self.writer is not None:
                self.writer.start()
            return
        if wants_store(table):
            self.url = table.shadow.store
            self.writer = self._writer_for(self.url)
            self._opening = asyncio.get_running_loop().create_task(self._report(self.writer))

    async def _report(self, writer: StoreWriter) -> None:
        state = await writer.wait_settled()
        if state is StoreState.OPEN:
            log.info("parity_store_opened", store=_safe(self.url or ""))
        else:
            log.error("parity_store_unavailable", store=_safe(self.url or ""), error=writer.error)

    def follow(self, table: RouteTable) -> None:
        """A table is in force: open its store if it differs (in the background)."""
        url = table.shadow.store
        if self.fixed or url in (self.url, self._failed) or not wants_store(table):
            return
        if self._moving is None or self._moving.done():
            self._moving = asyncio.get_running_loop().create_task(self._move(url))

    async def opened(self) -> None:
        """Wait until the store being opened or moved to has settled (tests, shutdown)."""
        for task in (self._opening, self._moving):
            if task is not None:
                await asyncio.shield(task)
        if self.writer is not None:
            await self.writer.wait_settled()

    async def _move(self, url: str) -> None:
        if self.writer is None:  # the first table with a shadow route
            self.url, self.writer = url, self._writer_for(url)
            await self._report(self.writer)
            return
        new = self._writer_for(url)
        if await new.wait_settled() is not StoreState.OPEN:
            self._failed = url
            log.error("parity_store_unavailable", store=_safe(url), error=new.error)
            await new.close(0)
            self.totals.retire(new)
            return
        old, self.writer, self.url, self._failed = self.writer, new, url, None
        log.info("parity_store_opened", store=_safe(url))
        await self._retire(old)

    async def _retire(self, writer: StoreWriter) -> None:
        stats = await writer.close(self.close_deadline)
        self.totals.retire(writer)
        if stats.in_doubt or stats.queued:
            log.warning(
                "parity_store_closed_late",
                dropped=stats.dropped,
                in_doubt=stats.in_doubt,
                error=stats.error,
            )
        store = writer.store
        if isinstance(store, Store) and not self.fixed:
            await _closed(store, self.close_deadline)

    def reader(self, table: RouteTable) -> Store:
        """The store to read reports from (blocking: call it in a worker thread): the one in
        use, else the table's, opened for reading when a gateway without shadow routes is
        asked for the evidence earlier runs stored."""
        if (store := self.store) is not None:
            return store
        with self._reader_lock:  # two reports at once must not open two engines
            if self._reader is None:
                self._reader = open_store(table.shadow.store)
            return self._reader

    async def stop(self) -> None:
        for task in (self._opening, self._moving):
            if task is not None and not task.done():
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task
        if self.writer is not None:
            await self._retire(self.writer)  # flushes what is queued, within the deadline
            self.writer = None
        if self._reader is not None:
            await _closed(self._reader, self.close_deadline)
            self._reader = None


def _settle(future: asyncio.Future[None]) -> None:
    if not future.done():
        future.set_result(None)


async def _closed(store: Store, deadline: float) -> None:
    """Close a store's engine on a daemon thread, waiting at most `deadline` seconds for it."""
    done = asyncio.get_running_loop().create_future()

    def close() -> None:
        with contextlib.suppress(Exception):
            store.close()
        done.get_loop().call_soon_threadsafe(_settle, done)

    threading.Thread(target=close, name="strangler-store-close", daemon=True).start()
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(done, deadline)


def _safe(url: str) -> str:
    """A store URL for a log line: never its password."""
    try:
        return make_url(url).render_as_string(hide_password=True)
    except Exception:
        return "(unparsable URL)"
