"""Ticket messages (no update); a new message flips its ticket's status."""

from __future__ import annotations

from handlers import phpish
from handlers.context import Context
from handlers.model import Relation, Resource, Row, Rules
from handlers.persist import save_changes
from handlers.resources.services import STAMPS
from handlers.resources.tickets import TICKETS


def _flip_ticket_status(ctx: Context, message: Row) -> None:
    """The owner writing re-opens the ticket; anyone else marks it replied."""
    ticket = ctx.db.one("SELECT * FROM `tickets` WHERE `id` = ? LIMIT 1", [message["ticket_id"]])
    if ticket is None:
        return
    owner = phpish.int_cast(ticket["user_id"]) == phpish.int_cast(message["user_id"])
    save_changes(ctx, TICKETS, ticket, {"status": "open" if owner else "replied"})


def _create_rules(ctx: Context, data: Row) -> Rules:
    return {
        "message": ["required", "string", "max:5000"],
        "user_id": ["required", "exists:users,id"],
        "ticket_id": ["required", "exists:tickets,id"],
    }


TICKET_MESSAGES = Resource(
    type="ticketMessages",
    table="ticket_messages",
    model_class="App\\Models\\TicketMessage",
    route="ticket-messages",
    permission="ticket_messages",
    # No update: PUT/PATCH reach a controller without that method.
    actions=("index", "show", "store", "destroy"),
    attributes={"id": "int", "message": "string", **STAMPS},
    relationships={
        "user": Relation("belongs_to", "users", foreign_key="user_id"),
        "ticket": Relation("belongs_to", "tickets", foreign_key="ticket_id"),
        "attachments": Relation(
            "has_many", "ticketMessageAttachments", foreign_key="ticket_message_id"
        ),
    },
    filters=("id", "currency_code"),
    sorts=("id", "created_at", "updated_at", "currency_code"),
    includes=("user", "ticket", "attachments"),
    create_rules=_create_rules,
    created=_flip_ticket_status,
)

ATTACHMENTS = Resource(
    type="ticketMessageAttachments",
    table="ticket_message_attachments",
    model_class="App\\Models\\TicketMessageAttachment",
    attributes={
        "id": "int",
        "uuid": "string",
        "filename": "string",
        "path": "string",
        "filesize": "int",
        "mime_type": "string",
        "created_at": "datetime",
        "updated_at": "datetime",
    },
    relationships={
        "message": Relation("belongs_to", "ticketMessages", foreign_key="ticket_message_id")
    },
)

RESOURCES = (TICKET_MESSAGES, ATTACHMENTS)
