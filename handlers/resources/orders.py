"""Orders."""

from __future__ import annotations

from handlers.context import Context
from handlers.model import Relation, Resource, Row, Rules
from handlers.resources.services import STAMPS
from handlers.resources.users import CRUD


def _create_rules(ctx: Context, data: Row) -> Rules:
    return {
        "user_id": ["required", "exists:users,id"],
        "currency_code": ["required", "string", "exists:currencies,code"],
    }


def _update_rules(ctx: Context, data: Row, row: Row) -> Rules:
    return {name: ["sometimes", *rules] for name, rules in _create_rules(ctx, data).items()}


ORDERS = Resource(
    type="orders",
    table="orders",
    model_class="App\\Models\\Order",
    route="orders",
    permission="orders",
    actions=CRUD,
    attributes={"id": "int", "currency_code": "string", "user_id": "int", **STAMPS},
    relationships={
        "services": Relation("has_many", "services", foreign_key="order_id"),
        "user": Relation("belongs_to", "users", foreign_key="user_id"),
    },
    filters=("id", "currency_code"),
    sorts=("id", "created_at", "updated_at", "currency_code"),
    includes=("services", "user"),
    create_rules=_create_rules,
    update_rules=_update_rules,
)

RESOURCES = (ORDERS,)
