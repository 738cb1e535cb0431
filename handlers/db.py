"""Database access: SQLAlchemy's pools and dialects, plain SQL on the driver's own cursor, rows
as dicts.

Why synchronous SQLAlchemy in a thread pool rather than an async driver: every request needs a
handful of short statements (settings, key, page, one IN query per include level), so the cost
is dominated by round trips, not by waiting. The whole request runs in ONE worker thread on
ONE pooled connection (a single thread hop per request), which keeps the hot path free of
per-statement task switches; the MySQL drivers (handlers/mysql.py) and sqlite3 are mature,
and the SQLite file the demo uses has no async driver worth the name.

Why the driver's cursor and not `Connection.exec_driver_sql`: the SQL here is already final
text, and building SQLAlchemy's execution context and result metadata cost 20-65 µs a
statement (measured: 36 µs vs 72 µs for `SELECT 1` on pymysql, 29 µs vs 57 µs for a page of
users on SQLite), more than the driver itself on SQLite. SQLAlchemy still owns the pool, the
dialect's connection setup and the error tree: a driver error is wrapped in the DBAPIError
SQLAlchemy would raise, and a connection the dialect calls disconnected is invalidated.

Reads run in autocommit, as PDO does, so the API key's `last_used_at` write never holds a row
lock past its own statement (on MariaDB a second, autocommit pool serves reads). A read sends
no COMMIT and its connection goes back to the pool without a ROLLBACK: both are no-ops in
autocommit, and they were two of the five round trips of a users page. Writes run in one
transaction: it carries the invoice-number lock to commit and can be rolled back whole for a
dry run.

SQL is written once with `?` placeholders and backtick-quoted identifiers, which both SQLite
and MariaDB accept; MariaDB values come back as strings for DECIMAL and date/time columns,
exactly like PDO, so both databases feed the same formatting code.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from typing import Any, cast

import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.engine import Dialect, Engine
from sqlalchemy.exc import DBAPIError, OperationalError
from sqlalchemy.pool import PoolProxiedConnection

from handlers import mysql
from handlers.errors import DatabaseUnavailable

Row = dict[str, Any]  # one result row, column name → value

# The threads that run requests (handlers.app.in_worker): enough to keep one core busy while
# others wait on the database, few enough not to convoy on the GIL.
WORKERS = 8
# One connection per worker thread: a pool smaller than the thread count makes threads open
# and close connections under load.
POOL_SIZE = WORKERS
MAX_PARAMS = 30000


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


def create_engines(url: str, *, mysql_driver: str | None = None) -> Engines:
    """The pools on `url`; on MySQL/MariaDB through `mysql_driver`, by default the fastest
    installed (see handlers/mysql.py)."""
    if url.startswith("sqlite"):
        engine = create_db_engine(url)
        return Engines(engine, engine)
    driver = mysql.choose_driver(mysql_driver)
    return Engines(
        create_db_engine(url, autocommit=True, mysql_driver=driver),
        create_db_engine(url, mysql_driver=driver),
    )


def create_db_engine(
    url: str, *, autocommit: bool = False, mysql_driver: str | None = None
) -> Engine:
    if url.startswith("sqlite"):
        engine = sa.create_engine(
            url,
            pool_size=POOL_SIZE,
            max_overflow=POOL_SIZE,
            poolclass=sa.pool.QueuePool,
            connect_args={"check_same_thread": False, "timeout": 30},
        )
        _sqlite_connections(engine)
        return engine
    driver = mysql.choose_driver(mysql_driver)
    parsed = mysql.with_driver(sa.engine.make_url(url), driver)
    return sa.create_engine(
        parsed,
        isolation_level="AUTOCOMMIT" if autocommit else "REPEATABLE READ",
        pool_size=POOL_SIZE,
        max_overflow=0,
        pool_timeout=30,
        pool_pre_ping=False,
        pool_recycle=3600,
        # in autocommit there is nothing to roll back: no ROLLBACK round trip on every checkin
        pool_reset_on_return=None if autocommit else "rollback",
        connect_args=mysql.connect_args(driver, parsed.host),
    )


def _sqlite_connections(engine: Engine) -> None:
    """Connections in the sqlite3 module's autocommit mode: `connect` issues the BEGIN itself,
    so writers can take BEGIN IMMEDIATE (the write lock up front: two writers can then never
    deadlock on a lock upgrade), and reads, like PDO's, run in no transaction at all."""

    @event.listens_for(engine, "connect")
    def _connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None
        # Deletes cascade through foreign keys, as they do for the legacy side.
        dbapi_connection.execute("PRAGMA foreign_keys = ON")


class Db:
    """The statements a request runs, on one pooled connection."""

    def __init__(self, pooled: PoolProxiedConnection, dialect: Dialect):
        self.pooled = pooled
        self.dialect = dialect
        self.driver = dialect.name
        self._mysql = self.driver != "sqlite"
        self._driver_connection: Any = pooled.driver_connection
        self._error: type[Exception] = dialect.loaded_dbapi.Error

    def _sql(self, sql: str) -> str:
        return sql.replace("%", "%%").replace("?", "%s") if self._mysql else sql

    def _run(self, sql: str, params: Sequence[Any]) -> tuple[list[str], Sequence[Any], int]:
        """Execute on a fresh cursor: the column names, the rows and the last inserted id
        (read before the cursor closes, which clears them on mysqlclient)."""
        statement, args = self._sql(sql), tuple(params)
        cursor = self._driver_connection.cursor()
        try:
            cursor.execute(statement, args)
            if cursor.description is None:  # no result set: a write
                return [], (), int(cursor.lastrowid or 0)
            return [column[0] for column in cursor.description], cursor.fetchall(), 0
        except self._error as exc:
            raise self._wrap(exc, statement, args, cursor) from exc
        finally:
            cursor.close()

    def _wrap(self, exc: Exception, statement: str | None, args: Any, cursor: Any) -> DBAPIError:
        """The error SQLAlchemy's Connection would raise; a connection the dialect calls
        disconnected is invalidated, so the pool never hands it out again."""
        lost = self.dialect.is_disconnect(cast(Any, exc), self._driver_connection, cursor)
        if lost:
            self.pooled.invalidate(exc)
        wrapped = DBAPIError.instance(
            statement, args, exc, self._error, connection_invalidated=lost, dialect=self.dialect
        )
        assert isinstance(wrapped, DBAPIError)
        return wrapped

    def all(self, sql: str, params: Sequence[Any] = ()) -> list[Row]:
        keys, rows, _id = self._run(sql, params)
        return [dict(zip(keys, row, strict=True)) for row in rows]

    def one(self, sql: str, params: Sequence[Any] = ()) -> Row | None:
        rows = self.all(sql, params)
        return rows[0] if rows else None

    def scalar(self, sql: str, params: Sequence[Any] = ()) -> Any:
        _keys, rows, _id = self._run(sql, params)
        return rows[0][0] if rows else None

    def execute(self, sql: str, params: Sequence[Any] = ()) -> int:
        """Run a write; returns the last inserted id (0 when none)."""
        return self._run(sql, params)[2]

    def begin(self) -> None:
        """Open the write transaction (MariaDB outside autocommit has one open already)."""
        if not self._mysql:
            self._run("BEGIN IMMEDIATE", ())

    def end(self, commit: bool) -> None:
        try:
            if commit:
                self._driver_connection.commit()
            else:
                self._driver_connection.rollback()
        except self._error as exc:
            raise self._wrap(exc, "COMMIT" if commit else "ROLLBACK", (), None) from exc


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
    """A connection for one request; writes run in one transaction, rolled back on dry runs
    and on anything that escapes."""
    engine = engines.write if write else engines.read
    try:
        pooled = engine.raw_connection()
    except (DBAPIError, engine.dialect.loaded_dbapi.Error) as exc:
        raise DatabaseUnavailable() from exc
    try:
        db = Db(pooled, engine.dialect)
        if not write:
            yield db
            return
        db.begin()
        try:
            yield db
        except BaseException:
            with suppress(Exception):
                db.end(commit=False)
            raise
        db.end(commit=not dry_run)
    finally:
        pooled.close()
