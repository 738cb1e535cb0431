"""The parity store of one gateway process: opened in the lifespan, followed across reloads.

One `Store` and one `StoreWriter` per process, on the table's `shadow.store` URL (the table
loader has already let STRANGLER_STORE override it). The store is opened only once a table keeps
evidence (a shadow route; a canary, fallback or guard), so an all-legacy gateway creates none.
Opening is I/O (the tables are created when missing), so it runs in a worker thread.

On reload with a different store URL (noticed by the first shadow request on the new table)
the new store is opened in the background and, once open, takes the results from then on; the
old writer is flushed and closed. The operator changed the URL to move the evidence somewhere,
and a restart must never be needed for a table change. A store that cannot be opened leaves the
one in use (or none: results are then dropped and counted) and is logged; it is tried again at
the next table that names it. A store handed to
`create_app(store=...)` is the gateway's for its whole life: tables do not move it.
"""

from __future__ import annotations

import asyncio
import contextlib
import threading

from sqlalchemy.engine import make_url

from proxy.logs import get_logger
from proxy.table.model import RouteTable, keeps_evidence
from shadow.records import Result
from shadow.store import Store, StoreWriter, open_store

log = get_logger("proxy.modes.storage")


class Nowhere:
    """Where results go while no store is open: dropped, and counted."""

    def __init__(self) -> None:
        self.dropped = 0

    def put(self, result: Result, /) -> bool:
        self.dropped += 1
        return False


def wants_store(table: RouteTable) -> bool:
    return keeps_evidence(table)


class StoreHolder:
    def __init__(self, store: Store | None = None) -> None:
        self.fixed = store is not None
        self.store = store
        self.url: str | None = None
        self.writer: StoreWriter | None = StoreWriter(store) if store is not None else None
        self.nowhere = Nowhere()
        self._retired_drops = 0  # of writers closed when the store moved
        self._failed: str | None = None  # the URL that last failed to open
        self._opening: asyncio.Task[None] | None = None
        self._reader: Store | None = None
        self._reader_lock = threading.Lock()

    @property
    def sink(self) -> StoreWriter | Nowhere:
        return self.writer if self.writer is not None else self.nowhere

    def dropped(self) -> int:
        """Results lost since start: no store open, queue full, store failed or too slow."""
        current = self.writer.dropped if self.writer is not None else 0
        return self._retired_drops + current + self.nowhere.dropped

    async def start(self, table: RouteTable) -> None:
        if not self.fixed and wants_store(table):
            await self._open(table.shadow.store)

    def follow(self, table: RouteTable) -> None:
        """A table is in force: open its store if it differs (in the background)."""
        url = table.shadow.store
        if self.fixed or url in (self.url, self._failed) or not wants_store(table):
            return
        if self._opening is None or self._opening.done():
            self._opening = asyncio.get_running_loop().create_task(self._open(url))

    async def opened(self) -> None:
        """Wait for a store being opened in the background (for tests and shutdown)."""
        if self._opening is not None:
            await asyncio.shield(self._opening)

    async def _open(self, url: str) -> None:
        try:
            store = await asyncio.to_thread(open_store, url)
        except Exception as exc:
            self._failed = url
            log.error("parity_store_unavailable", store=_safe(url), error=repr(exc))
            return
        old_writer, old_store = self.writer, self.store
        self.store, self.url, self.writer, self._failed = store, url, StoreWriter(store), None
        log.info("parity_store_opened", store=_safe(url))
        if old_writer is not None:
            await old_writer.close()
            self._retired_drops += old_writer.dropped
        if old_store is not None:
            await asyncio.to_thread(old_store.close)

    def reader(self, table: RouteTable) -> Store:
        """The store to read reports from (blocking: call it in a worker thread): the one in
        use, else the table's, opened for reading when a gateway without shadow routes is
        asked for the evidence earlier runs stored."""
        if self.store is not None:
            return self.store
        with self._reader_lock:  # two reports at once must not open two engines
            if self._reader is None:
                self._reader = open_store(table.shadow.store)
            return self._reader

    async def stop(self) -> None:
        if self._opening is not None and not self._opening.done():
            self._opening.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._opening
        if self.writer is not None:
            await self.writer.close()  # flushes what is queued, within its deadline
        if self.store is not None and not self.fixed:
            await asyncio.to_thread(self.store.close)
        if self._reader is not None:
            await asyncio.to_thread(self._reader.close)
            self._reader = None


def _safe(url: str) -> str:
    """A store URL for a log line: never its password."""
    try:
        return make_url(url).render_as_string(hide_password=True)
    except Exception:
        return "(unparsable URL)"
