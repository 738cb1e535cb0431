"""The parity store's schema (SQLAlchemy Core), described in shadow.store."""

from __future__ import annotations

from typing import Any

from sqlalchemy import (
    BigInteger,
    Column,
    Double,
    Index,
    MetaData,
    SmallInteger,
    String,
    Table,
    Text,
)
from sqlalchemy.dialects import mysql

from shadow.records import COUNTERS

_LONG = Text().with_variant(mysql.MEDIUMTEXT(), "mysql", "mariadb")
# MariaDB compares strings case-insensitively by default, which would merge `body.Name` with
# `body.name` (JSON keys are case-sensitive) under one key: keys compare as bytes there
_BIN = {"charset": "utf8mb4", "collation": "utf8mb4_bin"}
_MYSQL: dict[str, Any] = {"mysql_charset": "utf8mb4", "mysql_collate": "utf8mb4_bin"}


def _key(length: int) -> String:
    return String(length).with_variant(mysql.VARCHAR(length, **_BIN), "mysql", "mariadb")


FIELD_LEN = 400
# times and sums of seconds are DOUBLE: a plain Float is a 4-byte FLOAT on MariaDB/MySQL, which
# holds an epoch second only to within a couple of minutes
DOUBLES = (("shadow_counts", "primary_seconds"), ("shadow_counts", "candidate_seconds"),
           ("shadow_samples", "at"))  # fmt: skip

metadata = MetaData()
counts = Table(
    "shadow_counts",
    metadata,
    Column("route", _key(200), primary_key=True),
    Column("bucket", BigInteger, primary_key=True, autoincrement=False),
    *(Column(name, BigInteger, nullable=False, default=0) for name in COUNTERS),
    Column("primary_seconds", Double, nullable=False, default=0.0),
    Column("candidate_seconds", Double, nullable=False, default=0.0),
    **_MYSQL,
)
latency = Table(
    "shadow_latency",
    metadata,
    Column("route", _key(200), primary_key=True),
    Column("bucket", BigInteger, primary_key=True, autoincrement=False),
    Column("side", _key(16), primary_key=True),
    Column("slot", SmallInteger, primary_key=True, autoincrement=False),
    Column("n", BigInteger, nullable=False),
    **_MYSQL,
)
fields = Table(
    "shadow_fields",
    metadata,
    Column("route", _key(200), primary_key=True),
    Column("bucket", BigInteger, primary_key=True, autoincrement=False),
    Column("source", _key(4), primary_key=True),
    Column("field", _key(FIELD_LEN), primary_key=True),
    Column("kind", _key(16), primary_key=True),
    Column("n", BigInteger, nullable=False),
    **_MYSQL,
)
samples = Table(
    "shadow_samples",
    metadata,
    Column("route", _key(200), primary_key=True),
    Column("field", _key(FIELD_LEN), primary_key=True),
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
    **_MYSQL,
)
# the start of each route's evidence epochs (`strangler reset`): reports and gates count a route
# from its latest start; the rows before it stay, for history
epochs = Table(
    "shadow_epochs",
    metadata,
    Column("route", _key(200), primary_key=True),
    Column("started", Double, primary_key=True, autoincrement=False),
    **_MYSQL,
)
Index("shadow_counts_bucket", counts.c.bucket)
Index("shadow_fields_bucket", fields.c.bucket)
