"""Invoice items, whose polymorphic `reference` is a service, credit or service upgrade."""

from __future__ import annotations

from typing import Any

from handlers import phpish
from handlers.context import Context
from handlers.model import Relation, Resource, Row, Rules
from handlers.resources.services import STAMPS
from handlers.resources.users import CRUD
from handlers.validation import Fail

REFERENCE_TABLES = {
    f"App\\Models\\{name}": table
    for name, table in (
        ("Service", "services"),
        ("Credit", "credits"),
        ("ServiceUpgrade", "service_upgrades"),
        ("User", "users"),
        ("Order", "orders"),
        ("Invoice", "invoices"),
        ("InvoiceItem", "invoice_items"),
        ("Ticket", "tickets"),
        ("TicketMessage", "ticket_messages"),
        ("Product", "products"),
        ("Category", "categories"),
        ("Plan", "plans"),
        ("Price", "prices"),
        ("Coupon", "coupons"),
        ("Property", "properties"),
        ("Role", "roles"),
    )
}


def _reference_rule(ctx: Context) -> Any:
    def rule(attribute: str, value: Any, fail: Fail) -> None:
        kind = ctx.request.input("reference_type")
        if phpish.empty(kind):
            return
        if phpish.empty(value):
            fail("The reference_id field is required when reference_type is provided.")
            return
        table = REFERENCE_TABLES.get(kind.lstrip("\\")) if isinstance(kind, str) else None
        if table is None:
            fail("The reference_type must be a valid class name.")
            return
        count = ctx.db.scalar(f"SELECT COUNT(*) FROM `{table}` WHERE `id` = ?", [value])
        if int(count or 0) == 0:
            fail("The selected reference_id is invalid for the given reference_type.")

    return rule


def _create_rules(ctx: Context, data: Row) -> Rules:
    return {
        "invoice_id": ["required", "exists:invoices,id"],
        "description": ["required", "string", "max:255"],
        "price": ["required", "numeric", "min:0"],
        "quantity": ["required", "integer", "min:1"],
        "reference_type": ["nullable", "string", "max:255"],
        "reference_id": ["nullable", "integer", _reference_rule(ctx)],
    }


def _update_rules(ctx: Context, data: Row, row: Row) -> Rules:
    # invoice_id has no rule on update, so it cannot be changed.
    return {
        "description": ["sometimes", "string", "max:255"],
        "quantity": ["sometimes", "integer", "min:1"],
        "price": ["sometimes", "numeric", "min:0"],
        "reference_type": ["sometimes", "string", "max:100"],
        "reference_id": ["sometimes", "integer", _reference_rule(ctx)],
    }


INVOICE_ITEMS = Resource(
    type="invoiceItems",
    table="invoice_items",
    model_class="App\\Models\\InvoiceItem",
    route="invoice-items",
    permission="invoice_items",
    actions=CRUD,
    attributes={
        "id": "int",
        "description": "string",
        "quantity": "int",
        "price": "decimal_cast",
        "reference_type": "string",
        "reference_id": "int",
        **STAMPS,
    },
    relationships={
        "reference": Relation("reference"),
        "invoice": Relation("belongs_to", "invoices", foreign_key="invoice_id"),
    },
    filters=("id", "quantity", "price", "reference_type", "reference_id"),
    sorts=("id", "created_at", "updated_at", "quantity", "price"),
    includes=("gateway", "reference", "invoice"),
    # A default status is merged before validation and then dropped (no rule names it).
    defaults={"status": "pending"},
    create_rules=_create_rules,
    update_rules=_update_rules,
)

RESOURCES = (INVOICE_ITEMS,)
