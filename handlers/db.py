"""Database access: one pooled SQLAlchemy engine, plain SQL, rows as dicts.

Why synchronous SQLAlchemy in a thread pool rather than an async driver: every request needs a
handful of short statements (settings, key, page, one IN query per include level), so the cost
is dominated by round trips, not by waiting. The whole request runs in ONE worker thread on
ONE pooled connection (a single `run_in_threadpool` hop per request), which keeps the hot path
free of per-statement task switches; pymysql and sqlite3 are mature, and the SQLite file the
demo uses has no async driver worth the name. The pool is sized to the thread pool so a burst
waits on threads, never on connections.

Reads run in autocommit, as PDO does, so the API key's `last_used_at` write never holds a row
lock past its own statement (on MariaDB a second, autocommit pool serves reads). Writes run in
one transaction: it carries the invoice-number lock to commit and can be rolled back whole for
a dry run.

SQL is written once with `?` placeholders and backtick-quoted identifiers, which both SQLite
and MariaDB accept; MariaDB values come back as strings for DECIMAL and date/time columns,
exactly like PDO, so both databases feed the same formatting code.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import DBAPIError, OperationalError

from handlers.errors import DatabaseUnavailable
from handlers.model import Row

# One connection per worker thread (anyio's default thread limiter holds 40): a pool smaller
# than the thread count makes threads open and close connections under load.
POOL_SIZE = 40
LOOPBACK = frozenset({"127.0.0.1", "localhost", "::1"})
MAX_PARAMS = 30000


def _mysql_conversions() -> dict[Any, Any]:
    # Imported here: a SQLite deployment never loads the MySQL driver.
    from pymysql.constants import FIELD_TYPE
    from pymysql.converters import conversions

    conv = dict(conversions)
    for kind in (
        FIELD_TYPE.DECIMAL,
        FIELD_TYPE.NEWDECIMAL,
        FIELD_TYPE.DATETIME,
        FIELD_TYPE.TIMESTAMP,
        FIELD_TYPE.DATE,
        FIELD_TYPE.TIME,
    ):
        conv[kind] = str
    return conv


@dataclass(frozen=True)
class Engines:
    """The pools a request can draw from: autocommit reads and transactional writes (one and
    the same pool on SQLite, where reads simply never BEGIN)."""

    read: Engine
    write: Engine

    def dispose(self) -> None:
        self.read.dispose()
        if self.write is not self.read:
            self.write.dispose()


def create_engines(url: str) -> Engines:
    if url.startswith("sqlite"):
        engine = create_db_engine(url)
        return Engines(engine, engine)
    return Engines(create_db_engine(url, autocommit=True), create_db_engine(url))


def create_db_engine(url: str, *, autocommit: bool = False) -> Engine:
    if url.startswith("sqlite"):
        engine = sa.create_engine(
            url,
            pool_size=POOL_SIZE,
            max_overflow=POOL_SIZE,
            poolclass=sa.pool.QueuePool,
            connect_args={"check_same_thread": False, "timeout": 30},
        )
        _sqlite_transactions(engine)
        return engine
    connect_args: dict[str, Any] = {"conv": _mysql_conversions(), "connect_timeout": 5}
    if sa.engine.make_url(url).host in LOOPBACK:
        # pymysql builds a TLS context (loading the system certificates) for every connection
        # it opens; a database on this host gains nothing from it
        connect_args["ssl_disabled"] = True
    return sa.create_engine(
        url,
        isolation_level="AUTOCOMMIT" if autocommit else "REPEATABLE READ",
        pool_size=POOL_SIZE,
        max_overflow=0,
        pool_timeout=30,
        pool_pre_ping=False,
        pool_recycle=3600,
        connect_args=connect_args,
    )


def _sqlite_transactions(engine: Engine) -> None:
    """Let SQLAlchemy, not the sqlite3 module, emit BEGIN, so writers can take BEGIN IMMEDIATE
    (the write lock up front: two writers can then never deadlock on a lock upgrade)."""

    @event.listens_for(engine, "connect")
    def _connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None
        # Deletes cascade through foreign keys, as they do for the legacy side.
        dbapi_connection.execute("PRAGMA foreign_keys = ON")

    @event.listens_for(engine, "begin")
    def _begin(conn: Connection) -> None:
        mode = conn.get_execution_options().get("sqlite_begin", "")
        # Reads run in autocommit, like PDO: no transaction, so no lock upgrade to deadlock on.
        if mode != "NONE":
            conn.exec_driver_sql(f"BEGIN {mode}".strip())


class Db:
    """The statements a request runs, on one connection."""

    def __init__(self, conn: Connection):
        self.conn = conn
        self.driver = conn.dialect.name
        self._mysql = self.driver != "sqlite"

    def _sql(self, sql: str) -> str:
        return sql.replace("%", "%%").replace("?", "%s") if self._mysql else sql

    def all(self, sql: str, params: Sequence[Any] = ()) -> list[Row]:
        result = self.conn.exec_driver_sql(self._sql(sql), tuple(params))
        keys = list(result.keys())
        return [dict(zip(keys, row, strict=True)) for row in result.fetchall()]

    def one(self, sql: str, params: Sequence[Any] = ()) -> Row | None:
        rows = self.all(sql, params)
        return rows[0] if rows else None

    def scalar(self, sql: str, params: Sequence[Any] = ()) -> Any:
        return self.conn.exec_driver_sql(self._sql(sql), tuple(params)).scalar()

    def execute(self, sql: str, params: Sequence[Any] = ()) -> int:
        """Run a write; returns the last inserted id (0 when none)."""
        result = self.conn.exec_driver_sql(self._sql(sql), tuple(params))
        return int(result.lastrowid or 0)


_SQLITE_OUTAGES = ("unable to open", "disk i/o error", "not a database", "database is locked")
_MYSQL_OUTAGES = (1045, 1049, 2002, 2003, 2006, 2013)


def is_unreachable(exc: DBAPIError) -> bool:
    """Whether a database error means "cannot use the database" rather than a bad statement:
    MySQL client errors (no route, gone away, lost) and refused logins; SQLite files that cannot
    be opened, read or locked in time."""
    if exc.connection_invalidated:
        return True
    if not isinstance(exc, OperationalError) or exc.orig is None:
        return False
    args = exc.orig.args
    if args and isinstance(args[0], int):
        return args[0] in _MYSQL_OUTAGES
    message = str(exc.orig).lower()
    return any(marker in message for marker in _SQLITE_OUTAGES)


@contextmanager
def connect(engines: Engines, *, write: bool, dry_run: bool) -> Iterator[Db]:
    """A connection for one request; writes run in one transaction, rolled back on dry runs."""
    try:
        conn = (engines.write if write else engines.read).connect()
    except DBAPIError as exc:
        raise DatabaseUnavailable() from exc
    try:
        if conn.dialect.name == "sqlite":
            conn = conn.execution_options(sqlite_begin="IMMEDIATE" if write else "NONE")
        with conn.begin() as tx:
            yield Db(conn)
            if dry_run:
                tx.rollback()
    finally:
        conn.close()
