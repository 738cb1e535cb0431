"""A validator with the framework's semantics and English messages: rules run in order, a
failed `required` stops the attribute, `sometimes` skips absent attributes, `nullable` skips
null values for the other rules, every failure message is collected.

Rules are strings ("required", "max:255", "exists:users,id", ...) or callables
`rule(attribute, value, fail)`.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import datetime
from typing import Any

from handlers import phpish, values
from handlers.context import Context
from handlers.errors import ValidationFailed
from handlers.model import Row, Rules

NUMERIC_RULES = frozenset({"numeric", "integer", "decimal"})
_EMAIL = re.compile(r"^([^@\s]+)@([^@\s]+)$")
_EMAIL_BAD = re.compile(r'[()<>\[\]:;,\\"]')
_PHP_TRIM = " \t\n\r\0\x0b"
Fail = Callable[[str], None]


def humanize(attribute: str) -> str:
    return attribute.replace("_", " ")


def _blank_string(value: Any) -> bool:
    return isinstance(value, str) and value.strip(_PHP_TRIM) == ""


def validate(ctx: Context, data: Row, rules: Rules) -> Row:
    errors: dict[str, list[str]] = {}
    for attribute, attribute_rules in rules.items():
        messages = _validate_attribute(ctx, data, attribute, attribute_rules)
        if messages:
            errors[attribute] = messages
    if errors:
        raise ValidationFailed(errors)
    return {attribute: data[attribute] for attribute in rules if attribute in data}


def _validate_attribute(ctx: Context, data: Row, attribute: str, rules: list[Any]) -> list[str]:
    names = [r.split(":", 1)[0] for r in rules if isinstance(r, str)]
    present = attribute in data
    value = data.get(attribute)
    if "sometimes" in names and not present:
        return []
    nullable = "nullable" in names
    numeric = bool(NUMERIC_RULES.intersection(names))
    messages: list[str] = []
    for rule in rules:
        if callable(rule):
            if present and not (nullable and value is None) and not _blank_string(value):
                rule(attribute, value, messages.append)
            continue
        name, _, raw_params = rule.partition(":")
        if name in ("sometimes", "nullable", "bail"):
            continue
        implicit = name == "required"
        if not implicit and (_blank_string(value) or not present or (nullable and value is None)):
            continue
        params = raw_params.split(",") if raw_params else []
        message = check_rule(ctx, name, params, attribute, value, numeric)
        if message is not None:
            messages.append(message)
            if implicit:
                break
    return messages


def value_size(value: Any, numeric: bool) -> float:
    if numeric and phpish.is_numeric(value):
        return float(value.strip()) if isinstance(value, str) else float(value)
    if isinstance(value, dict | list):
        return len(value)
    if isinstance(value, bool):
        return 1 if value else 0
    return len(phpish.to_string(value))


def valid_email(value: Any) -> bool:
    if not isinstance(value, str):
        return False
    match = _EMAIL.match(value)
    if not match:
        return False
    local, domain = match.groups()
    if local.startswith(".") or local.endswith(".") or ".." in local:
        return False
    if domain.startswith((".", "-")) or domain.endswith(".") or ".." in domain:
        return False
    return not _EMAIL_BAD.search(local + domain)


def valid_date(ctx: Context, value: Any) -> bool:
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        return False
    if not isinstance(value, str):
        return False
    return values.parse_datetime(value, ctx.tz) is not None


def _after_or_equal_today(ctx: Context, value: Any) -> bool:
    moment = values.parse_datetime(value, ctx.tz) if valid_date(ctx, value) else None
    if moment is None:
        return False
    now = ctx.now()
    today = datetime(now.year, now.month, now.day, tzinfo=ctx.tz)
    return moment.timestamp() >= today.timestamp()


def _size_message(a: str, kind: str, limit: str, numeric: bool, value: Any) -> str:
    if numeric:
        return (
            f"The {a} field must not be greater than {limit}."
            if kind == "max"
            else f"The {a} field must be at least {limit}."
        )
    if isinstance(value, dict | list):
        return (
            f"The {a} field must not have more than {limit} items."
            if kind == "max"
            else f"The {a} field must have at least {limit} items."
        )
    return (
        f"The {a} field must not be greater than {limit} characters."
        if kind == "max"
        else f"The {a} field must be at least {limit} characters."
    )


def _in_list(value: Any, params: list[str]) -> bool:
    if isinstance(value, dict | list):
        return False
    return phpish.to_string(value) in params


def _bind(value: Any) -> Any:
    return int(value) if isinstance(value, bool) else value


def _exists(ctx: Context, params: list[str], attribute: str, value: Any) -> bool:
    if isinstance(value, dict | list):
        return False
    table, column = params[0], params[1] if len(params) > 1 else attribute
    sql = f"SELECT COUNT(*) FROM `{table}` WHERE `{column}` = ?"
    return int(ctx.db.scalar(sql, [_bind(value)]) or 0) > 0


def _unique(ctx: Context, params: list[str], attribute: str, value: Any) -> bool:
    table, column = params[0], params[1] if len(params) > 1 else attribute
    sql = f"SELECT COUNT(*) FROM `{table}` WHERE `{column}` = ?"
    bind = [_bind(value)]
    ignore = params[2] if len(params) > 2 else None
    if ignore not in (None, "", "NULL"):
        sql += f" AND `{params[3] if len(params) > 3 and params[3] else 'id'}` <> ?"
        bind.append(ignore)
    i = 4
    while i < len(params) and params[i] != "":
        extra = params[i + 1] if i + 1 < len(params) else ""
        if extra == "NULL":
            sql += f" AND `{params[i]}` IS NULL"
        elif extra == "NOT_NULL":
            sql += f" AND `{params[i]}` IS NOT NULL"
        else:
            sql += f" AND `{params[i]}` = ?"
            bind.append(extra)
        i += 2
    return int(ctx.db.scalar(sql, bind) or 0) == 0


def check_rule(
    ctx: Context, name: str, params: list[str], attribute: str, value: Any, numeric: bool
) -> str | None:
    a = humanize(attribute)
    if name == "required":
        missing = value is None or _blank_string(value) or value in ([], {})
        return f"The {a} field is required." if missing else None
    if name == "string":
        return None if isinstance(value, str) else f"The {a} field must be a string."
    if name == "integer":
        ok = not isinstance(value, dict | list) and phpish.filter_int(value) is not None
        return None if ok else f"The {a} field must be an integer."
    if name == "numeric":
        return None if phpish.is_numeric(value) else f"The {a} field must be a number."
    if name == "email":
        return None if valid_email(value) else f"The {a} field must be a valid email address."
    if name == "date":
        return None if valid_date(ctx, value) else f"The {a} field must be a valid date."
    if name == "after_or_equal":
        ok = _after_or_equal_today(ctx, value)
        return None if ok else f"The {a} field must be a date after or equal to {params[0]}."
    if name in ("max", "min"):
        size, limit = value_size(value, numeric), float(params[0])
        ok = size <= limit if name == "max" else size >= limit
        return None if ok else _size_message(a, name, params[0], numeric, value)
    if name == "in":
        return None if _in_list(value, params) else f"The selected {a} is invalid."
    if name == "exists":
        return None if _exists(ctx, params, attribute, value) else f"The selected {a} is invalid."
    if name == "unique":
        return (
            None if _unique(ctx, params, attribute, value) else f"The {a} has already been taken."
        )
    raise LookupError(f"unknown validation rule {name}")
