"""The MySQL driver is the handlers' choice: mysqlclient when installed, pymysql otherwise, and
either one hands back the same values, so the same requests answer the same bytes."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import sqlalchemy as sa

from handlers import mysql
from handlers.app import create_app
from handlers.db import Engines, connect, create_engines
from tests.handlers.conftest import Seeded, auth, native_client

pytest.importorskip("MySQLdb")

PATHS = [
    "users?include=role,properties,invoices,orders",
    "services?include=order,coupon,user,product,invoices,properties",
    "orders?include=services,user",
    "invoices/1?include=items,user",
    "invoices?include=items,user&per_page=50",
    "invoice-items?include=reference,invoice",
    "tickets?include=messages,user",
    "credits",
    "products?include=plans.prices,category",
    "categories?include=products.plans.prices,parent,children",
]


@pytest.mark.parametrize(
    ("url", "driver", "expected"),
    [
        ("mysql+pymysql://root@h/db", "mysqldb", "mysql+mysqldb"),
        ("mysql://root@h/db", "pymysql", "mysql+pymysql"),
        ("mariadb+pymysql://root@h/db", "mysqldb", "mariadb+mysqldb"),
        ("mysql+mysqlconnector://root@h/db", "mysqldb", "mysql+mysqlconnector"),
    ],
    ids=["pymysql named", "no driver named", "mariadb", "another driver kept"],
)
def test_the_url_gets_the_chosen_driver(url: str, driver: str, expected: str) -> None:
    assert mysql.with_driver(sa.engine.make_url(url), driver).drivername == expected


def test_the_fastest_installed_driver_is_chosen_unless_one_is_named() -> None:
    assert mysql.choose_driver() == "mysqldb"
    assert mysql.choose_driver("pymysql") == "pymysql"
    with pytest.raises(ValueError, match="unknown MySQL driver 'mysqlconnector'"):
        mysql.choose_driver("mysqlconnector")


@pytest.fixture(scope="module")
def both(seeded_mariadb: Seeded) -> Iterator[dict[str, Engines]]:
    engines = {d: create_engines(seeded_mariadb.url, mysql_driver=d) for d in mysql.DRIVERS}
    yield engines
    for pair in engines.values():
        pair.dispose()


def _rows(engines: Engines, sql: str) -> list[list[tuple[str, type, object]]]:
    with connect(engines, write=False, dry_run=False) as db:
        return [[(k, type(v), v) for k, v in row.items()] for row in db.all(sql)]


def test_every_table_reads_the_same_values_and_types(both: dict[str, Engines]) -> None:
    with connect(both["pymysql"], write=False, dry_run=False) as db:
        tables = [next(iter(row.values())) for row in db.all("SHOW TABLES")]
    assert len(tables) > 10
    for table in tables:
        sql = f"SELECT * FROM `{table}`"
        assert _rows(both["mysqldb"], sql) == _rows(both["pymysql"], sql), table


@pytest.mark.parametrize("path", PATHS)
async def test_both_drivers_answer_the_same_bytes(
    seeded_mariadb: Seeded, path: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    answers = []
    for driver in mysql.DRIVERS:
        monkeypatch.setenv("HANDLERS_MYSQL_DRIVER", driver)
        app = create_app(seeded_mariadb.url)
        assert app.state.engines.read.dialect.driver == driver
        async with native_client(app) as client:
            response = await client.get(f"/api/v1/admin/{path}", headers=auth(seeded_mariadb))
        assert response.status_code == 200, response.text
        answers.append((response.status_code, response.headers.raw, response.content))
    assert answers[0] == answers[1]
