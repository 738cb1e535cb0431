"""A parity store that cannot stop traffic: opens and statements bounded by timeouts, a writer
that opens its store in the background and drops (and counts) while there is none, a shutdown
that gives up on a hung store, tables re-created when the database was emptied, and drop counts
that add up across writers."""

from __future__ import annotations

import asyncio
import socket
import sqlite3
import subprocess
import sys
import textwrap
import threading
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.exc import OperationalError

from shadow.compare import Outcome
from shadow.records import Batch, Result
from shadow.store import Store, StoreMissing, Timeouts, open_store
from shadow.tables import metadata
from shadow.writer import StoreState, StoreWriter, Totals
from tests.shadow.conftest import store_at
from tests.shadow.helpers import until

HANG_GUARD = 30.0  # seconds a test waits before calling a hang a hang; never a measured time


def matched(at: float = 120.0, route: str = "users.list") -> Result:
    return Result(route, at, Outcome.MATCHED)


@pytest.fixture
def silent_server() -> Iterator[int]:
    """A TCP server on loopback that accepts every connection and never says a word."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(16)
    held: list[socket.socket] = []

    def accept() -> None:
        while True:
            try:
                conn, _ = server.accept()
            except OSError:
                return
            held.append(conn)

    threading.Thread(target=accept, daemon=True).start()
    yield int(server.getsockname()[1])
    server.close()
    for conn in held:
        conn.close()


def in_thread(call: Callable[[], object]) -> BaseException | object:
    """Run `call` on a thread and wait for it, at most HANG_GUARD; its error, or its value."""
    outcome: list[BaseException | object] = []

    def run() -> None:
        try:
            outcome.append(call())
        except BaseException as exc:
            outcome.append(exc)

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    thread.join(HANG_GUARD)
    assert outcome, "still waiting: the call hung"
    return outcome[0]


@pytest.mark.parametrize(
    "scheme",
    ["mysql+pymysql", "mysql+mysqldb", "postgresql+psycopg"],
    ids=["pymysql", "mysqlclient", "psycopg"],
)
def test_a_server_that_accepts_and_never_answers_fails_the_open_instead_of_hanging(
    silent_server: int, scheme: str
) -> None:
    url = f"{scheme}://strangler@127.0.0.1:{silent_server}/parity"
    outcome = in_thread(lambda: open_store(url, timeouts=Timeouts(connect=0.5)))
    assert isinstance(outcome, OperationalError)


def test_a_locked_fresh_sqlite_database_fails_the_open_instead_of_hanging(
    tmp_path: Path,
) -> None:
    path = tmp_path / "parity.db"
    locker = sqlite3.connect(path, isolation_level=None)
    locker.execute("BEGIN EXCLUSIVE")  # another process is creating it, say
    try:
        outcome = in_thread(lambda: open_store(f"sqlite:///{path}", timeouts=Timeouts(busy=0.2)))
    finally:
        locker.close()
    assert isinstance(outcome, OperationalError)
    assert "locked" in str(outcome)
    open_store(f"sqlite:///{path}").close()  # once the lock is gone, it opens


SLEEP = {"mysql": "SELECT SLEEP({s})", "postgresql": "SELECT pg_sleep({s})"}


@pytest.mark.parametrize("kind", ["mariadb", "postgresql"])
def test_statements_get_the_statement_budget_not_the_connect_one(kind: str, tmp_path: Path) -> None:
    with store_at(kind, tmp_path) as url:
        patient = open_store(url, timeouts=Timeouts(connect=0.3, statement=10.0))
        impatient = open_store(url, timeouts=Timeouts(connect=0.3, statement=0.5))
        try:
            sleep = SLEEP[patient.engine.dialect.name.replace("mariadb", "mysql")]
            with patient.engine.connect() as conn:
                conn.execute(text(sleep.format(s=1)))  # longer than connect: allowed
            with pytest.raises(OperationalError), impatient.engine.connect() as conn:
                conn.execute(text(sleep.format(s=3)))
        finally:
            patient.close()
            impatient.close()


def test_a_reader_never_creates_a_missing_sqlite_store(tmp_path: Path) -> None:
    path = tmp_path / "var" / "parity.db"
    with pytest.raises(StoreMissing, match=str(path)):
        open_store(f"sqlite:///{path}", create=False)
    assert not path.parent.exists()


def drop_all_tables(store: Store) -> None:
    metadata.drop_all(store.engine)


def test_a_store_whose_tables_were_dropped_between_writes_creates_them_again(
    store: Store,
) -> None:
    from shadow.records import fold

    store.write(fold([matched()], 60))
    drop_all_tables(store)
    store.write(fold([matched(), matched()], 60))
    assert [c.counts["matched"] for c in store.read_rows().counts] == [2]


def test_a_mariadb_store_database_dropped_and_created_again_recovers(tmp_path: Path) -> None:
    from shadow.records import fold

    with store_at("mariadb", tmp_path) as url:
        store = open_store(url)
        store.write(fold([matched()], 60))
        name = store.engine.url.database
        with store.engine.connect() as conn:  # a pooled connection now sits in that database
            conn.execute(text("SELECT 1"))
        admin = open_store(url, create=False)
        with admin.engine.begin() as conn:
            conn.execute(text(f"DROP DATABASE `{name}`"))
            conn.execute(text(f"CREATE DATABASE `{name}`"))
        admin.close()
        store.write(fold([matched()], 60))
        assert [c.counts["matched"] for c in store.read_rows().counts] == [1]
        store.close()


class OpenedLater:
    """An opener that fails `failures` times, then gives a store; it can be held shut."""

    def __init__(self, store: Store, failures: int = 0) -> None:
        self.store = store
        self.failures = failures
        self.attempts = 0
        self.gate = threading.Event()
        self.gate.set()

    def __call__(self) -> Store:
        self.attempts += 1
        assert self.gate.wait(HANG_GUARD)
        if self.attempts <= self.failures:
            raise OperationalError("connect", None, Exception("connection refused"))
        return self.store


async def test_results_wait_while_the_store_opens_and_are_written_once_it_is_open(
    tmp_path: Path,
) -> None:
    store = open_store(f"sqlite:///{tmp_path}/p.db")
    opener = OpenedLater(store)
    opener.gate.clear()
    writer = StoreWriter(opener=opener, interval=0.01)
    assert writer.put(matched())  # the caller is served while the store is opening
    assert writer.state is StoreState.OPENING
    opener.gate.set()
    assert await writer.wait_settled() is StoreState.OPEN
    await until(lambda: writer.written == 1)
    stats = await writer.close()
    assert (stats.written, stats.dropped, stats.in_doubt) == (1, 0, 0)
    assert [c.counts["matched"] for c in store.read_rows().counts] == [1]
    store.close()


async def test_without_a_store_results_are_dropped_and_counted_until_it_opens(
    tmp_path: Path,
) -> None:
    store = open_store(f"sqlite:///{tmp_path}/p.db")
    opener = OpenedLater(store, failures=2)
    writer = StoreWriter(opener=opener, interval=0.01, retry=0.01)
    writer.put(matched())
    assert await writer.wait_settled() is StoreState.UNAVAILABLE
    assert writer.error is not None and "connection refused" in writer.error
    assert writer.put(matched()) is False
    await until(lambda: writer.state is StoreState.OPEN)
    assert writer.put(matched())
    stats = await writer.close()
    assert (stats.written, stats.dropped, stats.open_failures) == (1, 2, 2)
    counts = store.read_rows().counts
    # the drops reach the store too, once there is one
    assert sum(c.counts["dropped"] for c in counts) == 2
    assert sum(c.counts["matched"] for c in counts) == 1
    store.close()


class HungStore:
    bucket_seconds = 60

    def __init__(self) -> None:
        self.entered = threading.Event()
        self.release = threading.Event()

    def write(self, batch: Batch) -> None:
        self.entered.set()
        self.release.wait(HANG_GUARD)


async def test_close_gives_up_on_a_hung_store_and_counts_what_it_lost() -> None:
    store = HungStore()
    writer = StoreWriter(store, batch_size=3, interval=0.01)
    for _ in range(3):
        writer.put(matched())
    assert await asyncio.to_thread(store.entered.wait, HANG_GUARD)
    for _ in range(2):
        writer.put(matched())
    stats = await writer.close(deadline=0.1)
    assert (stats.written, stats.in_doubt, stats.dropped) == (0, 3, 2)
    store.release.set()


def test_a_store_hung_in_a_write_does_not_keep_the_process_from_exiting(tmp_path: Path) -> None:
    script = textwrap.dedent(
        """
        import asyncio, threading
        from shadow.compare import Outcome
        from shadow.records import Result
        from shadow.writer import StoreWriter

        class Hung:
            bucket_seconds = 60
            entered = threading.Event()
            def write(self, batch):
                self.entered.set()
                threading.Event().wait()  # forever

        async def main():
            store = Hung()
            writer = StoreWriter(store, interval=0.01)
            writer.put(Result("r", 1.0, Outcome.MATCHED))
            await asyncio.to_thread(store.entered.wait, 30)
            stats = await writer.close(deadline=0.1)
            print("in doubt", stats.in_doubt)

        asyncio.run(main())
        """
    )
    root = Path(__file__).resolve().parents[2]
    done = subprocess.run(
        [sys.executable, "-c", script], cwd=root, capture_output=True, text=True,
        timeout=HANG_GUARD, env={"PYTHONPATH": str(root)},
    )  # fmt: skip
    assert (done.returncode, done.stdout.strip()) == (0, "in doubt 1"), done.stderr


async def test_totals_count_each_writer_once_across_a_move_to_another_store() -> None:
    totals = Totals()
    first = StoreWriter(None)  # no store yet: everything dropped
    totals.track(first)
    first.put(matched())
    first.put(matched())
    second = StoreWriter(None)
    totals.track(second)
    second.put(matched())
    await first.close()
    totals.retire(first)
    totals.retire(first)  # retiring twice changes nothing
    totals.track(first)  # nor does tracking a retired writer again
    assert totals.dropped == 3
    await second.close()
    totals.retire(second)
    assert totals.dropped == 3


def test_a_timeout_the_url_sets_is_the_operators_and_wins(silent_server: int) -> None:
    url = f"mysql+pymysql://strangler@127.0.0.1:{silent_server}/parity?read_timeout=1"
    generous = Timeouts(connect=HANG_GUARD * 2)  # would outlast the guard, were it used
    outcome = in_thread(lambda: open_store(url, timeouts=generous))
    assert isinstance(outcome, OperationalError)
