"""Relation loading for includes: one IN query per relation and level, whatever the page size."""

from __future__ import annotations

from typing import Any

from handlers.context import Context
from handlers.db import MAX_PARAMS
from handlers.model import Model, Relation, Row
from handlers.query import ServerError
from handlers.registry import resource_def

REFERENCE_TYPES = {
    "App\\Models\\Service": "services",
    "App\\Models\\Credit": "credits",
    "App\\Models\\ServiceUpgrade": "serviceUpgrades",
}


def _unique(values: list[Any]) -> list[Any]:
    seen: dict[str, Any] = {}
    for value in values:
        if value is not None:
            seen.setdefault(str(value), value)
    return list(seen.values())


def fetch_where_in(
    ctx: Context,
    table: str,
    column: str,
    values: list[Any],
    extra: str = "",
    extra_params: tuple[Any, ...] = (),
    order: str = "`id` ASC",
) -> list[Row]:
    wanted = _unique(values)
    rows: list[Row] = []
    # SQLite caps bound parameters; chunks only matter past tens of thousands of parents.
    for start in range(0, len(wanted), MAX_PARAMS):
        chunk = wanted[start : start + MAX_PARAMS]
        marks = ",".join("?" * len(chunk))
        sql = f"SELECT * FROM `{table}` WHERE `{column}` IN ({marks})"
        sql += f" AND {extra}" if extra else ""
        rows += ctx.db.all(f"{sql} ORDER BY {order}", [*chunk, *extra_params])
    return rows


def load_relations(
    ctx: Context, models: list[Model], kind: str, tree: dict[str, Any], eager: bool = True
) -> None:
    if not models or not tree:
        return
    for name, rel in resource_def(kind).relationships.items():
        if name not in tree:
            continue
        related = _load_relation(ctx, models, rel, name, eager)
        by_type: dict[str, dict[int, Model]] = {}
        for model in related:
            by_type.setdefault(model.type, {})[id(model)] = model
        for rel_type, group in by_type.items():
            load_relations(ctx, list(group.values()), rel_type, tree[name], eager)


def _load_relation(
    ctx: Context, models: list[Model], rel: Relation, name: str, eager: bool
) -> list[Model]:
    if rel.kind == "belongs_to":
        return _belongs_to(ctx, models, rel, name)
    if rel.kind in ("has_many", "morph_many"):
        return _has_many(ctx, models, rel, name)
    if rel.kind == "service_invoices":
        return _service_invoices(ctx, models, name)
    if rel.kind == "reference":
        return _reference(ctx, models, name)
    if rel.kind == "missing":
        return _missing(models, name, eager)
    raise LookupError(f"unknown relation kind {rel.kind}")


def _belongs_to(ctx: Context, models: list[Model], rel: Relation, name: str) -> list[Model]:
    target = resource_def(rel.type)
    keys = [m.row.get(rel.foreign_key) for m in models]
    rows = fetch_where_in(ctx, target.table, rel.owner_key, keys, order=f"`{rel.owner_key}` ASC")
    index = {str(row[rel.owner_key]): Model(rel.type, row) for row in rows}
    for model in models:
        fk = model.row.get(rel.foreign_key)
        model.rels[name] = None if fk is None else index.get(str(fk))
    return list(index.values())


def _has_many(ctx: Context, models: list[Model], rel: Relation, name: str) -> list[Model]:
    target = resource_def(rel.type)
    extra, fk = "", rel.foreign_key
    params: tuple[str, ...] = ()
    if rel.kind == "morph_many":
        extra, params, fk = f"`{rel.morph}_type` = ?", (rel.morph_class,), f"{rel.morph}_id"
    ids = [m.row["id"] for m in models]
    rows = fetch_where_in(ctx, target.table, fk, ids, extra, params, rel.order)
    groups: dict[str, list[Model]] = {}
    children = []
    for row in rows:
        child = Model(rel.type, row)
        groups.setdefault(str(row[fk]), []).append(child)
        children.append(child)
    for model in models:
        model.rels[name] = groups.get(str(model.row["id"]), [])
    return children


def _service_invoices(ctx: Context, models: list[Model], name: str) -> list[Model]:
    ids = _unique([m.row["id"] for m in models])
    groups: dict[str, list[Model]] = {}
    children = []
    for start in range(0, len(ids), MAX_PARAMS):
        chunk = ids[start : start + MAX_PARAMS]
        sql = (
            "SELECT `invoices`.*, `invoice_items`.`reference_id` AS `__through_key` "
            "FROM `invoices` INNER JOIN `invoice_items` "
            "ON `invoice_items`.`invoice_id` = `invoices`.`id` "
            f"WHERE `invoice_items`.`reference_id` IN ({','.join('?' * len(chunk))}) "
            "AND `invoice_items`.`reference_type` = ? ORDER BY `invoice_items`.`id` ASC"
        )
        for row in ctx.db.all(sql, [*chunk, "App\\Models\\Service"]):
            key = str(row.pop("__through_key"))
            child = Model("invoices", row)
            groups.setdefault(key, []).append(child)
            children.append(child)
    for model in models:
        model.rels[name] = groups.get(str(model.row["id"]), [])
    return children


def _reference(ctx: Context, models: list[Model], name: str) -> list[Model]:
    wanted: dict[str, list[Any]] = {}
    for model in models:
        cls = model.row.get("reference_type")
        if cls is None or cls == "":
            continue
        if cls not in REFERENCE_TYPES:
            raise ServerError(f'Class "{cls}" not found')
        wanted.setdefault(cls, []).append(model.row.get("reference_id"))
    loaded: dict[str, dict[str, Model]] = {}
    for cls, ids in wanted.items():
        rel_type = REFERENCE_TYPES[cls]
        rows = fetch_where_in(ctx, resource_def(rel_type).table, "id", ids)
        loaded[cls] = {str(row["id"]): Model(rel_type, row) for row in rows}
    found = []
    for model in models:
        cls, ref = model.row.get("reference_type"), model.row.get("reference_id")
        target = (
            loaded.get(str(cls), {}).get(str(ref)) if cls is not None and ref is not None else None
        )
        model.rels[name] = target
        if target is not None:
            found.append(target)
    return found


def _missing(models: list[Model], name: str, eager: bool) -> list[Model]:
    # Not a relation of the model: eager loading fails; a freshly written model instead finds
    # a plain column value where the relation should be.
    if eager:
        raise ServerError(f"Call to undefined relationship [{name}].")
    for model in models:
        if model.row.get(name) is not None:
            raise ServerError("Unable to determine the id of a non-model resource.")
        model.rels[name] = None
    return []
