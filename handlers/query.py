"""Filters, sorts and includes with the query builder's semantics.

Filters are partial, case-insensitive LIKE matches (comma = OR, "true"/"false" coerced, empty
values skipped); `-` marks a descending sort; unknown names answer 400 with the allowed list;
includes are gated by the key's view permissions (Paymenter's ApiController) before the
allow-list check. The parsing functions are pure; only the SQL fragments leave this module.
"""

from __future__ import annotations

from typing import Any

from handlers import phpish
from handlers.errors import ApiError

MAPPED_INCLUDES = {
    "messages": "ticket_messages",
    "role": "roles",
    "user": "users",
    "ticket": "tickets",
    "plans.prices": "products",
}
DEFINED_VIEW_PERMISSIONS = frozenset(
    {
        "users", "invoices", "invoice_items", "tickets", "orders", "services", "coupons",
        "credits", "ticket_messages", "products", "categories", "properties", "roles",
    }
)  # fmt: skip
_TABLE_GUESS = {
    "user": "users", "role": "roles", "ticket": "tickets", "order": "orders",
    "coupon": "coupons", "product": "products", "category": "categories",
    "reference": "references", "invoice": "invoices", "gateway": "gateways",
    "parent": "parents", "assigned_to": "assigned_tos",
}  # fmt: skip


class ServerError(Exception):
    """A failure the legacy side reports as a plain 500 (a PHP error in the same place)."""


def gate_includes(includes: tuple[str, ...], permissions: list[str]) -> list[str]:
    allowed = []
    for include in includes:
        relation = MAPPED_INCLUDES.get(include, include)
        held = f"admin.{relation}.view" in permissions
        if held or relation not in DEFINED_VIEW_PERMISSIONS:
            allowed.append(include)
    return allowed


def allowed_include_names(includes: list[str]) -> list[str]:
    names: list[str] = []
    for include in includes:
        if include == "":
            continue
        if include.endswith(("Count", "Exists")):
            names.append(include)
            continue
        path = ""
        for segment in include.split("."):
            path = segment if path == "" else f"{path}.{segment}"
            names.append(path)
            if "." not in path:
                names += [f"{path}Count", f"{path}Exists"]
    return list(dict.fromkeys(names))


def values_of(value: Any) -> list[Any]:
    """The items of a PHP array (dict or list) in order."""
    return list(value.values()) if isinstance(value, dict) else list(value)


def list_param(value: Any) -> list[Any]:
    """Items of a comma list or array parameter, falsy entries dropped."""
    if value is None:
        return []
    parts = (
        values_of(value) if isinstance(value, dict | list) else phpish.to_string(value).split(",")
    )
    return [p for p in parts if not phpish.empty(p)]


def filter_value(value: Any) -> Any:
    if phpish.empty(value):
        return value
    if isinstance(value, dict | list):
        return [filter_value(v) for v in values_of(value)]
    text = phpish.to_string(value)
    if "," in text:
        return text.split(",")
    if text == "true":
        return True
    if text == "false":
        return False
    return text


def requested_filters(raw: Any) -> dict[str, Any]:
    if not isinstance(raw, dict | list):
        return {}
    items = raw.items() if isinstance(raw, dict) else enumerate(raw)
    return {str(name): filter_value(value) for name, value in items}


def like_escape(value: str) -> str:
    return value.replace("\\", "\\\\").replace("_", "\\_").replace("%", "\\%")


def _kept(item: Any) -> bool:
    """PHP's loose `$item != ''`."""
    return not (item is None or item is False or item == "")


def _clause(table: str, column: str, value: Any, params: list[Any], sqlite: bool) -> str:
    if isinstance(value, dict | list):
        raise ServerError("Array to string conversion in a filter value")
    params.append("%" + like_escape(phpish.to_string(value).lower()) + "%")
    escape = " ESCAPE '\\'" if sqlite else ""
    return f"LOWER(`{table}`.`{column}`) LIKE ?{escape}"


def build_filters(
    raw: Any, table: str, allowed: tuple[str, ...], sqlite: bool
) -> tuple[list[str], list[Any]]:
    requested = requested_filters(raw)
    unknown = [name for name in requested if name not in allowed]
    if unknown:
        raise ApiError(
            400,
            f"Requested filter(s) `{', '.join(unknown)}` are not allowed. "
            f"Allowed filter(s) are `{', '.join(allowed)}`.",
        )
    where: list[str] = []
    params: list[Any] = []
    for name in allowed:
        if name not in requested:
            continue
        value = requested[name]
        if value is None or value == []:
            continue
        if isinstance(value, list):
            items = [item for item in value if _kept(item)]
            if items:
                ors = [_clause(table, name, item, params, sqlite) for item in items]
                where.append("(" + " OR ".join(ors) + ")")
        else:
            where.append(_clause(table, name, value, params, sqlite))
    return where, params


def check_includes(
    raw_include: Any,
    raw_fields: Any,
    includes: tuple[str, ...],
    permissions: list[str],
    broken: tuple[str, ...] = (),
) -> list[str]:
    requested = [phpish.to_string(i) for i in list_param(raw_include)]
    allowed = allowed_include_names(gate_includes(includes, permissions))
    unknown = [name for name in requested if name not in allowed]
    if unknown:
        message = f"Requested include(s) `{', '.join(unknown)}` are not allowed. "
        message += (
            f"Allowed include(s) are `{', '.join(allowed)}`."
            if allowed
            else "There are no allowed includes."
        )
        raise ApiError(400, message)
    fields: dict[str, list[str]] | None = None
    for include in requested:
        if _is_aggregate(include, broken):
            continue
        # `fields` is only read once an include needs it.
        fields = requested_table_fields(raw_fields) if fields is None else fields
        _check_include_fields(include, fields)
    return requested


def _is_aggregate(include: str, broken: tuple[str, ...]) -> bool:
    """`<relation>Count` / `<relation>Exists`: accepted, unless the relation does not exist."""
    for suffix in ("Count", "Exists"):
        if include.endswith(suffix):
            relation = include[: -len(suffix)]
            if relation in broken:
                raise ServerError(f"Call to undefined relationship [{relation}].")
            return True
    return False


def _check_include_fields(include: str, fields: dict[str, list[str]]) -> None:
    path = ""
    for segment in include.split("."):
        path = segment if path == "" else f"{path}.{segment}"
        table = _TABLE_GUESS.get(path, path)
        if table in fields:
            raise ApiError(
                400,
                f"Requested field(s) `{', '.join(fields[table])}` are not allowed (yet). "
                "If you want to allow these fields, please make sure to call the "
                "QueryBuilder's `allowedFields` method before the `allowedIncludes` method.",
            )


def requested_table_fields(data: Any) -> dict[str, list[str]]:
    """`fields` as the query builder reads it (a string is split on commas)."""
    if data is None:
        return {}
    if isinstance(data, dict):
        pairs = list(data.items())
    elif isinstance(data, list):
        pairs = [(str(i), v) for i, v in enumerate(data)]
    else:
        pairs = [(str(i), v) for i, v in enumerate(phpish.to_string(data).split(","))]
    fields: dict[str, list[str]] = {}
    for model, table_fields in pairs:
        if isinstance(table_fields, dict | list):
            raise ServerError("Array to string conversion in fields")
        text = phpish.to_string(table_fields)
        if phpish.is_numeric(model):
            model = text[: text.rfind(".")] if "." in text else "_"
        names = [f[f.rfind(".") + 1 :] for f in text.split(",")]
        fields[model] = fields.get(model, []) + names
    return fields


def build_sorts(raw: Any, table: str, allowed: tuple[str, ...]) -> list[str]:
    requested = [phpish.to_string(s) for s in list_param(raw)]
    names = [s.lstrip("-") for s in requested]
    unknown = [name for name in names if name not in allowed]
    if unknown:
        raise ApiError(
            400,
            f"Requested sort(s) `{', '.join(unknown)}` is not allowed. "
            f"Allowed sort(s) are `{', '.join(allowed)}`.",
        )
    return [
        f"{_sort_column(table, s.lstrip('-'))} {'DESC' if s[:1] == '-' else 'ASC'}"
        for s in requested
    ]


# SQLite keeps money as two-decimal text: it sorts by amount, as MariaDB's DECIMAL does
MONEY_COLUMNS = frozenset({"price", "amount", "setup_fee", "value"})


def _sort_column(table: str, name: str) -> str:
    column = f"`{table}`.`{name}`"
    return f"CAST({column} AS DECIMAL(17,2))" if name in MONEY_COLUMNS else column


def include_tree(raw: Any) -> dict[str, Any]:
    """The nested include tree, read from the query string only (as the resource layer does)."""
    if isinstance(raw, dict | list):
        raise ApiError(
            400, "The include parameter must be a comma seperated list of relationship paths."
        )
    tree: dict[str, Any] = {}
    for path in phpish.to_string(raw).split(","):
        if path == "":
            continue
        node = tree
        for segment in path.split("."):
            node = node.setdefault(segment, {})
    return tree


def sparse_fields(raw: Any, kind: str) -> list[str] | None:
    """Attributes requested for a type, or None for all."""
    fields = [] if raw is None else raw
    if isinstance(fields, str):
        raise ApiError(400, "The fields parameter must be an array of resource types.")
    if not isinstance(fields, dict) or kind not in fields:
        return None
    value = fields[kind] if fields[kind] is not None else ""
    if not isinstance(value, str):
        raise ApiError(
            400, "The fields parameter value must be a comma seperated list of attributes."
        )
    return [v for v in value.split(",") if v != ""]
