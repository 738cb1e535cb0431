"""The parity store: SQLAlchemy Core on SQLite (default), MariaDB/MySQL or PostgreSQL.

Tables, all keyed so that several gateway processes can write one store at once:

- `shadow_counts`  (route, bucket): outcome counters, A/A counters, latency sums per side
- `shadow_latency` (route, bucket, side, slot): a fixed-bucket latency histogram per side
- `shadow_fields`  (route, bucket, source, field, kind): difference counts, `pc` and `aa` apart
- `shadow_samples` (route, field, slot): the latest redacted example per slot, at most
  `records.SAMPLES_PER_FIELD` per (route, field): the slot is a hash of the request id, so
  the bound holds without reading before writing
- `shadow_epochs`  (route, started): each reset of a route's evidence (`Store.reset`); reports
  and gates count a route from its latest one (`records.in_epoch`), older rows stay for history
- `replay_counts`, `replay_latency`, `replay_fields`, `replay_samples`: the same four, each row
  behind the id of the replay run that found it (`write(batch, run=ID)`, `read_rows(run=ID)`),
  so a replay's evidence never reaches live reports or gates; `replay_runs`, one row a run, and
  `recorded_requests`, the requests routes keep for replay, are read through `shadow.runstore`

Opening a store creates the tables it lacks, so a store written by an older version gains the
newer tables (`shadow_epochs`) the first time a gateway or `strangler reset` opens it; readers
that create nothing read a store without them as one that was never reset.

Counters are only ever incremented in the database (`n = n + excluded.n` through each dialect's
upsert), never read, modified and written back, so concurrent writers add up. Rows are written in
key order so two writers take row locks in the same order and cannot deadlock each other.
`StoreWriter` (batched, off the event loop) lives in `shadow.writer` and is re-exported here.

A store must never hold the gateway: every connection is made under `Timeouts` (reaching the
server and its handshake, each statement, SQLite's wait for a lock), so an open or a write that
cannot finish fails within a known time instead of hanging. A write that finds its tables gone
(the database was emptied, or dropped and created again) creates them and writes again, so the
store recovers without a restart or a reload.
"""

from __future__ import annotations

import json
import math
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import (
    Connection,
    Engine,
    Table,
    create_engine,
    event,
    inspect,
    select,
)
from sqlalchemy.dialects import mysql, postgresql, sqlite
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import DatabaseError, DBAPIError, OperationalError
from sqlalchemy.pool import StaticPool

from shadow.records import (
    COUNTERS,
    Batch,
    CountRow,
    Epoch,
    FieldRow,
    LatencyRow,
    Recorded,
    Rows,
    SampleRow,
    Source,
)
from shadow.tables import (
    DOUBLES,
    FIELD_LEN,
    counts,
    epochs,
    fields,
    latency,
    metadata,
    recorded,
    run_counts,
    run_fields,
    run_latency,
    run_samples,
    runs,
    samples,
)
from shadow.writer import StoreWriter

_SAMPLE_CHARS = 256 * 1024  # one stored side at most; a sample shows a place, not a dump
_CREATE_ATTEMPTS = len(metadata.tables) + 1  # each collision means one more table exists

__all__ = [
    "CountRow", "Epoch", "FieldRow", "LatencyRow", "Rows", "Store", "StoreMissing", "StoreWriter",
    "Timeouts", "metadata", "open_store",
]  # fmt: skip


@dataclass(frozen=True, slots=True)
class Timeouts:
    """How long a store may keep its caller waiting, in seconds."""

    connect: float = 5.0  # reach the server and finish its handshake
    statement: float = 30.0  # one statement's answer (a report's read may take a while)
    busy: float = 5.0  # SQLite: wait for another connection's lock


class StoreMissing(FileNotFoundError):
    """A store opened for reading only does not exist (read commands never create one)."""


def create_store_engine(url: str, timeouts: Timeouts | None = None) -> Engine:
    parsed = make_url(url)
    t = timeouts or Timeouts()
    if parsed.get_backend_name() != "sqlite":
        engine = create_engine(
            url, pool_pre_ping=True, pool_recycle=3600, connect_args=_connect_args(parsed, t)
        )
        if parsed.get_driver_name() == "pymysql":
            event.listen(engine, "connect", _pymysql_statement_timeout(t.statement))
        return engine
    if not parsed.database or parsed.database == ":memory:":
        # one connection shared by every thread, or each thread would see its own empty database
        args = {"check_same_thread": False}
        return create_engine(url, connect_args=args, poolclass=StaticPool)
    Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
    engine = create_engine(url, connect_args={"timeout": t.busy})
    event.listen(engine, "connect", _sqlite_pragmas)
    return engine


def _connect_args(url: URL, t: Timeouts) -> dict[str, Any]:
    """Each driver's spelling of the timeouts; one the URL already sets is the operator's."""
    backend, driver = url.get_backend_name(), url.get_driver_name()
    seconds = max(1, math.ceil(t.connect))
    args: dict[str, Any] = {}
    if backend in ("mysql", "mariadb") and driver == "pymysql":
        # pymysql reads the server's greeting under read_timeout, not connect_timeout: without
        # it, a server that accepts and never speaks holds the caller forever. The handshake
        # gets the connect budget; each connection then gets the statement budget (see below)
        args = {"connect_timeout": t.connect, "read_timeout": t.connect,
                "write_timeout": t.statement}  # fmt: skip
    elif backend in ("mysql", "mariadb") and driver == "mysqldb":
        statement = max(1, math.ceil(t.statement))
        args = {"connect_timeout": seconds, "read_timeout": statement, "write_timeout": statement}
    elif backend == "postgresql" and driver in ("psycopg", "psycopg2"):
        # libpq waits at least 2 s, whatever it is asked
        ms = max(1, int(t.statement * 1000))
        args = {"connect_timeout": max(2, seconds), "options": f"-c statement_timeout={ms}"}
    elif backend == "postgresql" and driver == "pg8000":
        args = {"timeout": max(t.connect, t.statement)}
    return {k: v for k, v in args.items() if k not in url.query}


def _pymysql_statement_timeout(seconds: float) -> Any:
    def raise_after_handshake(dbapi_connection: Any, _record: Any) -> None:
        if hasattr(dbapi_connection, "_read_timeout"):
            dbapi_connection._read_timeout = seconds

    return raise_after_handshake


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    # WAL lets readers (reports) run beside the writers; NORMAL is durable enough for counters
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


def open_store(url: str, *, timeouts: Timeouts | None = None, create: bool = True) -> Store:
    """The store at a SQLAlchemy URL, its missing tables created (the schema's later tables
    too, so an older store is brought up to date by opening it).

    `create=False` is for readers: nothing is created, and a SQLite file that does not exist
    raises `StoreMissing` naming its path instead of becoming a new, empty store.
    """
    parsed = make_url(url)
    if not create and parsed.get_backend_name() == "sqlite":
        path = parsed.database
        if path and path != ":memory:" and not Path(path).is_file():
            raise StoreMissing(f"no parity store at {Path(path).resolve()}")
    store = Store(create_store_engine(url, timeouts))
    if create:
        store.create()
    return store


class Store:
    """Synchronous; call it from a worker thread (`StoreWriter` does) or from the CLI."""

    def __init__(self, engine: Engine, *, bucket_seconds: int = 60, retries: int = 3) -> None:
        self.engine = engine
        self.bucket_seconds = bucket_seconds  # the writer folds results into buckets this wide
        self.retries = retries

    def create(self) -> None:
        """Create the tables that are missing, and bring older ones up to date."""
        seen = -1
        for attempt in range(_CREATE_ATTEMPTS):
            try:
                metadata.create_all(self.engine)
                break
            except DatabaseError:
                # another opener (a gateway, the flip history beside us) created a table between
                # our check and our CREATE, and may still be creating the next: look again, for
                # as long as tables keep appearing (a store that cannot be reached makes none)
                present = self._present()
                if attempt == _CREATE_ATTEMPTS - 1 or present <= seen:
                    raise
                seen = present
        if self.engine.dialect.name in ("mysql", "mariadb"):
            self._widen_floats()

    def _present(self) -> int:
        """How many of the store's tables exist now."""
        with self.engine.connect() as conn:
            return len(set(inspect(conn).get_table_names()) & set(metadata.tables))

    def _widen_floats(self) -> None:
        """Stores made before times were DOUBLE hold them as 4-byte FLOATs: widen them (the
        values already stored keep the precision they had)."""
        with self.engine.begin() as conn:
            found = inspect(conn)
            for table, column in DOUBLES:
                kind = next(c["type"] for c in found.get_columns(table) if c["name"] == column)
                if isinstance(kind, mysql.FLOAT):  # DOUBLE is not one
                    conn.exec_driver_sql(f"ALTER TABLE {table} MODIFY `{column}` DOUBLE NOT NULL")

    def close(self) -> None:
        self.engine.dispose()

    def write(self, batch: Batch, run: str | None = None) -> None:
        """Add a batch to the live evidence, or (`run`) to that replay run's."""
        recreated = False
        attempt = 0
        while True:
            try:
                with self.engine.begin() as conn:
                    _write(conn, batch, _RUN if run is not None else _LIVE, run)
                return
            except DBAPIError as exc:
                # the transaction rolled back and nothing of the batch was counted, so the
                # whole batch can be written again
                if schema_gone(exc) and not recreated:
                    # the database was emptied (or dropped and made again) under us: pooled
                    # connections may still point at the old one, so they go first
                    recreated = True
                    self.engine.dispose()
                    self.create()
                    continue
                attempt += 1
                if not isinstance(exc, OperationalError) or attempt >= self.retries:
                    raise
                # deadlock or lock timeout between gateways
                time.sleep(0.05 * attempt)

    def prune(self, before: float) -> int:
        """Delete buckets, samples, recorded requests and replay runs (with their evidence)
        older than `before` (epoch seconds); rows deleted."""
        deleted = 0
        with self.engine.begin() as conn:
            for table in (counts, latency, fields):
                deleted += conn.execute(table.delete().where(table.c.bucket < before)).rowcount
            deleted += conn.execute(samples.delete().where(samples.c.at < before)).rowcount
            deleted += conn.execute(recorded.delete().where(recorded.c.at < before)).rowcount
            # read first: MySQL refuses a DELETE whose subquery reads the table it deletes from
            old = list(conn.scalars(select(runs.c.id).where(runs.c.started < before)))
            for table in (*_RUN, runs) if old else ():
                column = table.c.id if table is runs else table.c.run
                deleted += conn.execute(table.delete().where(column.in_(old))).rowcount
        return deleted

    def reset(self, route: str, at: float) -> Epoch:
        """Start a new evidence epoch of `route` at `at` (epoch seconds): from then on reports
        and gates count the route from there; nothing is deleted."""
        with self.engine.begin() as conn:
            _insert_new(conn, epochs, [{"route": route[:200], "started": at}])
        return Epoch(route, at)

    def epochs(self, route: str | None = None) -> tuple[Epoch, ...]:
        """Every reset recorded (of one route, or all), oldest first."""
        with self.engine.connect() as conn:
            return self._epochs(conn, route)

    def _epochs(self, conn: Connection, route: str | None) -> tuple[Epoch, ...]:
        if not inspect(conn).has_table(epochs.name):  # an older store, opened for reading
            return ()
        query = select(epochs).order_by(epochs.c.started, epochs.c.route)
        if route is not None:
            query = query.where(epochs.c.route == route)
        return tuple(Epoch(r.route, float(r.started)) for r in conn.execute(query))

    def read_rows(
        self, since: float | None = None, route: str | None = None, run: str | None = None
    ) -> Rows:
        """The live evidence, or (`run`) one replay run's, which has no epochs."""
        tables = _RUN if run is not None else _LIVE
        c, x, f, s = (self._select(t, since, route, run) for t in tables)
        with self.engine.connect() as conn:
            if run is not None and not inspect(conn).has_table(run_counts.name):
                return Rows()  # an older store, opened for reading: it has no runs
            return Rows(
                tuple(_count_row(r) for r in conn.execute(c)),
                tuple(LatencyRow(*r) for r in conn.execute(x)),
                tuple(
                    FieldRow(r.route, r.bucket, Source(r.source), r.field, r.kind, r.n)
                    for r in conn.execute(f)
                ),
                tuple(_sample_row(r) for r in conn.execute(s)),
                self._epochs(conn, route) if run is None else (),
            )

    def _select(self, table: Table, since: float | None, route: str | None, run: str | None) -> Any:
        query = select(*(col for col in table.columns if col.name != "run"))
        if run is not None:
            query = query.where(table.c.run == run)
        if since is not None and table in (samples, run_samples):
            query = query.where(table.c.at >= since)
        elif since is not None:
            # a bucket that started before `since` but ends after it is kept whole: counts
            # cannot be split inside a bucket, and dropping it would hide the newest requests
            query = query.where(table.c.bucket > since - self.bucket_seconds)
        if route is not None and table in (counts, run_counts):
            query = query.where(table.c.route.in_((route, "")))  # "": the store's own drops
        elif route is not None:
            query = query.where(table.c.route == route)
        return query.order_by(*table.primary_key.columns)


# MariaDB/MySQL: table doesn't exist, no database selected (the session's was dropped), unknown
# database; PostgreSQL: undefined table, invalid catalog name
_GONE_CODES = frozenset({1146, 1046, 1049})
_GONE_STATES = frozenset({"42P01", "3D000"})


def schema_gone(exc: DBAPIError) -> bool:
    """Whether a failed statement says the store's tables (or its database) are not there."""
    orig = exc.orig
    args = getattr(orig, "args", ())
    if args and isinstance(args[0], int) and args[0] in _GONE_CODES:
        return True
    state = getattr(orig, "sqlstate", None) or getattr(orig, "pgcode", None)
    return state in _GONE_STATES or "no such table" in str(orig)


def _count_row(r: Any) -> CountRow:
    return CountRow(
        r.route, r.bucket, {name: int(getattr(r, name)) for name in COUNTERS},
        float(r.primary_seconds), float(r.candidate_seconds),
    )  # fmt: skip


def _sample_row(r: Any) -> SampleRow:
    return SampleRow(
        r.route, r.field, r.slot, r.at, Source(r.source), r.kind, r.path, r.method,
        r.request_path, r.query, r.request_id, r.primary_side, r.candidate_side, r.error,
    )  # fmt: skip


_LIVE = (counts, latency, fields, samples)
_RUN = (run_counts, run_latency, run_fields, run_samples)


def _write(conn: Connection, batch: Batch, tables: tuple[Table, ...], run: str | None) -> None:
    """The batch's rows, added to `tables` (behind `run` when it is a replay run's)."""
    counts_table, latency_table, fields_table, samples_table = tables
    behind: dict[str, Any] = {} if run is None else {"run": run}
    count_rows: dict[tuple[str, int], dict[str, Any]] = {}
    for (route, bucket, column), n in batch.counts.items():
        row = count_rows.setdefault((route, bucket), _zero_counts(route, bucket))
        row[column] += n
    for (route, bucket, side), seconds in batch.seconds.items():
        row = count_rows.setdefault((route, bucket), _zero_counts(route, bucket))
        row[f"{side}_seconds"] += seconds
    _add(conn, counts_table, [{**behind, **count_rows[k]} for k in sorted(count_rows)])
    _add(conn, latency_table, [
        {**behind, "route": r, "bucket": b, "side": s, "slot": slot, "n": n}
        for (r, b, s, slot), n in sorted(batch.latency.items())
    ])  # fmt: skip
    _add(conn, fields_table, [
        {**behind, "route": r, "bucket": b, "source": src, "field": f[:FIELD_LEN], "kind": k,
         "n": n}
        for (r, b, src, f, k), n in sorted(batch.fields.items())
    ])  # fmt: skip
    _replace(conn, samples_table, [
        {**behind, **_sample_values(batch.samples[k])} for k in sorted(batch.samples)
    ])  # fmt: skip
    if batch.recorded:
        conn.execute(recorded.insert(), [_recorded_values(r) for r in batch.recorded])


def _zero_counts(route: str, bucket: int) -> dict[str, Any]:
    row: dict[str, Any] = {"route": route, "bucket": bucket}
    row.update(dict.fromkeys(COUNTERS, 0))
    row.update(primary_seconds=0.0, candidate_seconds=0.0)
    return row


def _sample_values(s: SampleRow) -> dict[str, Any]:
    return {
        "route": s.route, "field": s.field[:FIELD_LEN], "slot": s.slot, "at": s.at,
        "source": s.source.value, "kind": s.kind, "path": s.path, "method": s.method,
        "request_path": s.request_path, "query": s.query, "request_id": s.request_id[:200],
        "primary_side": s.primary[:_SAMPLE_CHARS], "candidate_side": s.candidate[:_SAMPLE_CHARS],
        "error": s.error,
    }  # fmt: skip


def _recorded_values(r: Recorded) -> dict[str, Any]:
    return {
        "at": r.at, "route": r.route[:200], "request_id": r.request_id[:200],
        "method": r.method[:16], "target": r.target, "headers": json.dumps(r.headers),
        "body": r.body, "status": r.status, "side": r.side,
    }  # fmt: skip


def _keys(table: Table) -> list[str]:
    return [c.name for c in table.primary_key.columns]


def _add(conn: Connection, table: Table, rows: Sequence[dict[str, Any]]) -> None:
    """Insert, or add each non-key value to the stored one: `n = n + excluded.n`."""
    if rows:
        values = [c for c in rows[0] if c not in _keys(table)]
        conn.execute(_upsert(conn, table, values, lambda col, new: table.c[col] + new), rows)


def _replace(conn: Connection, table: Table, rows: Sequence[dict[str, Any]]) -> None:
    if rows:
        values = [c for c in rows[0] if c not in _keys(table)]
        conn.execute(_upsert(conn, table, values, lambda _col, new: new), rows)


def _insert_new(conn: Connection, table: Table, rows: Sequence[dict[str, Any]]) -> None:
    """Insert the rows whose keys are not there yet; the others are left as they are."""
    name = conn.dialect.name
    if name in ("mysql", "mariadb"):
        conn.execute(mysql.insert(table).prefix_with("IGNORE"), rows)
    elif name == "postgresql":
        conn.execute(postgresql.insert(table).on_conflict_do_nothing(), rows)
    else:
        conn.execute(sqlite.insert(table).on_conflict_do_nothing(), rows)


def _upsert(conn: Connection, table: Table, values: Iterable[str], combine: Any) -> Any:
    name = conn.dialect.name
    if name in ("mysql", "mariadb"):
        mine = mysql.insert(table)
        return mine.on_duplicate_key_update({c: combine(c, mine.inserted[c]) for c in values})
    dialect_insert = postgresql.insert if name == "postgresql" else sqlite.insert
    if name not in ("postgresql", "sqlite"):
        raise NotImplementedError(
            f"parity store on {name}: use SQLite, MariaDB/MySQL or PostgreSQL"
        )
    ins = dialect_insert(table)
    return ins.on_conflict_do_update(
        index_elements=_keys(table), set_={c: combine(c, ins.excluded[c]) for c in values}
    )
