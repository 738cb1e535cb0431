"""Invoices: numbered from the locked `invoice_number` setting; paying one credits its Credit
items to the user."""

from __future__ import annotations

from handlers import phpish, values
from handlers.audit import audit
from handlers.context import Context
from handlers.model import Relation, Resource, Row, Rules
from handlers.persist import insert_row, save_changes
from handlers.resources.credits import CREDITS
from handlers.resources.renewal import renew_service
from handlers.resources.services import STAMPS
from handlers.resources.users import CRUD

SETTING_CLASS = "App\\Models\\Setting"


def _lock_counter(ctx: Context) -> Row | None:
    # The request's transaction holds the lock until commit: on MariaDB a locking read of the
    # row, on SQLite the write lock taken by BEGIN IMMEDIATE when the transaction started.
    lock = "" if ctx.sqlite else " FOR UPDATE"
    sql = f"SELECT `id`, `value` FROM `settings` WHERE `key` = ? LIMIT 1{lock}"
    return ctx.db.one(sql, ["invoice_number"])


def next_invoice_number(ctx: Context) -> str:
    setting = _lock_counter(ctx)
    current = None if setting is None else setting["value"]
    number = phpish.int_cast(current) + 1
    now = ctx.now_db()
    if setting is None:
        sql = (
            "INSERT INTO `settings` (`key`, `value`, `created_at`, `updated_at`) "
            "VALUES (?, ?, ?, ?)"
        )
        key = ctx.db.execute(sql, ["invoice_number", str(number), now, now])
        audit(
            ctx,
            "created",
            SETTING_CLASS,
            key,
            {},
            {"key": "invoice_number", "value": number, "id": key},
        )
    elif str(current) != str(number):
        ctx.db.execute(
            "UPDATE `settings` SET `value` = ?, `updated_at` = ? WHERE `id` = ?",
            [str(number), now, setting["id"]],
        )
        audit(ctx, "updated", SETTING_CLASS, setting["id"], {"value": current}, {"value": number})
    return format_number(ctx, number)


def format_number(ctx: Context, number: int) -> str:
    padding = phpish.int_cast(ctx.setting("invoice_number_padding", 1))
    template = str(ctx.setting("invoice_number_format", "{number}"))
    now = ctx.now()
    return (
        template.replace("{number}", str(number).rjust(max(0, padding), "0"))
        .replace("{year}", now.strftime("%Y"))
        .replace("{month}", now.strftime("%m"))
        .replace("{day}", now.strftime("%d"))
    )


def process_paid_invoice(ctx: Context, invoice: Row) -> None:
    """Service items renew their service; Credit items add their price to the user's credit
    in the invoice currency."""
    items = ctx.db.all(
        "SELECT * FROM `invoice_items` WHERE `invoice_id` = ? ORDER BY `id` ASC", [invoice["id"]]
    )
    for item in items:
        if item.get("reference_type") == "App\\Models\\Service":
            service = ctx.db.one("SELECT * FROM `services` WHERE `id` = ?", [item["reference_id"]])
            if service is not None:
                renew_service(ctx, service)
        elif item.get("reference_type") == "App\\Models\\Credit":
            _add_credit(ctx, invoice, values.decimal_str(item["price"]) or "0.00")


def _add_credit(ctx: Context, invoice: Row, price: str) -> None:
    credit = ctx.db.one(
        "SELECT * FROM `credits` WHERE `user_id` = ? AND `currency_code` = ? "
        "ORDER BY `id` ASC LIMIT 1",
        [invoice["user_id"], invoice["currency_code"]],
    )
    if credit is not None:
        amount = float(values.decimal_str(credit["amount"]) or 0) + float(price)
        save_changes(ctx, CREDITS, credit, {"amount": amount})
        return
    now = ctx.now_db()
    attrs = {
        "currency_code": invoice["currency_code"],
        "amount": price,
        "user_id": invoice["user_id"],
    }
    key = insert_row(ctx, "credits", {**attrs, "updated_at": now, "created_at": now})
    audit(ctx, "created", "App\\Models\\Credit", key, {}, {**attrs, "id": key})


def _create_rules(ctx: Context, data: Row) -> Rules:
    return {
        "user_id": ["required", "exists:users,id"],
        "currency_code": ["required", "string", "exists:currencies,code"],
        "due_at": ["nullable", "date"],
        "status": ["required", "string", "in:pending,paid,cancelled"],
    }


def _update_rules(ctx: Context, data: Row, row: Row) -> Rules:
    return {name: ["sometimes", *rules] for name, rules in _create_rules(ctx, data).items()}


def _creating(ctx: Context, attributes: Row) -> Row:
    if not phpish.empty(ctx.setting("invoice_proforma", False)):
        return {}
    return {"number": next_invoice_number(ctx)}


def _updating(ctx: Context, attributes: Row, row: Row) -> Row:
    becomes_paid = attributes.get("status") == "paid" and row["status"] != "paid"
    if becomes_paid and row.get("number") in (None, ""):
        return {"number": next_invoice_number(ctx)}
    return {}


def _updated(ctx: Context, invoice: Row, old: Row, new: Row) -> None:
    if new.get("status") == "paid":
        process_paid_invoice(ctx, invoice)


INVOICES = Resource(
    type="invoices",
    table="invoices",
    model_class="App\\Models\\Invoice",
    route="invoices",
    permission="invoices",
    actions=CRUD,
    attributes={
        "id": "int",
        "status": "string",
        "currency_code": "string",
        "due_at": "date",
        **STAMPS,
    },
    relationships={
        "user": Relation("belongs_to", "users", foreign_key="user_id"),
        "items": Relation("has_many", "invoiceItems", foreign_key="invoice_id"),
    },
    filters=("id", "currency_code", "user_id", "status"),
    sorts=("id", "created_at", "updated_at", "currency_code"),
    includes=("items", "user"),
    defaults={"status": "pending"},
    create_rules=_create_rules,
    update_rules=_update_rules,
    creating=_creating,
    updating=_updating,
    updated=_updated,
)

RESOURCES = (INVOICES,)
