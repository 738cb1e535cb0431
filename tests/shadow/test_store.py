"""The parity store on SQLite, MariaDB and PostgreSQL: upserts that add up, bounded samples,
several writers at once, time filtering, and a store that fails or stalls."""

from __future__ import annotations

import asyncio
import threading
from pathlib import Path

from sqlalchemy import text

from shadow.compare import Difference, Kind, Outcome
from shadow.records import (
    SAMPLES_PER_FIELD,
    Batch,
    RequestInfo,
    Result,
    Sample,
    Source,
    fold,
)
from shadow.store import Store, StoreWriter, open_store

DIFF = Difference("body.data[3].name", "body.data[*].name", Kind.VALUE)


def mismatch(at: float, rid: str = "r-1", route: str = "users.list") -> Result:
    sample = Sample(RequestInfo("GET", "/api/users", "page=1", rid), '{"p":1}', '{"c":1}')
    return Result(route, at, Outcome.MISMATCHED, Source.PC, 0.004, 0.03, (DIFF,), sample)


def matched(at: float, route: str = "users.list") -> Result:
    return Result(route, at, Outcome.MATCHED, Source.PC, 0.004, 0.03)


def test_sqlite_url_creates_parent_directories_and_uses_wal(tmp_path: Path) -> None:
    store = open_store(f"sqlite:///{tmp_path}/deep/var/parity.db")
    with store.engine.connect() as conn:
        assert conn.execute(text("PRAGMA journal_mode")).scalar() == "wal"
    assert (tmp_path / "deep" / "var" / "parity.db").exists()
    store.close()


def test_counts_fields_latency_and_samples_round_trip(store: Store) -> None:
    batch = fold([mismatch(120.0), matched(121.0), matched(185.0)], 60)
    store.write(batch)
    store.write(batch)  # a second batch adds, never overwrites
    rows = store.read_rows()
    by_bucket = {c.bucket: c.counts for c in rows.counts}
    assert by_bucket[120]["matched"] == 2 and by_bucket[120]["mismatched"] == 2
    assert by_bucket[180]["matched"] == 2
    assert [(f.field, f.kind, f.n) for f in rows.fields] == [("body.data[*].name", "value", 2)]
    assert sum(x.n for x in rows.latency if x.side == "candidate") == 6
    assert len(rows.samples) == 1
    assert rows.samples[0].path == "body.data[3].name"
    assert rows.samples[0].request_id == "r-1"


def test_samples_are_bounded_per_route_and_field(store: Store) -> None:
    for i in range(40):
        store.write(fold([mismatch(100.0 + i, rid=f"req-{i}")], 60))
    samples = store.read_rows().samples
    assert 1 < len(samples) <= SAMPLES_PER_FIELD


def test_read_rows_filters_by_time_and_route(store: Store) -> None:
    store.write(fold([matched(60.0), matched(600.0), matched(600.0, route="other")], 60))
    rows = store.read_rows(since=590.0, route="users.list")
    assert [(c.route, c.bucket) for c in rows.counts] == [("users.list", 600)]


async def test_two_writers_into_one_store_add_up(store_url: str) -> None:
    stores = [open_store(store_url), open_store(store_url)]
    writers = [StoreWriter(s, batch_size=7, interval=0.01) for s in stores]
    for i in range(100):
        for w in writers:
            assert w.put(mismatch(120.0 + (i % 3), rid=f"req-{i}") if i % 2 else matched(120.0))
        if i % 10 == 0:
            await asyncio.sleep(0)
    for w in writers:
        await w.close()
    counts = stores[0].read_rows().counts
    total = {k: sum(c.counts[k] for c in counts) for k in ("matched", "mismatched")}
    assert total == {"matched": 100, "mismatched": 100}
    assert sum(w.dropped for w in writers) == 0
    for s in stores:
        s.close()


class FailingStore:
    bucket_seconds = 60

    def __init__(self) -> None:
        self.calls = 0

    def write(self, batch: object) -> None:
        self.calls += 1
        raise RuntimeError("disk on fire")


class StallingStore:
    bucket_seconds = 60

    def __init__(self) -> None:
        self.entered = threading.Event()
        self.release = threading.Event()
        self.batches: list[Batch] = []

    def write(self, batch: object) -> None:
        self.entered.set()
        self.release.wait(5)
        assert isinstance(batch, Batch)
        self.batches.append(batch)


async def test_a_failing_store_drops_and_counts_and_the_caller_never_sees_it() -> None:
    writer = StoreWriter(FailingStore(), interval=0.01)
    accepted = [writer.put(matched(120.0)) for _ in range(10)]
    await writer.flush()
    assert all(accepted)
    assert writer.dropped == 10 and writer.failures == 1 and writer.written == 0
    await writer.close()


async def test_a_stalled_store_fills_the_queue_then_drops_without_blocking_put() -> None:
    store = StallingStore()
    writer = StoreWriter(store, max_queue=5, batch_size=5, interval=0.01)
    for _ in range(5):
        writer.put(matched(120.0))
    assert await asyncio.to_thread(store.entered.wait, 5)  # the first batch is now stuck there
    results = [writer.put(matched(120.0)) for _ in range(20)]  # put is sync: it cannot wait
    assert results.count(False) == 15 and writer.dropped == 15
    store.release.set()
    await writer.close()
    assert writer.written == 10
    assert sum(n for (route, _, column), n in store.batches[-1].counts.items()
               if (route, column) == ("", "dropped")) == 15  # fmt: skip


async def test_drops_are_written_to_the_store_with_the_next_batch(tmp_path: Path) -> None:
    store = open_store(f"sqlite:///{tmp_path}/p.db")
    writer = StoreWriter(store, max_queue=2, interval=10)
    for _ in range(5):
        writer.put(matched(120.0))
    await writer.close()
    rows = store.read_rows()
    assert sum(c.counts["dropped"] for c in rows.counts) == 3
    assert sum(c.counts["matched"] for c in rows.counts) == 2
    store.close()


def test_keys_are_case_sensitive_on_every_backend(store: Store) -> None:
    upper = Difference("body.Name", "body.Name", Kind.VALUE)
    lower = Difference("body.name", "body.name", Kind.VALUE)
    store.write(fold([Result("r", 1.0, Outcome.MISMATCHED, differences=(upper, lower))], 60))
    assert sorted(f.field for f in store.read_rows().fields) == ["body.Name", "body.name"]


def test_text_survives_the_round_trip_on_every_backend(store: Store) -> None:
    sample = Sample(RequestInfo("GET", "/café", "q=é", "r-ü"), '{"n":"Zoë 😀"}', '{"n":"Zoe"}')
    diff = Difference("body.n", "body.n", Kind.VALUE)
    store.write(fold([Result("r", 1.0, Outcome.MISMATCHED, differences=(diff,), sample=sample)]))
    [row] = store.read_rows().samples
    assert (row.request_path, row.primary) == ("/café", '{"n":"Zoë 😀"}')


async def test_an_in_memory_sqlite_store_is_one_database_for_every_thread() -> None:
    store = open_store("sqlite://")
    writer = StoreWriter(store)
    writer.put(matched(120.0))
    await writer.close()
    assert [c.counts["matched"] for c in store.read_rows().counts] == [1]


def test_opening_a_store_twice_keeps_its_rows(store_url: str) -> None:
    first = open_store(store_url)
    first.write(fold([matched(120.0)], 60))
    again = open_store(store_url)  # a second gateway starting on the same store
    assert [c.counts["matched"] for c in again.read_rows().counts] == [1]
    first.close()
    again.close()


def test_a_route_filter_keeps_the_store_drops(store: Store) -> None:
    store.write(fold([matched(120.0), matched(120.0, route="other")], 60, dropped=4, now=120.0))
    rows = store.read_rows(route="users.list")
    assert sorted((c.route, c.counts["matched"], c.counts["dropped"]) for c in rows.counts) == [
        ("", 0, 4),
        ("users.list", 1, 0),
    ]


def test_prune_deletes_what_is_older_than_the_cutoff(store: Store) -> None:
    store.write(fold([mismatch(60.0, rid="old"), mismatch(600.0, rid="new")], 60))
    assert store.prune(before=300.0) > 0
    rows = store.read_rows()
    assert {c.bucket for c in rows.counts} == {600}
    assert {f.bucket for f in rows.fields} == {600}
    assert [s.request_id for s in rows.samples] == ["new"]


def test_times_keep_their_seconds_on_every_backend(store: Store) -> None:
    at = 1_718_000_123.25  # a 4-byte FLOAT would hold it only to within minutes
    store.write(fold([mismatch(at)], 60))
    assert [s.at for s in store.read_rows().samples] == [at]


def test_a_mariadb_store_with_times_as_4_byte_floats_is_widened_when_opened(
    tmp_path: Path,
) -> None:
    from tests.shadow.conftest import store_at

    with store_at("mariadb", tmp_path) as url:
        old = open_store(url)
        with old.engine.begin() as conn:  # as stores made before times were DOUBLE
            conn.exec_driver_sql("ALTER TABLE shadow_samples MODIFY `at` FLOAT NOT NULL")
            conn.exec_driver_sql("ALTER TABLE shadow_counts MODIFY primary_seconds FLOAT NOT NULL")
        old.close()
        store = open_store(url)
        at = 1_718_000_123.25
        store.write(fold([mismatch(at)], 60))
        assert [s.at for s in store.read_rows().samples] == [at]
        store.close()
