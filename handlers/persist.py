"""Writing rows the way the ORM does: casts applied on set, only changed attributes saved
(numeric strings compare by value), `updated_at` moved, an audit row per change."""

from __future__ import annotations

from typing import Any

from handlers import phpish, phpjson, values
from handlers.audit import audit
from handlers.context import Context
from handlers.model import Resource, Row


def storage_value(ctx: Context, definition: Resource, name: str, value: Any) -> Any:
    kind = definition.attributes.get(name) or definition.casts.get(name)
    if kind in ("datetime", "date"):
        return values.storage_datetime(value, ctx.tz)
    if isinstance(value, bool):
        return 1 if value else 0
    return value


def db_value(value: Any) -> Any:
    """A parameter as PDO binds it: booleans as integers, arrays as JSON, floats as PHP prints
    them."""
    if isinstance(value, bool):
        return 1 if value else 0
    if isinstance(value, dict | list):
        return phpjson.encode(value).decode("ascii")
    if isinstance(value, float):
        return phpish.php_float(value)
    return value


def insert_row(ctx: Context, table: str, attributes: Row) -> int:
    columns = ", ".join(f"`{c}`" for c in attributes)
    marks = ", ".join("?" * len(attributes))
    sql = f"INSERT INTO `{table}` ({columns}) VALUES ({marks})"
    return ctx.db.execute(sql, [db_value(v) for v in attributes.values()])


def update_row(ctx: Context, table: str, key: Any, attributes: Row) -> None:
    sets = ", ".join(f"`{c}` = ?" for c in attributes)
    params = [db_value(v) for v in attributes.values()]
    ctx.db.execute(f"UPDATE `{table}` SET {sets} WHERE `id` = ?", [*params, key])


def _identical(new: Any, old: Any) -> bool:
    """PHP's `===` on scalars."""
    return type(new) is type(old) and new == old


def attribute_changed(new: Any, old: Any) -> bool:
    if _identical(new, old):
        return False
    if new is None or old is None:
        return True
    if isinstance(new, bool) or isinstance(old, bool):
        return True
    if phpish.is_numeric(new) and phpish.is_numeric(old):
        same_text = phpish.to_string(new) == phpish.to_string(old)
        return not same_text and float(str(new).strip()) != float(str(old).strip())
    return phpish.to_string(new) != phpish.to_string(old)


def _same_moment(ctx: Context, definition: Resource, name: str, value: Any, row: Row) -> bool:
    """Dates equal to the stored ones are not changes, however they are spelled."""
    if definition.attributes.get(name) not in ("date", "datetime") or name not in row:
        return False
    stored = values.storage_datetime(row[name], ctx.tz)
    return bool(values.storage_datetime(value, ctx.tz) == stored)


def save_changes(
    ctx: Context, definition: Resource, row: Row, attributes: Row, auditable: bool = True
) -> tuple[Row, Row, str | None]:
    old: Row = {}
    new: Row = {}
    for name, value in attributes.items():
        if _same_moment(ctx, definition, name, value, row):
            continue
        if name not in row or attribute_changed(value, row[name]):
            old[name] = row.get(name)
            new[name] = value
    if not new:
        return {}, {}, None
    now = ctx.now_db()
    update_row(ctx, definition.table, row["id"], {**new, "updated_at": now})
    if auditable:
        audit(ctx, "updated", definition.model_class, row["id"], old, new)
    return old, new, now
