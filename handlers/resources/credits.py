"""Credits: one row per (user, currency), enforced by validation."""

from __future__ import annotations

from handlers import phpish
from handlers.context import Context
from handlers.model import Relation, Resource, Row, Rules

CRUD = ("index", "show", "store", "update", "destroy")
STAMPS = {"updated_at": "datetime", "created_at": "datetime"}


def _create_rules(ctx: Context, data: Row) -> Rules:
    user_id = data.get("user_id")
    scalar = user_id is not None and not isinstance(user_id, dict | list)
    owner = phpish.to_string(user_id) if scalar else ""
    return {
        "user_id": ["required", "exists:users,id"],
        "currency_code": [
            "required",
            "string",
            "exists:currencies,code",
            f"unique:credits,currency_code,NULL,id,user_id,{owner}",
        ],
        "amount": ["required", "numeric", "min:0"],
    }


def _update_rules(ctx: Context, data: Row, row: Row) -> Rules:
    # user_id has no rule on update, so it cannot be changed.
    unique = f"unique:credits,currency_code,{row['id']},id,user_id,{row['user_id']}"
    return {
        "currency_code": ["sometimes", "required", "string", "exists:currencies,code", unique],
        "amount": ["sometimes", "required", "numeric", "min:0"],
    }


CREDITS = Resource(
    type="credits",
    table="credits",
    model_class="App\\Models\\Credit",
    route="credits",
    permission="credits",
    actions=CRUD,
    attributes={"id": "int", "currency_code": "string", "amount": "decimal", **STAMPS},
    relationships={"user": Relation("belongs_to", "users", foreign_key="user_id")},
    filters=("id", "currency_code", "user_id"),
    sorts=("id", "created_at", "updated_at", "currency_code"),
    includes=("user",),
    create_rules=_create_rules,
    update_rules=_update_rules,
)

RESOURCES = (CREDITS,)
