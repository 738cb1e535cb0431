"""The MySQL/MariaDB driver: mysqlclient (`MySQLdb`, C) when it is installed, else pymysql.

Both speak the same protocol and, with the conversions below, hand back the same Python values
(DECIMAL and date/time columns as the server's text, exactly like PDO; text as str; integers
as int), so the formatting code never knows which one ran. mysqlclient parses a page of rows
several times faster (measured, a page of 16 users: 55 µs vs 315 µs; the settings: 37 µs vs
113 µs), and parsing rows is most of what a request costs on MariaDB. pymysql needs no
compiler and no client library, so it is the fallback, and the choice can be forced
(`create_engines(url, mysql_driver="pymysql")`, HANDLERS_MYSQL_DRIVER for the app).

A URL naming either driver (`mysql+pymysql://`, `mysql://`) gets the chosen one; a URL naming
another driver is left as it is.
"""

from __future__ import annotations

import importlib
import importlib.util
from typing import Any

from sqlalchemy.engine import URL

DRIVERS = ("mysqldb", "pymysql")
_PACKAGES = {"mysqldb": "MySQLdb", "pymysql": "pymysql"}
_AS_TEXT = ("DECIMAL", "NEWDECIMAL", "DATETIME", "TIMESTAMP", "DATE", "TIME")
LOOPBACK = frozenset({"127.0.0.1", "localhost", "::1"})


def choose_driver(wanted: str | None = None) -> str:
    """`wanted` (one of DRIVERS), else the fastest one installed."""
    if wanted:
        if wanted not in DRIVERS:
            raise ValueError(f"unknown MySQL driver {wanted!r} (expected {', '.join(DRIVERS)})")
        return wanted
    return "mysqldb" if importlib.util.find_spec("MySQLdb") is not None else "pymysql"


def with_driver(url: URL, driver: str) -> URL:
    if url.get_driver_name() not in DRIVERS:
        return url
    return url.set(drivername=f"{url.get_backend_name()}+{driver}")


def connect_args(driver: str, host: str | None) -> dict[str, Any]:
    args: dict[str, Any] = {"conv": conversions(driver), "connect_timeout": 5}
    if driver == "pymysql" and host in LOOPBACK:
        # pymysql builds a TLS context (loading the system certificates) for every connection
        # it opens; a database on this host gains nothing from it (libmariadb asks for no TLS
        # unless told to)
        args["ssl_disabled"] = True
    return args


def conversions(driver: str) -> dict[Any, Any]:
    """The driver's decoders, with DECIMAL and date/time columns left as the server's text."""
    # Imported here: a SQLite deployment never loads a MySQL driver.
    package = _PACKAGES[driver]
    field_type = importlib.import_module(f"{package}.constants.FIELD_TYPE")
    converters = importlib.import_module(f"{package}.converters")
    conv = dict(converters.conversions)
    for name in _AS_TEXT:
        conv[getattr(field_type, name)] = str
    return conv
