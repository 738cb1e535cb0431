"""The admin API controller shared by every resource, in the framework's order: route-model
binding (404 before auth), API-key auth (401/403), permission (403), defaults and validation
(422), then index / show / store / update / destroy with their side effects and audit rows."""

from __future__ import annotations

from typing import Any

from handlers import auth, pagination, phpish, query
from handlers.audit import audit
from handlers.context import Context
from handlers.errors import ApiError, Reply
from handlers.jsonapi import collection_document, single_document
from handlers.loader import load_relations
from handlers.model import Model, Resource, Row
from handlers.persist import insert_row, save_changes, storage_value
from handlers.validation import validate


def bind_model(ctx: Context, definition: Resource, value: str) -> Row:
    if definition.type == "invoices":
        return _bind_invoice(ctx, value)
    row = ctx.db.one(f"SELECT * FROM `{definition.table}` WHERE `id` = ? LIMIT 1", [value])
    if row is None:
        raise ApiError(404, f"No query results for model [{definition.model_class}] {value}")
    return row


def _bind_invoice(ctx: Context, value: str) -> Row:
    """Invoices bind by `number` first, or by id when the value is numeric; an exact number
    match wins."""
    sql, params = "SELECT * FROM `invoices` WHERE `number` = ?", [value]
    if phpish.is_numeric(value):
        sql += " OR `id` = ?"
        params.append(value)
    row = ctx.db.one(sql + " ORDER BY (`number` = ?) DESC LIMIT 1", [*params, value])
    if row is None:
        raise ApiError(404, "No query results for model [App\\Models\\Invoice].")
    return row


def dispatch(ctx: Context, definition: Resource, action: str, key: str | None) -> Reply:
    if action not in definition.actions:
        # The controller has no such method: the framework fails before anything else.
        raise query.ServerError(f"Method {definition.model_class}Controller::{action} missing")
    row = None if key is None else bind_model(ctx, definition, key)
    permissions = auth.authenticate(ctx)
    if isinstance(permissions, Reply):
        return permissions
    ctx.permissions = permissions
    if action == "index":
        return index(ctx, definition)
    if action == "store":
        return store(ctx, definition)
    assert row is not None
    if action == "show":
        return show(ctx, definition, row)
    if action == "update":
        return update(ctx, definition, row)
    return destroy(ctx, definition, row)


def _check_includes(ctx: Context, definition: Resource) -> None:
    query.check_includes(
        ctx.request.input("include"),
        ctx.request.input("fields"),
        definition.includes,
        ctx.permissions,
        definition.missing_relations,
    )


def _tree(ctx: Context) -> dict[str, Any]:
    return query.include_tree(ctx.request.query.get("include"))


def index(ctx: Context, definition: Resource) -> Reply:
    auth.authorize(ctx.permissions, f"{definition.permission}.view")
    table = definition.table
    request = ctx.request
    where, params = query.build_filters(
        request.input("filter", {}), table, definition.filters, ctx.sqlite
    )
    _check_includes(ctx, definition)
    order = query.build_sorts(request.input("sort"), table, definition.sorts)
    sql = f"SELECT * FROM `{table}`"
    sql += " WHERE " + " AND ".join(where) if where else ""
    sql += " ORDER BY " + ", ".join(order) if order else ""
    win = pagination.window(request)
    rows = ctx.db.all(sql + pagination.limit_clause(win, ctx.sqlite), params)
    has_more, rows = pagination.cut(win, rows)
    models = [Model(definition.type, row) for row in rows]
    load_relations(ctx, models, definition.type, _tree(ctx), True)
    links, meta = pagination.links_and_meta(win, len(rows), has_more, request.url())
    return collection_document(ctx, models, links, meta)


def show(ctx: Context, definition: Resource, row: Row) -> Reply:
    auth.authorize(ctx.permissions, f"{definition.permission}.view")
    _check_includes(ctx, definition)
    fresh = ctx.db.one(f"SELECT * FROM `{definition.table}` WHERE `id` = ? LIMIT 1", [row["id"]])
    if fresh is None:
        raise ApiError(404, f"No query results for model [{definition.model_class}] {row['id']}")
    model = Model(definition.type, fresh)
    load_relations(ctx, [model], definition.type, _tree(ctx), True)
    return single_document(ctx, model)


def _echo_row(definition: Resource, base: Row, validated: Row) -> Row:
    """The attributes a freshly written model holds: raw input, except cast dates and the
    password (hashed)."""
    for name, value in validated.items():
        if definition.attributes.get(name) not in ("datetime", "date") and name != "password":
            base[name] = value
    return base


def store(ctx: Context, definition: Resource) -> Reply:
    data = dict(ctx.request.all())
    for name, value in definition.defaults.items():
        data.setdefault(name, value)
    auth.authorize(ctx.permissions, f"{definition.permission}.create")
    assert definition.create_rules is not None
    validated = validate(ctx, data, definition.create_rules(ctx, data))
    attributes = {k: storage_value(ctx, definition, k, v) for k, v in validated.items()}
    if definition.saving is not None:
        attributes = definition.saving(ctx, attributes, None)
    extra = definition.creating(ctx, attributes) if definition.creating is not None else {}
    now = ctx.now_db()
    insert = {**attributes, **extra, "updated_at": now, "created_at": now}
    insert["id"] = insert_row(ctx, definition.table, insert)
    audit(ctx, "created", definition.model_class, insert["id"], {}, insert)
    row = {**dict.fromkeys(definition.attributes), **insert}
    row = _echo_row(definition, row, validated)
    if definition.created is not None:
        definition.created(ctx, insert)
    return _written(ctx, Model(definition.type, row, frozenset(attributes)), 201)


def update(ctx: Context, definition: Resource, row: Row) -> Reply:
    data = ctx.request.all()
    auth.authorize(ctx.permissions, f"{definition.permission}.update")
    assert definition.update_rules is not None
    validated = validate(ctx, data, definition.update_rules(ctx, data, row))
    attributes = {k: storage_value(ctx, definition, k, v) for k, v in validated.items()}
    if definition.saving is not None:
        attributes = definition.saving(ctx, attributes, row)
    extra = definition.updating(ctx, attributes, row) if definition.updating is not None else {}
    old, new, updated_at = save_changes(ctx, definition, row, {**attributes, **extra})
    fresh = _echo_row(definition, {**row, **extra, **attributes}, validated)
    if updated_at is not None:
        fresh["updated_at"] = updated_at
    if new and definition.updated is not None:
        definition.updated(ctx, fresh, old, new)
    return _written(ctx, Model(definition.type, fresh, frozenset(attributes)), 200)


def _written(ctx: Context, model: Model, status: int) -> Reply:
    load_relations(ctx, [model], model.type, _tree(ctx), False)
    return single_document(ctx, model, status)


def destroy(ctx: Context, definition: Resource, row: Row) -> Reply:
    auth.authorize(ctx.permissions, f"{definition.permission}.delete")
    ctx.db.execute(f"DELETE FROM `{definition.table}` WHERE `id` = ?", [row["id"]])
    audit(ctx, "deleted", definition.model_class, row["id"], row, {})
    return Reply(204)
