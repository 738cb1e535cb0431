"""The endpoints of the admin API as paymenter-api.md lists them (sections 1.2, 1.5 and 2.3)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Endpoint:
    path: str
    rtype: str
    table: str
    model: str
    filters: tuple[str, ...]
    sorts: tuple[str, ...]
    includes: tuple[str, ...]
    writable: bool = True


ENDPOINTS: dict[str, Endpoint] = {
    e.path: e
    for e in [
        Endpoint(
            "users",
            "users",
            "users",
            "App\\Models\\User",
            ("first_name", "last_name", "email"),
            ("id", "first_name", "last_name", "email", "created_at"),
            ("properties", "orders", "services", "invoices", "tickets", "credits", "role"),
        ),
        Endpoint(
            "services",
            "services",
            "services",
            "App\\Models\\Service",
            ("quantity", "price", "expires_at", "subscription_id", "status"),
            ("id", "created_at", "updated_at", "expires_at", "status"),
            ("order", "coupon", "user", "product", "invoices", "properties"),
        ),
        Endpoint(
            "orders",
            "orders",
            "orders",
            "App\\Models\\Order",
            ("id", "currency_code"),
            ("id", "created_at", "updated_at", "currency_code"),
            ("services", "user"),
        ),
        Endpoint(
            "invoices",
            "invoices",
            "invoices",
            "App\\Models\\Invoice",
            ("id", "currency_code", "user_id", "status"),
            ("id", "created_at", "updated_at", "currency_code"),
            ("items", "user"),
        ),
        Endpoint(
            "invoice-items",
            "invoiceItems",
            "invoice_items",
            "App\\Models\\InvoiceItem",
            ("id", "quantity", "price", "reference_type", "reference_id"),
            ("id", "created_at", "updated_at", "quantity", "price"),
            ("gateway", "reference", "invoice"),
        ),
        Endpoint(
            "tickets",
            "tickets",
            "tickets",
            "App\\Models\\Ticket",
            ("id", "currency_code", "user_id", "status", "priority", "department"),
            ("id", "created_at", "updated_at", "currency_code", "status", "priority", "department"),
            ("messages", "user", "assigned_to"),
        ),
        Endpoint(
            "ticket-messages",
            "ticketMessages",
            "ticket_messages",
            "App\\Models\\TicketMessage",
            ("id", "currency_code"),
            ("id", "created_at", "updated_at", "currency_code"),
            ("user", "ticket", "attachments"),
        ),
        Endpoint(
            "credits",
            "credits",
            "credits",
            "App\\Models\\Credit",
            ("id", "currency_code", "user_id"),
            ("id", "created_at", "updated_at", "currency_code"),
            ("user",),
        ),
        Endpoint(
            "products",
            "products",
            "products",
            "App\\Models\\Product",
            ("name", "slug", "category_id", "server_id", "hidden", "allow_quantity"),
            ("id", "created_at", "updated_at", "name", "sort", "stock"),
            ("category", "plans.prices", "services"),
            writable=False,
        ),
        Endpoint(
            "categories",
            "categories",
            "categories",
            "App\\Models\\Category",
            ("name", "parent_id", "slug"),
            ("id", "created_at", "updated_at", "name"),
            ("products.plans.prices", "parent", "children"),
            writable=False,
        ),
    ]
}

# Columns that do not exist on the table: filtering or sorting by them is a database error.
MISSING_COLUMNS = {("tickets", "currency_code"), ("ticket-messages", "currency_code")}

# Includes that are accepted but never appear in the document.
SILENT_INCLUDES = {("invoice-items", "gateway"), ("products", "services")}

# Includes that need a view permission (relation name mapped as in §1.5).
GATED = {
    "user": "users",
    "role": "roles",
    "messages": "ticket_messages",
    "ticket": "tickets",
    "plans.prices": "products",
    "orders": "orders",
    "services": "services",
    "invoices": "invoices",
    "tickets": "tickets",
    "credits": "credits",
    "properties": "properties",
}

RESTRICTED_PERMISSIONS = [
    "admin.users.view",
    "admin.invoices.view",
    "admin.tickets.view",
    "admin.ticket_messages.view",
]


def allowed_include_names(includes: tuple[str, ...], permissions: list[str]) -> list[str]:
    """Every accepted include name for a key, in the order the 400 message lists them."""
    names: list[str] = []
    for include in includes:
        gate = GATED.get(include)
        if gate is not None and f"admin.{gate}.view" not in permissions:
            continue
        path = ""
        for segment in include.split("."):
            path = segment if not path else f"{path}.{segment}"
            candidates = [path] if "." in path else [path, f"{path}Count", f"{path}Exists"]
            for name in candidates:
                if name not in names:
                    names.append(name)
    return names
