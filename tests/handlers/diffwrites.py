"""Write requests for the differential test, valid and invalid, on every writable resource."""

from __future__ import annotations

from typing import Any

from tests.handlers.diffgen import Call, Generator


def _user(g: Generator, n: int) -> Any:
    return g.pick(
        [
            {"email": f"diff{n}@example.test", "password": "password123", "first_name": "Zoë"},
            {"email": f"diff{n}@example.test", "password": "short"},
            {"email": "not-an-email", "password": "password123", "last_name": ""},
            {"first_name": "x" * 300},
            {"email": f"diff{n}@example.test", "password": "password123", "role_id": 999},
            {
                "email": f" Diff{n}@Example.test ",
                "password": "password123",
                "email_verified_at": "2025-01-02",
            },
        ]
    )


def _credit(g: Generator, n: int) -> Any:
    return {
        "user_id": g.pick([g.some_id("users"), 999999, "abc"]),
        "currency_code": g.pick([*g.world.currencies, "ZZZ"]),
        "amount": g.pick([12.5, "7", -1, "abc", 0, "1e2"]),
    }


def _order(g: Generator, n: int) -> Any:
    return g.pick(
        [
            {"user_id": g.some_id("users"), "currency_code": g.pick(g.world.currencies)},
            {"user_id": str(g.some_id("users")), "currency_code": "ZZZ"},
            {},
        ]
    )


def _ticket(g: Generator, n: int) -> Any:
    return g.pick(
        [
            {"subject": f"Help {n}", "user_id": g.some_id("users")},
            {
                "subject": f"Help {n}",
                "user_id": g.some_id("users"),
                "priority": "high",
                "status": "closed",
            },
            {"subject": "", "user_id": 999999, "priority": "urgent"},
            {"subject": "Dept", "user_id": g.some_id("users"), "department": "nope"},
        ]
    )


def _message(g: Generator, n: int) -> Any:
    return g.pick(
        [
            {
                "message": f"Reply {n}",
                "user_id": g.some_id("users"),
                "ticket_id": g.some_id("tickets"),
            },
            {"message": "", "user_id": g.some_id("users"), "ticket_id": 999999},
            {"message": "x" * 5001, "user_id": "abc", "ticket_id": g.some_id("tickets")},
        ]
    )


def _invoice(g: Generator, n: int) -> Any:
    return g.pick(
        [
            {"user_id": g.some_id("users"), "currency_code": g.pick(g.world.currencies)},
            {
                "user_id": g.some_id("users"),
                "currency_code": g.pick(g.world.currencies),
                "due_at": "2025-06-01",
                "status": "paid",
            },
            {
                "user_id": g.some_id("users"),
                "currency_code": "USD",
                "status": "unknown",
                "due_at": "soon",
            },
        ]
    )


def _item(g: Generator, n: int) -> Any:
    return g.pick(
        [
            {
                "invoice_id": g.some_id("invoices"),
                "description": f"Item {n}",
                "price": 9.99,
                "quantity": 2,
            },
            {
                "invoice_id": g.some_id("invoices"),
                "description": "Credit",
                "price": "25",
                "quantity": 1,
                "reference_type": "App\\Models\\Credit",
                "reference_id": g.some_id("credits"),
            },
            {"invoice_id": 999999, "description": "", "price": "-3", "quantity": 0},
            {
                "invoice_id": g.some_id("invoices"),
                "description": "Bad ref",
                "price": 1,
                "quantity": 1,
                "reference_type": "App\\Models\\Nope",
                "reference_id": 1,
            },
        ]
    )


BODIES = {
    "users": _user,
    "credits": _credit,
    "orders": _order,
    "tickets": _ticket,
    "ticket-messages": _message,
    "invoices": _invoice,
    "invoice-items": _item,
}
TABLES = {
    "users": "users",
    "credits": "credits",
    "orders": "orders",
    "tickets": "tickets",
    "ticket-messages": "ticket_messages",
    "invoices": "invoices",
    "invoice-items": "invoice_items",
}
PATCHES = {
    "users": lambda g: g.pick(
        [{"first_name": "Renamed"}, {"email": "bad"}, {"password": "newpassword1"}]
    ),
    "credits": lambda g: g.pick(
        [{"amount": "99.5"}, {"currency_code": g.pick(g.world.currencies)}]
    ),
    "orders": lambda g: {"currency_code": g.pick(g.world.currencies)},
    "tickets": lambda g: g.pick([{"status": "closed"}, {"priority": "low"}, {"status": "nope"}]),
    "ticket-messages": lambda g: {"message": "edited"},
    "invoices": lambda g: g.pick(
        [
            {"status": "paid"},
            {"status": "cancelled"},
            {"due_at": "2026-01-31"},
            {"due_at": "2026-01-31T23:30:00+02:00"},
            {"due_at": "2026-02-30"},
            {
                "due_at": g.pick(
                    ["2026/03/01", "03/01/2026", "1 March 2026", "20260301", "tomorrow"]
                )
            },
        ]
    ),
    "invoice-items": lambda g: g.pick([{"price": 3}, {"quantity": "4"}, {"description": ""}]),
}


def write_call(g: Generator, n: int) -> Call:
    path = g.pick(list(BODIES))
    roll = g.rng.random()
    token = g.pick(["admin"] * 8 + ["restricted", None])
    if roll < 0.5:
        return Call("POST", path, token=token, json=BODIES[path](g, n))
    key = g.some_id(TABLES[path])
    if roll < 0.8:
        method = g.pick(["PATCH", "PUT"])
        return Call(method, f"{path}/{key}", token=token, json=PATCHES[path](g))
    if roll < 0.9:
        return Call("DELETE", f"{path}/{key}", token=token)
    odd = g.pick(
        [
            Call("POST", path, content=b"{not json", content_type="application/json"),
            Call("POST", path, content=b"user_id=1", content_type="text/plain"),
            Call("POST", path, json={"user_id": 1}, accept=None),
            Call("PUT", "products/1", json={"name": "x"}),
            Call("DELETE", "categories/1"),
        ]
    )
    return odd
