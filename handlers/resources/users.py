"""Users (with their properties and role as includable resources)."""

from __future__ import annotations

from typing import Any

from handlers.context import Context
from handlers.model import Model, Relation, Resource, Row, Rules
from handlers.passwords import UnusableHash, password_value
from handlers.query import ServerError

CRUD = ("index", "show", "store", "update", "destroy")


def _meta(model: Model) -> dict[str, Any]:
    """With properties loaded, meta.properties maps key to value (a JSON [] when empty)."""
    if "properties" not in model.rels:
        return {}
    loaded = model.rels["properties"]
    items = loaded if isinstance(loaded, list) else []
    mapping = {str(p.row["key"]): p.row["value"] for p in items}
    return {"properties": mapping if mapping else []}


def _create_rules(ctx: Context, data: Row) -> Rules:
    return {
        "first_name": ["nullable", "string", "max:255"],
        "last_name": ["nullable", "string", "max:255"],
        "email": ["required", "email", "max:255", "unique:users,email"],
        "password": ["required", "string", "min:8"],
        "email_verified_at": ["nullable", "date"],
        "role_id": ["nullable", "exists:roles,id"],
    }


def _update_rules(ctx: Context, data: Row, row: Row) -> Rules:
    return {
        "first_name": ["sometimes", "nullable", "string", "max:255"],
        "last_name": ["sometimes", "nullable", "string", "max:255"],
        "email": ["sometimes", "required", "email", "max:255", f"unique:users,email,{row['id']}"],
        "password": ["sometimes", "string", "min:8"],
        "email_verified_at": ["sometimes", "nullable", "date"],
        "role_id": ["sometimes", "nullable", "exists:roles,id"],
    }


def _saving(ctx: Context, attributes: Row, row: Row | None) -> Row:
    if attributes.get("password") is not None:
        try:
            attributes["password"] = password_value(str(attributes["password"]))
        except UnusableHash as exc:
            raise ServerError(str(exc)) from exc
    return attributes


def _stamps() -> dict[str, str]:
    return {"updated_at": "datetime", "created_at": "datetime"}


USERS = Resource(
    type="users",
    table="users",
    model_class="App\\Models\\User",
    route="users",
    permission="users",
    actions=CRUD,
    attributes={
        "id": "int",
        "first_name": "string",
        "last_name": "string",
        "email": "string",
        "email_verified_at": "datetime",
        **_stamps(),
    },
    relationships={
        "properties": Relation(
            "morph_many", "properties", morph="model", morph_class="App\\Models\\User"
        ),
        "orders": Relation("has_many", "orders", foreign_key="user_id"),
        "services": Relation("has_many", "services", foreign_key="user_id"),
        "invoices": Relation("has_many", "invoices", foreign_key="user_id"),
        "tickets": Relation("has_many", "tickets", foreign_key="user_id"),
        "credits": Relation("has_many", "credits", foreign_key="user_id"),
        "role": Relation("belongs_to", "roles", foreign_key="role_id"),
    },
    meta=_meta,
    filters=("first_name", "last_name", "email"),
    sorts=("id", "first_name", "last_name", "email", "created_at"),
    includes=("properties", "orders", "services", "invoices", "tickets", "credits", "role"),
    create_rules=_create_rules,
    update_rules=_update_rules,
    saving=_saving,
)

PROPERTIES = Resource(
    type="properties",
    table="properties",
    model_class="App\\Models\\Property",
    attributes={"id": "int", "name": "string", "key": "string", "value": "string", **_stamps()},
)

ROLES = Resource(
    type="roles",
    table="roles",
    model_class="App\\Models\\Role",
    attributes={"id": "int", "name": "string", "permissions": "json", **_stamps()},
)

RESOURCES = (USERS, PROPERTIES, ROLES)
