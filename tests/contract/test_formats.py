"""Value formats: dates in UTC honouring the `timezone` setting, date casts at start of day,
decimals as two-place strings (paymenter-api.md §2.5)."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from zoneinfo import ZoneInfo

import pytest
import sqlalchemy as sa

from tests.contract.conftest import Api
from tests.contract.expect import app_timezone, iso, iso_date, resource_object, row, rows


@contextlib.contextmanager
def global_setting(
    db: sa.Engine, key: str, value: str | None, kind: str = "string"
) -> Iterator[None]:
    """Set a global setting for the duration of the block, then put the old state back."""
    select = "SELECT id, value, type FROM settings WHERE `key` = :k AND settingable_type IS NULL"
    with db.connect() as conn:
        old = conn.execute(sa.text(select), {"k": key}).mappings().first()
        if old is None:
            conn.execute(
                sa.text(
                    "INSERT INTO settings (`key`, value, type, created_at, updated_at)"
                    " VALUES (:k, :v, :t, '2025-01-01 00:00:00', '2025-01-01 00:00:00')"
                ),
                {"k": key, "v": value, "t": kind},
            )
        else:
            conn.execute(
                sa.text("UPDATE settings SET value = :v, type = :t WHERE id = :id"),
                {"v": value, "t": kind, "id": old["id"]},
            )
    try:
        yield
    finally:
        with db.connect() as conn:
            if old is None:
                conn.execute(
                    sa.text("DELETE FROM settings WHERE `key` = :k AND settingable_type IS NULL"),
                    {"k": key},
                )
            else:
                conn.execute(
                    sa.text("UPDATE settings SET value = :v, type = :t WHERE id = :id"),
                    {"v": old["value"], "t": old["type"], "id": old["id"]},
                )


@pytest.mark.parametrize("zone", ["Europe/Amsterdam", "America/New_York", "Asia/Kolkata"])
def test_timezone_setting_shifts_dates(api: Api, db: sa.Engine, zone: str) -> None:
    invoice = rows(db, "SELECT * FROM invoices WHERE due_at IS NOT NULL ORDER BY id LIMIT 1")[0]
    service = rows(db, "SELECT * FROM services WHERE expires_at IS NOT NULL ORDER BY id LIMIT 1")[0]
    tz = ZoneInfo(zone)
    with global_setting(db, "timezone", zone):
        got = api.get(f"invoices/{invoice['id']}").json()["data"]["attributes"]
        assert got["created_at"] == iso(invoice["created_at"], tz)
        assert got["updated_at"] == iso(invoice["updated_at"], tz)
        assert got["due_at"] == iso_date(invoice["due_at"], tz)
        assert not got["due_at"].endswith("T00:00:00.000000Z")
        got = api.get(f"services/{service['id']}").json()["data"]["attributes"]
        assert got["expires_at"] == iso_date(service["expires_at"], tz)
    seeded = app_timezone(db)
    back = api.get(f"invoices/{invoice['id']}").json()["data"]["attributes"]
    assert back["due_at"] == iso_date(invoice["due_at"], seeded)
    assert back["created_at"] == iso(invoice["created_at"], seeded)


@contextlib.contextmanager
def first_row_with(db: sa.Engine, table: str, column: str, value: object) -> Iterator[int]:
    """Give the table's first row `value` in `column` for the block; yields its id, then puts
    the old value back."""
    first = rows(db, f"SELECT id, {column} AS old FROM {table} ORDER BY id LIMIT 1")[0]
    update = sa.text(f"UPDATE {table} SET {column} = :v WHERE id = :id")
    with db.connect() as conn:
        conn.execute(update, {"v": value, "id": first["id"]})
    try:
        yield int(first["id"])
    finally:
        with db.connect() as conn:
            conn.execute(update, {"v": first["old"], "id": first["id"]})


def test_amsterdam_due_date_example(api: Api, db: sa.Engine) -> None:
    with (
        first_row_with(db, "invoices", "due_at", "2025-06-01") as invoice_id,
        global_setting(db, "timezone", "Europe/Amsterdam"),
    ):
        got = api.get(f"invoices/{invoice_id}").json()["data"]["attributes"]
        assert got["due_at"] == "2025-05-31T22:00:00.000000Z"


def test_service_expiry_drops_the_time_of_day(api: Api, db: sa.Engine) -> None:
    with first_row_with(db, "services", "expires_at", "2030-03-04 17:45:12") as service_id:
        with global_setting(db, "timezone", "UTC"):
            got = api.get(f"services/{service_id}").json()["data"]["attributes"]
        assert got["expires_at"] == "2030-03-04T00:00:00.000000Z"


def test_decimals_are_two_place_strings(api: Api, db: sa.Engine) -> None:
    with first_row_with(db, "credits", "amount", 7.5) as credit_id:
        assert api.get(f"credits/{credit_id}").json()["data"]["attributes"]["amount"] == "7.50"
    for ep, field in [("services", "price"), ("invoice-items", "price"), ("credits", "amount")]:
        for obj in api.get(ep, params={"per_page": 50}).json()["data"]:
            value = obj["attributes"][field]
            assert isinstance(value, str)
            assert value.split(".")[1].isdigit() and len(value.split(".")[1]) == 2


def test_products_hidden_is_an_integer_and_category_permissions_null(
    api: Api, db: sa.Engine
) -> None:
    for obj in api.get("products", params={"per_page": 100}).json()["data"]:
        assert obj["attributes"]["hidden"] in (0, 1)
        assert obj["attributes"]["hidden"] is not True and obj["attributes"]["hidden"] is not False
    for obj in api.get("categories", params={"per_page": 100}).json()["data"]:
        assert obj["attributes"]["permissions"] is None
        expected = row(db, "categories", int(obj["id"]))
        assert expected is not None
        assert obj == resource_object("categories", expected, app_timezone(db))
