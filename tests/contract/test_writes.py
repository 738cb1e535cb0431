"""Writes: validation (422 bodies), defaults, write echoes, status codes and the side effects read
back from the database: audit rows, invoice numbers, ticket status flips, bcrypt passwords,
paid-invoice credit processing (paymenter-api.md §2.5, §2.7, §2.8, §4.1).

Every test creates the rows it changes, so the read tests keep their seeded data."""

from __future__ import annotations

import datetime as dt
import json
import uuid
from concurrent.futures import ThreadPoolExecutor
from typing import Any
from zoneinfo import ZoneInfo

import bcrypt
import httpx
import pytest
import sqlalchemy as sa

from tests.contract.conftest import Api, Target
from tests.contract.expect import app_timezone, iso_date, resource_object, row, rows, scalar
from tests.contract.test_formats import global_setting

UA = "contract-suite/1.0"


def email() -> str:
    return f"contract-{uuid.uuid4().hex[:12]}@example.test"


def audits(db: sa.Engine, model: str, id_: Any) -> list[dict[str, Any]]:
    return rows(
        db,
        "SELECT * FROM audits WHERE auditable_type = :t AND auditable_id = :id ORDER BY id",
        t=model,
        id=id_,
    )


def currencies(db: sa.Engine) -> list[str]:
    return [r["code"] for r in rows(db, "SELECT code FROM currencies ORDER BY code")]


def make_user(api: Api) -> int:
    r = api.post("users", {"email": email(), "password": "a-long-password"})
    assert r.status_code == 201, r.text
    return int(r.json()["data"]["id"])


def check_422(r: httpx.Response, errors: dict[str, list[str]]) -> None:
    assert r.status_code == 422, r.text
    assert r.headers["content-type"].startswith("application/json")
    assert "\n" not in r.text
    body = r.json()
    assert list(body) == ["message", "errors"]
    assert body["errors"] == errors
    assert list(body["errors"]) == list(errors)
    messages = [m for ms in errors.values() for m in ms]
    rest = len(messages) - 1
    expected = messages[0]
    if rest:
        expected += f" (and {rest} more {'error' if rest == 1 else 'errors'})"
    assert body["message"] == expected


def expected_number(db: sa.Engine, n: int) -> str:
    settings = {
        r["key"]: r["value"]
        for r in rows(db, "SELECT `key`, value FROM settings WHERE settingable_type IS NULL")
    }
    padding = int(settings.get("invoice_number_padding") or 1)
    fmt = settings.get("invoice_number_format") or "{number}"
    now = dt.datetime.now(app_timezone(db))
    return (
        fmt.replace("{number}", str(n).zfill(padding))
        .replace("{year}", now.strftime("%Y"))
        .replace("{month}", now.strftime("%m"))
        .replace("{day}", now.strftime("%d"))
    )


def counter(db: sa.Engine) -> int:
    value = scalar(db, "SELECT value FROM settings WHERE `key` = 'invoice_number'")
    return int(value or 0)


# -- users ------------------------------------------------------------------------------------


def test_user_store(api: Api, db: sa.Engine, target: Target) -> None:
    address = email()
    password = "correct horse battery"
    body = {
        "email": address,
        "password": password,
        "first_name": "  Ada  ",
        "last_name": "",
        "email_verified_at": "2025-03-04 05:06:07",
        "not_a_column": "dropped",
    }
    r = api.post("users", body, headers={"User-Agent": UA})
    assert r.status_code == 201
    assert r.headers["content-type"] == "application/vnd.api+json"
    data = r.json()["data"]
    stored = row(db, "users", int(data["id"]))
    assert stored is not None
    assert data == resource_object("users", stored, app_timezone(db))
    assert data["attributes"]["first_name"] == "Ada"
    assert data["attributes"]["last_name"] is None
    assert stored["password"].startswith("$2y$12$")
    assert len(stored["password"]) == 60
    assert bcrypt.checkpw(password.encode(), ("$2b$" + stored["password"][4:]).encode())
    [audit] = audits(db, "App\\Models\\User", stored["id"])
    assert audit["event"] == "created"
    assert json.loads(audit["old_values"]) == []
    new = json.loads(audit["new_values"])
    assert new["email"] == address
    assert new["first_name"] == "Ada"
    assert new["last_name"] is None
    assert "created_at" not in new
    assert "updated_at" not in new
    assert audit["url"] == f"{target.base_url}/api/v1/admin/users"
    assert audit["ip_address"] == "127.0.0.1"
    assert audit["user_agent"] == UA
    assert audit["tags"] == "admin"
    assert audit["user_type"] is None
    assert audit["user_id"] is None


def test_user_store_keeps_an_existing_bcrypt_hash(api: Api, db: sa.Engine) -> None:
    hashed = "$2y$" + bcrypt.hashpw(b"already-hashed", bcrypt.gensalt(10)).decode()[4:]
    r = api.post("users", {"email": email(), "password": hashed})
    assert r.status_code == 201
    assert row(db, "users", int(r.json()["data"]["id"]))["password"] == hashed  # type: ignore[index]


@pytest.mark.parametrize(
    ("body", "errors"),
    [
        (
            {},
            {
                "email": ["The email field is required."],
                "password": ["The password field is required."],
            },
        ),
        (
            {"email": "not-an-email", "password": "short", "first_name": "x" * 256},
            {
                "first_name": ["The first name field must not be greater than 255 characters."],
                "email": ["The email field must be a valid email address."],
                "password": ["The password field must be at least 8 characters."],
            },
        ),
        (
            {"email": "   ", "password": 12345678, "email_verified_at": "someday"},
            {
                "email": ["The email field is required."],
                "password": ["The password field must be a string."],
                "email_verified_at": ["The email verified at field must be a valid date."],
            },
        ),
        (
            {"email": email(), "password": "long enough", "role_id": 987654321},
            {"role_id": ["The selected role id is invalid."]},
        ),
    ],
)
def test_user_store_validation(
    api: Api, body: dict[str, Any], errors: dict[str, list[str]]
) -> None:
    check_422(api.post("users", body), errors)


def test_user_email_must_be_unique(api: Api, db: sa.Engine) -> None:
    taken = scalar(db, "SELECT email FROM users ORDER BY id LIMIT 1")
    check_422(
        api.post("users", {"email": taken, "password": "long enough"}),
        {"email": ["The email has already been taken."]},
    )


@pytest.mark.parametrize("method", ["PATCH", "PUT"])
def test_user_update_is_partial_and_audited(api: Api, db: sa.Engine, method: str) -> None:
    uid = make_user(api)
    before = row(db, "users", uid)
    assert before is not None
    own = before["email"]
    r = api.request(method, f"users/{uid}", json_body={"first_name": "Grace", "email": own})
    assert r.status_code == 200
    after = row(db, "users", uid)
    assert after is not None
    assert r.json()["data"] == resource_object("users", after, app_timezone(db))
    assert after["first_name"] == "Grace"
    assert after["password"] == before["password"]
    updated = audits(db, "App\\Models\\User", uid)[-1]
    assert updated["event"] == "updated"
    assert json.loads(updated["old_values"]) == {"first_name": None}
    assert json.loads(updated["new_values"]) == {"first_name": "Grace"}
    # Nothing changed: no new audit row.
    count = len(audits(db, "App\\Models\\User", uid))
    assert api.patch(f"users/{uid}", {"first_name": "Grace"}).status_code == 200
    assert len(audits(db, "App\\Models\\User", uid)) == count


def test_user_update_hashes_a_new_password(api: Api, db: sa.Engine) -> None:
    uid = make_user(api)
    assert api.patch(f"users/{uid}", {"password": "another password"}).status_code == 200
    stored = row(db, "users", uid)["password"]  # type: ignore[index]
    assert bcrypt.checkpw(b"another password", ("$2b$" + stored[4:]).encode())
    check_422(
        api.patch(f"users/{uid}", {"password": None}),
        {
            "password": [
                "The password field must be a string.",
                "The password field must be at least 8 characters.",
            ]
        },
    )


def test_user_destroy(api: Api, db: sa.Engine) -> None:
    uid = make_user(api)
    address = row(db, "users", uid)["email"]  # type: ignore[index]
    r = api.delete(f"users/{uid}")
    assert r.status_code == 204
    assert r.content == b""
    assert row(db, "users", uid) is None
    deleted = audits(db, "App\\Models\\User", uid)[-1]
    assert deleted["event"] == "deleted"
    assert json.loads(deleted["new_values"]) == []
    assert json.loads(deleted["old_values"])["email"] == address
    assert api.delete(f"users/{uid}").status_code == 404


def test_validation_failure_without_json_redirects_back(api: Api, target: Target) -> None:
    r = api.post("users", {}, accept=None)
    assert r.status_code == 302
    assert r.headers["location"] == target.base_url
    r = api.post("users", {}, accept=None, headers={"Referer": "http://shop.example.test/form"})
    assert r.status_code == 302
    assert r.headers["location"] == "http://shop.example.test/form"


# -- orders, credits --------------------------------------------------------------------------


def test_order_echo_keeps_raw_input_types(api: Api, db: sa.Engine) -> None:
    uid = make_user(api)
    cur = currencies(db)[0]
    r = api.post("orders", {"user_id": str(uid), "currency_code": cur})
    assert r.status_code == 201
    data = r.json()["data"]
    assert data["attributes"]["user_id"] == str(uid)
    oid = int(data["id"])
    assert api.get(f"orders/{oid}").json()["data"]["attributes"]["user_id"] == uid
    assert [a["event"] for a in audits(db, "App\\Models\\Order", oid)] == ["created"]
    r = api.patch(f"orders/{oid}", {"currency_code": currencies(db)[-1]})
    assert r.status_code == 200
    assert r.json()["data"]["attributes"]["user_id"] == uid
    assert api.delete(f"orders/{oid}").status_code == 204
    assert [a["event"] for a in audits(db, "App\\Models\\Order", oid)] == [
        "created",
        "updated",
        "deleted",
    ]
    check_422(
        api.post("orders", {"user_id": 987654321, "currency_code": "??"}),
        {
            "user_id": ["The selected user id is invalid."],
            "currency_code": ["The selected currency code is invalid."],
        },
    )


def test_credit_store_update_and_uniqueness(api: Api, db: sa.Engine) -> None:
    uid = make_user(api)
    other = make_user(api)
    cur = currencies(db)[0]
    r = api.post("credits", {"user_id": uid, "currency_code": cur, "amount": 12.5})
    assert r.status_code == 201
    data = r.json()["data"]
    assert data["attributes"]["amount"] == 12.5
    assert list(data["attributes"]) == ["id", "currency_code", "amount", "updated_at", "created_at"]
    cid = int(data["id"])
    assert api.get(f"credits/{cid}").json()["data"]["attributes"]["amount"] == "12.50"
    check_422(
        api.post("credits", {"user_id": uid, "currency_code": cur, "amount": 1}),
        {"currency_code": ["The currency code has already been taken."]},
    )
    check_422(
        api.post("credits", {"user_id": other, "currency_code": cur, "amount": -1}),
        {"amount": ["The amount field must be at least 0."]},
    )
    r = api.patch(f"credits/{cid}", {"amount": "3", "user_id": other})
    assert r.status_code == 200
    assert r.json()["data"]["attributes"]["amount"] == "3"
    stored = row(db, "credits", cid)
    assert stored is not None
    assert int(stored["user_id"]) == uid
    assert api.delete(f"credits/{cid}").status_code == 204


# -- invoices ---------------------------------------------------------------------------------


def test_invoice_store_numbers_and_echo(api: Api, db: sa.Engine) -> None:
    uid = make_user(api)
    cur = currencies(db)[0]
    start = counter(db)
    created = []
    for _ in range(3):
        r = api.post("invoices", {"user_id": uid, "currency_code": cur, "due_at": "2031-01-15"})
        assert r.status_code == 201
        created.append(int(r.json()["data"]["id"]))
    data = r.json()["data"]
    tz = app_timezone(db)
    assert data["attributes"]["status"] == "pending"
    assert data["attributes"]["due_at"] == iso_date("2031-01-15", tz)
    numbers = [row(db, "invoices", i)["number"] for i in created]  # type: ignore[index]
    assert numbers == [expected_number(db, start + k) for k in (1, 2, 3)]
    assert counter(db) == start + 3
    assert scalar(db, "SELECT COUNT(*) FROM invoices WHERE number IS NOT NULL") == scalar(
        db, "SELECT COUNT(DISTINCT number) FROM invoices"
    )
    invoice_audit = audits(db, "App\\Models\\Invoice", created[0])[0]
    assert json.loads(invoice_audit["new_values"])["number"] == numbers[0]


def test_invoice_numbers_are_unique_under_concurrency(
    api: Api, db: sa.Engine, target: Target
) -> None:
    uid = make_user(api)
    cur = currencies(db)[0]
    start = counter(db)
    headers = api.headers()

    def create(_: int) -> int:
        with httpx.Client(base_url=target.base_url, timeout=60) as client:
            r = client.post(
                "/api/v1/admin/invoices",
                headers=headers,
                json={"user_id": uid, "currency_code": cur},
            )
            assert r.status_code == 201, r.text
            return int(r.json()["data"]["id"])

    with ThreadPoolExecutor(max_workers=8) as pool:
        ids = list(pool.map(create, range(16)))
    numbers = {row(db, "invoices", i)["number"] for i in ids}  # type: ignore[index]
    assert numbers == {expected_number(db, start + k) for k in range(1, 17)}
    assert counter(db) == start + 16


def test_invoice_number_padding_and_format(api: Api, db: sa.Engine) -> None:
    uid = make_user(api)
    cur = currencies(db)[0]
    with (
        global_setting(db, "invoice_number_padding", "6", "integer"),
        global_setting(db, "invoice_number_format", "INV-{year}{month}-{number}"),
    ):
        start = counter(db)
        r = api.post("invoices", {"user_id": uid, "currency_code": cur})
        number = row(db, "invoices", int(r.json()["data"]["id"]))["number"]  # type: ignore[index]
        now = dt.datetime.now(app_timezone(db))
        assert number == f"INV-{now:%Y%m}-{start + 1:06d}"


def test_proforma_invoices_get_a_number_when_paid(api: Api, db: sa.Engine) -> None:
    uid = make_user(api)
    cur = currencies(db)[0]
    with global_setting(db, "invoice_proforma", "1", "boolean"):
        start = counter(db)
        r = api.post("invoices", {"user_id": uid, "currency_code": cur})
        iid = int(r.json()["data"]["id"])
        assert row(db, "invoices", iid)["number"] is None  # type: ignore[index]
        assert counter(db) == start
        r = api.patch(f"invoices/{iid}", {"status": "paid"})
        assert r.status_code == 200
        assert row(db, "invoices", iid)["number"] == expected_number(db, start + 1)  # type: ignore[index]


def test_paying_an_invoice_adds_credit_items_to_the_users_credit(api: Api, db: sa.Engine) -> None:
    uid = make_user(api)
    cur = currencies(db)[0]
    credit = api.post("credits", {"user_id": uid, "currency_code": cur, "amount": 1}).json()["data"]
    r = api.post("invoices", {"user_id": uid, "currency_code": cur})
    invoice_id = int(r.json()["data"]["id"])
    number = row(db, "invoices", invoice_id)["number"]  # type: ignore[index]
    item = {
        "invoice_id": invoice_id,
        "description": "Credit top-up",
        "price": 7.25,
        "quantity": 1,
        "reference_type": "App\\Models\\Credit",
        "reference_id": int(credit["id"]),
    }
    assert api.post("invoice-items", item).status_code == 201
    r = api.patch(f"invoices/{number}", {"status": "paid"})
    assert r.status_code == 200
    assert r.json()["data"]["attributes"]["status"] == "paid"
    amount = row(db, "credits", int(credit["id"]))["amount"]  # type: ignore[index]
    assert float(amount) == pytest.approx(8.25)
    assert audits(db, "App\\Models\\Credit", int(credit["id"]))[-1]["event"] == "updated"


def test_paying_creates_the_credit_row_when_missing(api: Api, db: sa.Engine) -> None:
    uid = make_user(api)
    cur = currencies(db)[-1]
    other_credit = scalar(db, "SELECT MIN(id) FROM credits")
    invoice_id = int(
        api.post("invoices", {"user_id": uid, "currency_code": cur}).json()["data"]["id"]
    )
    item = {
        "invoice_id": invoice_id,
        "description": "Credit",
        "price": "4.10",
        "quantity": 1,
        "reference_type": "App\\Models\\Credit",
        "reference_id": other_credit,
    }
    assert api.post("invoice-items", item).status_code == 201
    number = row(db, "invoices", invoice_id)["number"]  # type: ignore[index]
    assert api.patch(f"invoices/{number}", {"status": "paid"}).status_code == 200
    created = rows(
        db, "SELECT * FROM credits WHERE user_id = :u AND currency_code = :c", u=uid, c=cur
    )
    assert len(created) == 1
    assert float(created[0]["amount"]) == pytest.approx(4.10)


def test_invoice_validation(api: Api) -> None:
    check_422(
        api.post("invoices", {"currency_code": "XXX", "status": "weird", "due_at": "not a date"}),
        {
            "user_id": ["The user id field is required."],
            "currency_code": ["The selected currency code is invalid."],
            "due_at": ["The due at field must be a valid date."],
            "status": ["The selected status is invalid."],
        },
    )


# -- invoice items ----------------------------------------------------------------------------


def test_invoice_item_echo_update_and_destroy(api: Api, db: sa.Engine) -> None:
    invoices = rows(db, "SELECT id FROM invoices ORDER BY id LIMIT 2")
    first, second = int(invoices[0]["id"]), int(invoices[1]["id"])
    body = {"invoice_id": first, "description": "  Widget  ", "price": 12.5, "quantity": "2"}
    r = api.post("invoice-items", body)
    assert r.status_code == 201
    attrs = r.json()["data"]["attributes"]
    assert attrs["description"] == "Widget"
    assert attrs["price"] == "12.50"
    assert attrs["quantity"] == "2"
    assert attrs["reference_type"] is None
    assert attrs["reference_id"] is None
    item_id = int(r.json()["data"]["id"])
    r = api.patch(f"invoice-items/{item_id}", {"invoice_id": second, "price": 3})
    assert r.status_code == 200
    assert r.json()["data"]["attributes"]["price"] == "3.00"
    stored = row(db, "invoice_items", item_id)
    assert stored is not None
    assert int(stored["invoice_id"]) == first
    assert api.delete(f"invoice-items/{item_id}").status_code == 204
    events = [a["event"] for a in audits(db, "App\\Models\\InvoiceItem", item_id)]
    assert events == ["created", "updated", "deleted"]


def test_invoice_item_reference_validation(api: Api, db: sa.Engine) -> None:
    invoice = int(scalar(db, "SELECT MIN(id) FROM invoices"))
    base = {"invoice_id": invoice, "description": "x", "price": 1, "quantity": 1}
    check_422(
        api.post(
            "invoice-items",
            {**base, "reference_type": "App\\Models\\Service", "reference_id": 987654},
        ),
        {"reference_id": ["The selected reference_id is invalid for the given reference_type."]},
    )
    check_422(
        api.post(
            "invoice-items", {**base, "reference_type": "App\\Models\\Nope", "reference_id": 1}
        ),
        {"reference_id": ["The reference_type must be a valid class name."]},
    )
    check_422(
        api.post("invoice-items", {"price": "abc", "quantity": 0}),
        {
            "invoice_id": ["The invoice id field is required."],
            "description": ["The description field is required."],
            "price": ["The price field must be a number."],
            "quantity": ["The quantity field must be at least 1."],
        },
    )


# -- tickets and messages ---------------------------------------------------------------------


def test_ticket_store_defaults_and_validation(api: Api, db: sa.Engine) -> None:
    uid = make_user(api)
    r = api.post("tickets", {"subject": "Printer on fire", "user_id": uid})
    assert r.status_code == 201
    attrs = r.json()["data"]["attributes"]
    assert attrs["priority"] == "medium"
    assert attrs["status"] == "open"
    assert attrs["assigned_to"] is None
    assert attrs["department"] is None
    assert attrs["user_id"] == uid
    check_422(
        api.post(
            "tickets", {"subject": "x", "user_id": uid, "priority": "urgent", "department": "Nope"}
        ),
        {
            "department": ["The selected department is invalid."],
            "priority": ["The selected priority is invalid."],
        },
    )
    departments = json.loads(
        scalar(db, "SELECT value FROM settings WHERE `key` = 'ticket_departments'") or "[]"
    )
    if departments:
        r = api.post("tickets", {"subject": "x", "user_id": uid, "department": departments[0]})
        assert r.status_code == 201


def test_ticket_message_flips_the_ticket_status(api: Api, db: sa.Engine) -> None:
    owner = make_user(api)
    staff = make_user(api)
    r = api.post("tickets", {"subject": "Status flip", "user_id": owner, "status": "closed"})
    ticket = int(r.json()["data"]["id"])
    r = api.post(
        "ticket-messages", {"message": "We are on it", "user_id": staff, "ticket_id": ticket}
    )
    assert r.status_code == 201
    data = r.json()["data"]
    assert data["type"] == "ticketMessages"
    assert list(data["attributes"]) == ["id", "message", "updated_at", "created_at"]
    assert row(db, "tickets", ticket)["status"] == "replied"  # type: ignore[index]
    flip = audits(db, "App\\Models\\Ticket", ticket)[-1]
    assert json.loads(flip["old_values"]) == {"status": "closed"}
    assert json.loads(flip["new_values"]) == {"status": "replied"}
    r = api.post("ticket-messages", {"message": "Thanks", "user_id": owner, "ticket_id": ticket})
    assert row(db, "tickets", ticket)["status"] == "open"  # type: ignore[index]
    message = int(r.json()["data"]["id"])
    assert api.delete(f"ticket-messages/{message}").status_code == 204
    assert row(db, "ticket_messages", message) is None
    check_422(
        api.post("ticket-messages", {"message": "x" * 5001, "user_id": owner, "ticket_id": ticket}),
        {"message": ["The message field must not be greater than 5000 characters."]},
    )


# -- services ---------------------------------------------------------------------------------


def test_service_store_defaults_and_plan_rule(api: Api, db: sa.Engine) -> None:
    plans = rows(
        db,
        "SELECT id, priceable_id FROM plans WHERE priceable_type = :product_cls ORDER BY id",
    )
    assert plans, "the seed data has no product plans"
    plan = plans[0]
    uid = make_user(api)
    cur = currencies(db)[0]
    body = {
        "product_id": plan["priceable_id"],
        "plan_id": plan["id"],
        "user_id": uid,
        "currency_code": cur,
        "price": 9.5,
    }
    r = api.post("services", body)
    assert r.status_code == 201
    attrs = r.json()["data"]["attributes"]
    assert attrs["quantity"] == 1
    assert attrs["status"] == "pending"
    assert attrs["price"] == 9.5
    assert attrs["expires_at"] is None
    sid = int(r.json()["data"]["id"])
    stored = row(db, "services", sid)
    assert stored is not None
    assert api.get(f"services/{sid}").json()["data"] == resource_object(
        "services", stored, app_timezone(db)
    )
    other = [p for p in plans if p["priceable_id"] != plan["priceable_id"]]
    if other:
        check_422(
            api.post("services", {**body, "plan_id": other[0]["id"]}),
            {"plan_id": ["The selected plan does not belong to the specified product."]},
        )
    check_422(
        api.post("services", {**body, "expires_at": "2000-01-01", "quantity": 0}),
        {
            "quantity": ["The quantity field must be at least 1."],
            "expires_at": ["The expires at field must be a date after or equal to today."],
        },
    )
    r = api.patch(f"services/{sid}", {"status": "active", "expires_at": "2099-12-31 13:00:00"})
    assert r.status_code == 200
    assert r.json()["data"]["attributes"]["expires_at"] == iso_date(
        "2099-12-31", ZoneInfo(str(app_timezone(db)))
    )
    assert r.json()["data"]["attributes"]["price"] == "9.50"


# -- audit trail of every writable resource ---------------------------------------------------


def lifecycle_bodies(api: Api, db: sa.Engine) -> dict[str, tuple[dict[str, Any], dict[str, Any]]]:
    uid = make_user(api)
    cur = currencies(db)
    plan = rows(
        db,
        "SELECT id, priceable_id FROM plans WHERE priceable_type = :product_cls ORDER BY id",
    )[0]
    invoice = int(scalar(db, "SELECT MIN(id) FROM invoices"))
    ticket = int(scalar(db, "SELECT MIN(id) FROM tickets"))
    return {
        "users": ({"email": email(), "password": "lifecycle-pass"}, {"last_name": "Lovelace"}),
        "services": (
            {
                "product_id": plan["priceable_id"],
                "plan_id": plan["id"],
                "user_id": uid,
                "currency_code": cur[0],
                "price": "1.00",
            },
            {"status": "active"},
        ),
        "orders": ({"user_id": uid, "currency_code": cur[0]}, {"currency_code": cur[-1]}),
        "invoices": ({"user_id": uid, "currency_code": cur[0]}, {"status": "cancelled"}),
        "invoice-items": (
            {"invoice_id": invoice, "description": "x", "price": 1, "quantity": 1},
            {"quantity": 3},
        ),
        "tickets": ({"subject": "Lifecycle", "user_id": uid}, {"priority": "high"}),
        "ticket-messages": ({"message": "hello", "user_id": uid, "ticket_id": ticket}, {}),
        "credits": ({"user_id": uid, "currency_code": cur[0], "amount": 2}, {"amount": 5}),
    }


MODELS = {
    "users": "App\\Models\\User",
    "services": "App\\Models\\Service",
    "orders": "App\\Models\\Order",
    "invoices": "App\\Models\\Invoice",
    "invoice-items": "App\\Models\\InvoiceItem",
    "tickets": "App\\Models\\Ticket",
    "ticket-messages": "App\\Models\\TicketMessage",
    "credits": "App\\Models\\Credit",
}


@pytest.mark.parametrize("ep", list(MODELS))
def test_create_update_delete_are_audited(api: Api, db: sa.Engine, ep: str) -> None:
    create, update = lifecycle_bodies(api, db)[ep]
    r = api.post(ep, create)
    assert r.status_code == 201, r.text
    new_id = int(r.json()["data"]["id"])
    events = ["created"]
    if update:
        number = None
        if ep == "invoices":
            number = scalar(db, "SELECT number FROM invoices WHERE id = :id", id=new_id)
        r = api.patch(f"{ep}/{number or new_id}", update)
        assert r.status_code == 200, r.text
        events.append("updated")
        [(key, value)] = update.items()
        last = audits(db, MODELS[ep], new_id)[-1]
        assert json.loads(last["new_values"]) == {key: value}
    target_id = new_id
    if ep == "invoices":
        target_id = scalar(db, "SELECT number FROM invoices WHERE id = :id", id=new_id) or new_id
    assert api.delete(f"{ep}/{target_id}").status_code == 204
    events.append("deleted")
    trail = audits(db, MODELS[ep], new_id)
    assert [a["event"] for a in trail] == events
    assert json.loads(trail[0]["new_values"])["id"] == new_id
    assert int(json.loads(trail[-1]["old_values"])["id"]) == new_id


def test_paying_an_invoice_renews_its_services(api: Api, db: sa.Engine) -> None:
    plans = rows(
        db,
        "SELECT * FROM plans WHERE priceable_type = :product_cls AND type = 'recurring'"
        " AND billing_unit IN ('day', 'week', 'month', 'year') ORDER BY id",
    )
    if not plans:
        pytest.skip("the seed data has no recurring plans")
    plan = plans[0]
    uid = make_user(api)
    cur = currencies(db)[0]
    service = api.post(
        "services",
        {
            "product_id": plan["priceable_id"],
            "plan_id": plan["id"],
            "user_id": uid,
            "currency_code": cur,
            "price": 5,
        },
    ).json()["data"]
    invoice_id = int(
        api.post("invoices", {"user_id": uid, "currency_code": cur}).json()["data"]["id"]
    )
    item = {
        "invoice_id": invoice_id,
        "description": "Renewal",
        "price": 5,
        "quantity": 1,
        "reference_type": "App\\Models\\Service",
        "reference_id": int(service["id"]),
    }
    assert api.post("invoice-items", item).status_code == 201
    number = row(db, "invoices", invoice_id)["number"]  # type: ignore[index]
    assert api.patch(f"invoices/{number}", {"status": "paid"}).status_code == 200
    renewed = row(db, "services", int(service["id"]))
    assert renewed is not None
    assert renewed["status"] == "active"
    today = dt.datetime.now(app_timezone(db)).date()
    unit, period = plan["billing_unit"], int(plan["billing_period"])
    days = {"day": 1, "week": 7, "month": 28, "year": 365}[unit] * period
    expires = dt.date.fromisoformat(str(renewed["expires_at"])[:10])
    assert days - 1 <= (expires - today).days <= days + 4 * period
    assert audits(db, "App\\Models\\Service", int(service["id"]))[-1]["event"] == "updated"


def test_an_unchanged_update_writes_nothing(api: Api, db: sa.Engine) -> None:
    uid = make_user(api)
    cur = currencies(db)[0]
    created = api.post("invoices", {"user_id": uid, "currency_code": cur, "due_at": "2032-02-02"})
    invoice_id = int(created.json()["data"]["id"])
    number = row(db, "invoices", invoice_id)["number"]  # type: ignore[index]
    before = row(db, "invoices", invoice_id)
    trail = len(audits(db, "App\\Models\\Invoice", invoice_id))
    r = api.put(
        f"invoices/{number}", {"due_at": "2032-02-02", "currency_code": cur, "status": "pending"}
    )
    assert r.status_code == 200
    assert (
        r.json()["data"]["attributes"]["updated_at"]
        == created.json()["data"]["attributes"]["updated_at"]
    )
    assert row(db, "invoices", invoice_id) == before
    assert len(audits(db, "App\\Models\\Invoice", invoice_id)) == trail
