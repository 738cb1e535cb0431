"""The parity store's schema (SQLAlchemy Core), described in shadow.store."""

from __future__ import annotations

from typing import Any

from sqlalchemy import (
    BigInteger,
    Column,
    Double,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    SmallInteger,
    String,
    Table,
    Text,
)
from sqlalchemy.dialects import mysql
from sqlalchemy.engine import Engine
from sqlalchemy.exc import DatabaseError

from shadow.records import COUNTERS

_LONG = Text().with_variant(mysql.MEDIUMTEXT(), "mysql", "mariadb")
_BYTES = LargeBinary().with_variant(mysql.MEDIUMBLOB(), "mysql", "mariadb")
# SQLite numbers rows itself only for an INTEGER PRIMARY KEY
_ROW_ID = BigInteger().with_variant(Integer(), "sqlite")
# MariaDB compares strings case-insensitively by default, which would merge `body.Name` with
# `body.name` (JSON keys are case-sensitive) under one key: keys compare as bytes there
_BIN = {"charset": "utf8mb4", "collation": "utf8mb4_bin"}
_MYSQL: dict[str, Any] = {"mysql_charset": "utf8mb4", "mysql_collate": "utf8mb4_bin"}


def key_string(length: int) -> String:
    """The type of a string key column that compares as bytes on MariaDB/MySQL too, where the
    default collation folds case (route ids, field paths and run ids are case-sensitive)."""
    return String(length).with_variant(mysql.VARCHAR(length, **_BIN), "mysql", "mariadb")


def create_missing(tables: MetaData, engine: Engine) -> None:
    """Create the tables of `tables` that the database lacks; once more when another process
    created one between the check and the CREATE."""
    try:
        tables.create_all(engine)
    except DatabaseError:
        tables.create_all(engine)


FIELD_LEN = 400
# times and sums of seconds are DOUBLE: a plain Float is a 4-byte FLOAT on MariaDB/MySQL, which
# holds an epoch second only to within a couple of minutes
DOUBLES = (("shadow_counts", "primary_seconds"), ("shadow_counts", "candidate_seconds"),
           ("shadow_samples", "at"))  # fmt: skip
RUN_LEN = 64

metadata = MetaData()


def _counts_columns() -> list[Column[Any]]:
    return [
        Column("route", key_string(200), primary_key=True),
        Column("bucket", BigInteger, primary_key=True, autoincrement=False),
        *(Column(name, BigInteger, nullable=False, default=0) for name in COUNTERS),
        Column("primary_seconds", Double, nullable=False, default=0.0),
        Column("candidate_seconds", Double, nullable=False, default=0.0),
    ]


def _latency_columns() -> list[Column[Any]]:
    return [
        Column("route", key_string(200), primary_key=True),
        Column("bucket", BigInteger, primary_key=True, autoincrement=False),
        Column("side", key_string(16), primary_key=True),
        Column("slot", SmallInteger, primary_key=True, autoincrement=False),
        Column("n", BigInteger, nullable=False),
    ]


def _fields_columns() -> list[Column[Any]]:
    return [
        Column("route", key_string(200), primary_key=True),
        Column("bucket", BigInteger, primary_key=True, autoincrement=False),
        Column("source", key_string(4), primary_key=True),
        Column("field", key_string(FIELD_LEN), primary_key=True),
        Column("kind", key_string(16), primary_key=True),
        Column("n", BigInteger, nullable=False),
    ]


def _samples_columns() -> list[Column[Any]]:
    return [
        Column("route", key_string(200), primary_key=True),
        Column("field", key_string(FIELD_LEN), primary_key=True),
        Column("slot", SmallInteger, primary_key=True, autoincrement=False),
        Column("at", Double, nullable=False),
        Column("source", String(4), nullable=False),
        Column("kind", String(16), nullable=False),
        Column("path", Text, nullable=False),
        Column("method", String(16), nullable=False),
        Column("request_path", Text, nullable=False),
        Column("query", Text, nullable=False),
        Column("request_id", String(200), nullable=False),
        Column("primary_side", _LONG, nullable=False),
        Column("candidate_side", _LONG, nullable=False),
        Column("error", Text),
    ]


counts = Table("shadow_counts", metadata, *_counts_columns(), **_MYSQL)
latency = Table("shadow_latency", metadata, *_latency_columns(), **_MYSQL)
fields = Table("shadow_fields", metadata, *_fields_columns(), **_MYSQL)
samples = Table("shadow_samples", metadata, *_samples_columns(), **_MYSQL)
# the start of each route's evidence epochs (`strangler reset`): reports and gates count a route
# from its latest start; the rows before it stay, for history
epochs = Table(
    "shadow_epochs",
    metadata,
    Column("route", key_string(200), primary_key=True),
    Column("started", Double, primary_key=True, autoincrement=False),
    **_MYSQL,
)
Index("shadow_counts_bucket", counts.c.bucket)
Index("shadow_fields_bucket", fields.c.bucket)

# Replay runs (`strangler replay`): each run's evidence in tables of its own, the live tables'
# columns behind the run's id, so nothing a run finds reaches live reports or gates
runs = Table(
    "replay_runs",
    metadata,
    Column("id", key_string(RUN_LEN), primary_key=True),
    Column("started", Double, nullable=False),
    Column("ended", Double),
    Column("state", String(16), nullable=False),
    Column("source", Text, nullable=False),
    Column("options", Text, nullable=False),  # JSON: what the run was asked (never a secret)
    Column("totals", Text, nullable=False),  # JSON: requests read, sent and left out, and why
    **_MYSQL,
)


def _run_key() -> Column[Any]:
    return Column("run", key_string(RUN_LEN), primary_key=True)


run_counts = Table("replay_counts", metadata, _run_key(), *_counts_columns(), **_MYSQL)
run_latency = Table("replay_latency", metadata, _run_key(), *_latency_columns(), **_MYSQL)
run_fields = Table("replay_fields", metadata, _run_key(), *_fields_columns(), **_MYSQL)
run_samples = Table("replay_samples", metadata, _run_key(), *_samples_columns(), **_MYSQL)

# Requests a route's `record:` keeps for replay: credentials and `redact:` fields never stored
recorded = Table(
    "recorded_requests",
    metadata,
    Column("id", _ROW_ID, primary_key=True, autoincrement=True),
    Column("at", Double, nullable=False),
    Column("route", key_string(200), nullable=False),
    Column("request_id", String(200), nullable=False),
    Column("method", String(16), nullable=False),
    Column("target", Text, nullable=False),  # path and query, as the client sent them
    Column("headers", Text, nullable=False),  # JSON list of [name, value]
    Column("body", _BYTES, nullable=False),
    Column("status", SmallInteger),  # the answer's status, and the side that gave it
    Column("side", String(8)),
    **_MYSQL,
)
Index("recorded_requests_at", recorded.c.at)
