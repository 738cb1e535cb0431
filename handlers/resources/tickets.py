"""Tickets; departments come from the `ticket_departments` setting."""

from __future__ import annotations

from handlers import phpish
from handlers.context import Context
from handlers.model import Relation, Resource, Row, Rules
from handlers.resources.services import STAMPS
from handlers.resources.users import CRUD


def _department_rule(ctx: Context) -> str:
    departments = ctx.setting("ticket_departments", [])
    items = departments.values() if isinstance(departments, dict) else departments
    listed = [phpish.to_string(d) for d in items] if isinstance(departments, dict | list) else []
    return "in:" + ",".join(listed)


def _rules(ctx: Context, prefix: list[str]) -> Rules:
    return {
        "subject": [*prefix, "required", "string", "max:255"],
        "user_id": [*prefix, "required", "exists:users,id"],
        "department": [*prefix, "nullable", "string", _department_rule(ctx)],
        "priority": [*prefix, "required", "string", "in:low,medium,high"],
        "status": [*prefix, "required", "string", "in:open,closed,replied"],
    }


def _create_rules(ctx: Context, data: Row) -> Rules:
    return _rules(ctx, [])


def _update_rules(ctx: Context, data: Row, row: Row) -> Rules:
    return _rules(ctx, ["sometimes"])


TICKETS = Resource(
    type="tickets",
    table="tickets",
    model_class="App\\Models\\Ticket",
    route="tickets",
    permission="tickets",
    actions=CRUD,
    attributes={
        "id": "int",
        "subject": "string",
        "status": "string",
        "priority": "string",
        "assigned_to": "int",
        "user_id": "int",
        "department": "string",
        **STAMPS,
    },
    relationships={
        "messages": Relation("has_many", "ticketMessages", foreign_key="ticket_id"),
        "user": Relation("belongs_to", "users", foreign_key="user_id"),
        # The model's relation is assignedTo; loading "assigned_to" fails.
        "assigned_to": Relation("missing"),
    },
    missing_relations=("assigned_to",),
    filters=("id", "currency_code", "user_id", "status", "priority", "department"),
    sorts=("id", "created_at", "updated_at", "currency_code", "status", "priority", "department"),
    includes=("messages", "user", "assigned_to"),
    defaults={"priority": "medium", "status": "open"},
    create_rules=_create_rules,
    update_rules=_update_rules,
)

RESOURCES = (TICKETS,)
