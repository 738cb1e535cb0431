"""JSON:API documents: resource objects (string id, camelCase type, attributes in declared
order, relationships only for requested includes), `included` de-duplicated by (type, id)
with each resource's direct relations before theirs, and sparse fieldsets."""

from __future__ import annotations

from typing import Any

from handlers import values
from handlers.context import Context
from handlers.errors import Reply, json_reply
from handlers.model import Model, Resource
from handlers.query import sparse_fields
from handlers.registry import resource_def

JSON_API = "application/vnd.api+json"


def identifier(model: Model) -> dict[str, str]:
    definition = resource_def(model.type)
    return {"type": definition.type, "id": str(model.row[definition.key])}


def _relationship(value: Model | list[Model] | None) -> dict[str, Any]:
    if isinstance(value, list):
        seen: dict[tuple[str, str], dict[str, str]] = {}
        for child in value:
            ident = identifier(child)
            seen.setdefault((ident["type"], ident["id"]), ident)
        return {"data": list(seen.values())}
    return {"data": None if value is None else identifier(value)}


_FORMATTERS: dict[str, tuple[tuple[str, values.Formatter], ...]] = {}


def _formatters(definition: Resource) -> tuple[tuple[str, values.Formatter], ...]:
    found = _FORMATTERS.get(definition.type)
    if found is None:
        items = definition.attributes.items()
        found = _FORMATTERS[definition.type] = tuple((n, values.FORMATTERS[k]) for n, k in items)
    return found


def _wanted(ctx: Context, kind: str) -> list[str] | None:
    """The sparse fieldset of a type, parsed once per request (the parse can raise 400, so it
    only happens when a resource of that type is printed, as on the legacy side)."""
    if kind not in ctx.fieldsets:
        ctx.fieldsets[kind] = sparse_fields(ctx.request.query.get("fields"), kind)
    return ctx.fieldsets[kind]


def resource_object(ctx: Context, model: Model) -> dict[str, Any]:
    definition = resource_def(model.type)
    out: dict[str, Any] = {"id": str(model.row[definition.key]), "type": definition.type}
    wanted = _wanted(ctx, definition.type)
    row, raw, tz = model.row, model.raw, ctx.tz
    if raw:
        attributes = {
            name: values.attribute_value(kind, row.get(name), name in raw, tz)
            for name, kind in definition.attributes.items()
            if wanted is None or name in wanted
        }
    else:
        # The read path: one prepared formatter per attribute, no per-value dispatch.
        attributes = {
            name: None if (value := row.get(name)) is None else formatter(value, tz)
            for name, formatter in _formatters(definition)
            if wanted is None or name in wanted
        }
    # Always an object, even when a sparse fieldset selects nothing.
    out["attributes"] = attributes
    relationships = {
        name: _relationship(model.rels[name])
        for name in definition.relationships
        if name in model.rels
    }
    if relationships:
        out["relationships"] = relationships
    if definition.meta is not None:
        meta = definition.meta(model)
        if meta:
            out["meta"] = meta
    return out


def _children(model: Model) -> list[Model]:
    found: list[Model] = []
    for value in model.rels.values():
        items = value if isinstance(value, list) else [value]
        found += [child for child in items if child is not None]
    return found


def included_of(model: Model) -> list[Model]:
    """Direct related resources first, then theirs, recursively."""
    direct = _children(model)
    nested = [deeper for child in direct for deeper in included_of(child)]
    return direct + nested


def included_objects(ctx: Context, models: list[Model]) -> list[dict[str, Any]]:
    out = []
    seen: set[tuple[str, str]] = set()
    for model in models:
        for child in included_of(model):
            ident = identifier(child)
            key = (ident["type"], ident["id"])
            if key not in seen:
                seen.add(key)
                out.append(resource_object(ctx, child))
    return out


def single_document(ctx: Context, model: Model, status: int = 200) -> Reply:
    doc: dict[str, Any] = {"data": resource_object(ctx, model)}
    included = included_objects(ctx, [model])
    if included:
        doc["included"] = included
    return json_reply(doc, status, JSON_API)


def collection_document(
    ctx: Context, models: list[Model], links: dict[str, str], meta: dict[str, Any]
) -> Reply:
    data = [resource_object(ctx, model) for model in models]
    doc: dict[str, Any] = {"data": data, "links": links, "meta": meta}
    included = included_objects(ctx, models)
    if included:
        doc["included"] = included
    return json_reply(doc, 200, JSON_API)
