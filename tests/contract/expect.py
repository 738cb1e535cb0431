"""Expected values, computed from the database with the rules of paymenter-api.md.

Nothing here reads the application's answers: attributes, relationships and dates are rebuilt
from rows read directly with SQLAlchemy, following the specification's tables (section 2.4) and
value formats (section 2.5).
"""

from __future__ import annotations

import datetime as dt
import json
import unicodedata
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

import sqlalchemy as sa

# Resource type → (table, [(attribute, kind)]) in output order (paymenter-api.md §2.4).
RESOURCES: dict[str, tuple[str, list[tuple[str, str]]]] = {
    "users": (
        "users",
        [
            ("id", "int"),
            ("first_name", "str"),
            ("last_name", "str"),
            ("email", "str"),
            ("email_verified_at", "datetime"),
            ("updated_at", "datetime"),
            ("created_at", "datetime"),
        ],
    ),
    "services": (
        "services",
        [
            ("id", "int"),
            ("quantity", "int"),
            ("price", "decimal"),
            ("status", "str"),
            ("currency_code", "str"),
            ("expires_at", "date"),
            ("updated_at", "datetime"),
            ("created_at", "datetime"),
        ],
    ),
    "orders": (
        "orders",
        [
            ("id", "int"),
            ("currency_code", "str"),
            ("user_id", "int"),
            ("updated_at", "datetime"),
            ("created_at", "datetime"),
        ],
    ),
    "invoices": (
        "invoices",
        [
            ("id", "int"),
            ("status", "str"),
            ("currency_code", "str"),
            ("due_at", "date"),
            ("updated_at", "datetime"),
            ("created_at", "datetime"),
        ],
    ),
    "invoiceItems": (
        "invoice_items",
        [
            ("id", "int"),
            ("description", "str"),
            ("quantity", "int"),
            ("price", "decimal"),
            ("reference_type", "str"),
            ("reference_id", "int"),
            ("updated_at", "datetime"),
            ("created_at", "datetime"),
        ],
    ),
    "tickets": (
        "tickets",
        [
            ("id", "int"),
            ("subject", "str"),
            ("status", "str"),
            ("priority", "str"),
            ("assigned_to", "int"),
            ("user_id", "int"),
            ("department", "str"),
            ("updated_at", "datetime"),
            ("created_at", "datetime"),
        ],
    ),
    "ticketMessages": (
        "ticket_messages",
        [("id", "int"), ("message", "str"), ("updated_at", "datetime"), ("created_at", "datetime")],
    ),
    "ticketMessageAttachments": (
        "ticket_message_attachments",
        [
            ("id", "int"),
            ("uuid", "str"),
            ("filename", "str"),
            ("path", "str"),
            ("filesize", "int"),
            ("mime_type", "str"),
            ("created_at", "datetime"),
            ("updated_at", "datetime"),
        ],
    ),
    "credits": (
        "credits",
        [
            ("id", "int"),
            ("currency_code", "str"),
            ("amount", "decimal"),
            ("updated_at", "datetime"),
            ("created_at", "datetime"),
        ],
    ),
    "products": (
        "products",
        [
            ("id", "int"),
            ("name", "str"),
            ("description", "str"),
            ("image", "str"),
            ("slug", "str"),
            ("stock", "int"),
            ("per_user_limit", "int"),
            ("sort", "int"),
            ("allow_quantity", "str"),
            ("email_template", "str"),
            ("hidden", "int"),
            ("updated_at", "datetime"),
            ("created_at", "datetime"),
        ],
    ),
    "categories": (
        "categories",
        [
            ("id", "int"),
            ("name", "str"),
            ("parent_id", "int"),
            ("permissions", "null"),
            ("updated_at", "datetime"),
            ("created_at", "datetime"),
        ],
    ),
    "plans": (
        "plans",
        [
            ("id", "int"),
            ("name", "str"),
            ("type", "str"),
            ("billing_period", "int"),
            ("billing_unit", "str"),
            ("sort", "int"),
        ],
    ),
    "prices": (
        "prices",
        [("id", "int"), ("price", "decimal"), ("setup_fee", "decimal"), ("currency_code", "str")],
    ),
    "serviceUpgrades": (
        "service_upgrades",
        [
            ("id", "int"),
            ("status", "str"),
            ("service_id", "int"),
            ("plan_id", "int"),
            ("product_id", "int"),
            ("updated_at", "datetime"),
            ("created_at", "datetime"),
        ],
    ),
    "properties": (
        "properties",
        [
            ("id", "int"),
            ("name", "str"),
            ("key", "str"),
            ("value", "str"),
            ("updated_at", "datetime"),
            ("created_at", "datetime"),
        ],
    ),
    "roles": (
        "roles",
        [
            ("id", "int"),
            ("name", "str"),
            ("permissions", "json"),
            ("updated_at", "datetime"),
            ("created_at", "datetime"),
        ],
    ),
    "coupons": (
        "coupons",
        [
            ("id", "int"),
            ("code", "str"),
            ("type", "str"),
            ("recurring", "int"),
            ("value", "decimal"),
            ("max_uses", "int"),
            ("max_uses_per_user", "int"),
            ("starts_at", "datetime"),
            ("expires_at", "datetime"),
            ("updated_at", "datetime"),
            ("created_at", "datetime"),
        ],
    ),
}

MODEL_CLASS = {
    "users": "App\\Models\\User",
    "services": "App\\Models\\Service",
    "orders": "App\\Models\\Order",
    "invoices": "App\\Models\\Invoice",
    "invoiceItems": "App\\Models\\InvoiceItem",
    "tickets": "App\\Models\\Ticket",
    "ticketMessages": "App\\Models\\TicketMessage",
    "credits": "App\\Models\\Credit",
    "products": "App\\Models\\Product",
    "categories": "App\\Models\\Category",
}

# Relationship → (related type, to-many?, SQL selecting the related rows for :id / :fk).
# To-many relations are listed in id order (plans: by sort, then id).
Rel = tuple[str, bool, str, str | None]
RELATIONS: dict[str, dict[str, Rel]] = {
    "users": {
        "properties": (
            "properties",
            True,
            "SELECT * FROM properties WHERE model_type = :user_cls AND model_id = :id ORDER BY id",
            None,
        ),
        "orders": ("orders", True, "SELECT * FROM orders WHERE user_id = :id ORDER BY id", None),
        "services": (
            "services",
            True,
            "SELECT * FROM services WHERE user_id = :id ORDER BY id",
            None,
        ),
        "invoices": (
            "invoices",
            True,
            "SELECT * FROM invoices WHERE user_id = :id ORDER BY id",
            None,
        ),
        "tickets": ("tickets", True, "SELECT * FROM tickets WHERE user_id = :id ORDER BY id", None),
        "credits": ("credits", True, "SELECT * FROM credits WHERE user_id = :id ORDER BY id", None),
        "role": ("roles", False, "SELECT * FROM roles WHERE id = :fk", "role_id"),
    },
    "services": {
        "coupon": ("coupons", False, "SELECT * FROM coupons WHERE id = :fk", "coupon_id"),
        "user": ("users", False, "SELECT * FROM users WHERE id = :fk", "user_id"),
        "order": ("orders", False, "SELECT * FROM orders WHERE id = :fk", "order_id"),
        "product": ("products", False, "SELECT * FROM products WHERE id = :fk", "product_id"),
        "invoices": (
            "invoices",
            True,
            "SELECT invoices.* FROM invoices"
            " JOIN invoice_items ON invoice_items.invoice_id = invoices.id"
            " WHERE invoice_items.reference_type = :service_cls"
            " AND invoice_items.reference_id = :id ORDER BY invoice_items.id",
            None,
        ),
        "properties": (
            "properties",
            True,
            "SELECT * FROM properties WHERE model_type = :service_cls AND model_id = :id"
            " ORDER BY id",
            None,
        ),
    },
    "orders": {
        "services": (
            "services",
            True,
            "SELECT * FROM services WHERE order_id = :id ORDER BY id",
            None,
        ),
        "user": ("users", False, "SELECT * FROM users WHERE id = :fk", "user_id"),
    },
    "invoices": {
        "user": ("users", False, "SELECT * FROM users WHERE id = :fk", "user_id"),
        "items": (
            "invoiceItems",
            True,
            "SELECT * FROM invoice_items WHERE invoice_id = :id ORDER BY id",
            None,
        ),
    },
    "invoiceItems": {
        # reference is polymorphic; see reference_rows()
        "invoice": ("invoices", False, "SELECT * FROM invoices WHERE id = :fk", "invoice_id"),
    },
    "tickets": {
        "messages": (
            "ticketMessages",
            True,
            "SELECT * FROM ticket_messages WHERE ticket_id = :id ORDER BY id",
            None,
        ),
        "user": ("users", False, "SELECT * FROM users WHERE id = :fk", "user_id"),
    },
    "ticketMessages": {
        "user": ("users", False, "SELECT * FROM users WHERE id = :fk", "user_id"),
        "ticket": ("tickets", False, "SELECT * FROM tickets WHERE id = :fk", "ticket_id"),
        "attachments": (
            "ticketMessageAttachments",
            True,
            "SELECT * FROM ticket_message_attachments WHERE ticket_message_id = :id ORDER BY id",
            None,
        ),
    },
    "credits": {"user": ("users", False, "SELECT * FROM users WHERE id = :fk", "user_id")},
    "products": {
        "category": ("categories", False, "SELECT * FROM categories WHERE id = :fk", "category_id"),
        "plans": (
            "plans",
            True,
            "SELECT * FROM plans WHERE priceable_type = :product_cls"
            " AND priceable_id = :id ORDER BY sort, id",
            None,
        ),
    },
    "plans": {
        "prices": ("prices", True, "SELECT * FROM prices WHERE plan_id = :id ORDER BY id", None)
    },
    "categories": {
        "products": (
            "products",
            True,
            "SELECT * FROM products WHERE category_id = :id ORDER BY id",
            None,
        ),
        "parent": ("categories", False, "SELECT * FROM categories WHERE id = :fk", "parent_id"),
        "children": (
            "categories",
            True,
            "SELECT * FROM categories WHERE parent_id = :id ORDER BY id",
            None,
        ),
    },
}

REFERENCE_TYPES = {
    "App\\Models\\Service": ("services", "services"),
    "App\\Models\\Credit": ("credits", "credits"),
    "App\\Models\\ServiceUpgrade": ("serviceUpgrades", "service_upgrades"),
}


def app_timezone(engine: sa.Engine) -> ZoneInfo:
    with engine.connect() as conn:
        value = conn.execute(
            sa.text(
                "SELECT value FROM settings WHERE `key` = 'timezone' AND settingable_type IS NULL"
            )
        ).scalar()
    return ZoneInfo(value or "UTC")


def _naive(value: Any) -> dt.datetime | None:
    if value is None:
        return None
    if isinstance(value, dt.datetime):
        return value.replace(tzinfo=None)
    if isinstance(value, dt.date):
        return dt.datetime(value.year, value.month, value.day)
    text = str(value).replace("T", " ")
    if len(text) == 10:
        return dt.datetime.strptime(text, "%Y-%m-%d")
    return dt.datetime.strptime(text[:19], "%Y-%m-%d %H:%M:%S")


def iso(value: Any, tz: ZoneInfo) -> str | None:
    """A stored naive date-time (app timezone) as the API's UTC string."""
    naive = _naive(value)
    if naive is None:
        return None
    utc = naive.replace(tzinfo=tz).astimezone(dt.UTC)
    return utc.strftime("%Y-%m-%dT%H:%M:%S.000000Z")


def iso_date(value: Any, tz: ZoneInfo) -> str | None:
    """A `date`-cast value: start of that day in the app timezone, in UTC."""
    naive = _naive(value)
    if naive is None:
        return None
    return iso(dt.datetime(naive.year, naive.month, naive.day), tz)


def decimal2(value: Any) -> str | None:
    if value is None:
        return None
    return str(Decimal(str(value)).quantize(Decimal("0.01")))


def convert(kind: str, value: Any, tz: ZoneInfo) -> Any:
    if kind == "null" or value is None:
        return None
    if kind == "int":
        return int(value)
    if kind == "decimal":
        return decimal2(value)
    if kind == "datetime":
        return iso(value, tz)
    if kind == "date":
        return iso_date(value, tz)
    if kind == "json":
        return json.loads(value) if isinstance(value, str) else value
    return value if isinstance(value, str) else str(value)


def attributes(rtype: str, row: dict[str, Any], tz: ZoneInfo) -> dict[str, Any]:
    _, spec = RESOURCES[rtype]
    return {name: convert(kind, row.get(name), tz) for name, kind in spec}


def attribute_names(rtype: str) -> list[str]:
    return [name for name, _ in RESOURCES[rtype][1]]


def resource_object(rtype: str, row: dict[str, Any], tz: ZoneInfo) -> dict[str, Any]:
    return {"id": str(row["id"]), "type": rtype, "attributes": attributes(rtype, row, tz)}


# Class names are bound, never written into SQL: a backslash is an escape in MySQL literals.
CLASS_PARAMS = {
    "user_cls": "App\\Models\\User",
    "service_cls": "App\\Models\\Service",
    "product_cls": "App\\Models\\Product",
}


def _bind(sql: str, params: dict[str, Any]) -> dict[str, Any]:
    extra = {k: v for k, v in CLASS_PARAMS.items() if f":{k}" in sql and k not in params}
    return {**params, **extra}


def rows(engine: sa.Engine, sql: str, **params: Any) -> list[dict[str, Any]]:
    with engine.connect() as conn:
        return [dict(r._mapping) for r in conn.execute(sa.text(sql), _bind(sql, params))]


def row(engine: sa.Engine, table: str, id_: Any) -> dict[str, Any] | None:
    found = rows(engine, f"SELECT * FROM {table} WHERE id = :id", id=id_)
    return found[0] if found else None


def scalar(engine: sa.Engine, sql: str, **params: Any) -> Any:
    with engine.connect() as conn:
        return conn.execute(sa.text(sql), _bind(sql, params)).scalar()


def related(
    engine: sa.Engine, rtype: str, parent: dict[str, Any], relation: str
) -> tuple[str, bool, list[dict[str, Any]]]:
    """(related type, to-many?, related rows) of `relation` for a parent row."""
    if rtype == "invoiceItems" and relation == "reference":
        ref_type = parent.get("reference_type")
        if ref_type in REFERENCE_TYPES and parent.get("reference_id") is not None:
            rel_type, table = REFERENCE_TYPES[ref_type]
            found = rows(engine, f"SELECT * FROM {table} WHERE id = :id", id=parent["reference_id"])
            return rel_type, False, found
        return "services", False, []
    rel_type, many, sql, fk = RELATIONS[rtype][relation]
    if many:
        found = rows(engine, sql, id=parent["id"])
        unique: dict[Any, dict[str, Any]] = {}
        for r in found:
            unique.setdefault(r["id"], r)
        return rel_type, True, list(unique.values())
    assert fk is not None
    if parent.get(fk) is None:
        return rel_type, False, []
    return rel_type, False, rows(engine, sql, fk=parent[fk])


def fold(text: str, dialect: str) -> str:
    """How the database compares text in a case-insensitive LIKE."""
    if dialect == "mysql":
        decomposed = unicodedata.normalize("NFKD", text.casefold())
        return "".join(c for c in decomposed if not unicodedata.combining(c))
    return text


def like_matches(
    engine: sa.Engine, dialect: str, table: str, column: str, needle: str
) -> list[int]:
    """Ids whose LOWER(column) contains `needle` lower-cased (a partial filter's meaning)."""
    found = rows(engine, f"SELECT id, LOWER({column}) AS v FROM {table} ORDER BY id")
    wanted = fold(needle.lower(), dialect)
    return [
        int(r["id"]) for r in found if r["v"] is not None and wanted in fold(str(r["v"]), dialect)
    ]
