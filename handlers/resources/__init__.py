"""One module per resource: its JSON:API shape, query allow-lists, rules and side effects."""

from __future__ import annotations

from handlers.model import Resource


def all_resources() -> list[Resource]:
    from handlers.resources import (
        categories,
        credits,
        invoice_items,
        invoices,
        orders,
        products,
        services,
        ticket_messages,
        tickets,
        users,
    )

    return [
        *users.RESOURCES,
        *services.RESOURCES,
        *orders.RESOURCES,
        *invoices.RESOURCES,
        *invoice_items.RESOURCES,
        *tickets.RESOURCES,
        *ticket_messages.RESOURCES,
        *credits.RESOURCES,
        *products.RESOURCES,
        *categories.RESOURCES,
    ]
