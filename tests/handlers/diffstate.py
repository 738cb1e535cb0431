"""The end state of the two databases after a differential run: every row the writes touched,
side effects included (audit rows, invoice numbers, ticket statuses, credits, renewals)."""

from __future__ import annotations

import datetime as dt
import json
import re
from typing import Any

import sqlalchemy as sa

TABLES = ["users", "orders", "services", "invoices", "invoice_items", "tickets",
          "ticket_messages", "credits", "settings", "audits", "api_keys"]  # fmt: skip
# Not comparable, and why: bcrypt salts are random (both sides must still write $2y$12$);
# a key's last use is stamped by every request, so it tracks timing, not behaviour.
SKIPPED = {"api_keys": {"last_used_at", "updated_at"}}
_STAMP = re.compile(r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d$")
TOLERANCE = 2


def _rows(url: str, table: str) -> list[dict[str, Any]]:
    engine = sa.create_engine(url, poolclass=sa.NullPool)
    try:
        with engine.connect() as conn:
            result = conn.execute(sa.text(f"SELECT * FROM {table} ORDER BY id"))
            return [dict(row) for row in result.mappings()]
    finally:
        engine.dispose()


def _normal(table: str, row: dict[str, Any]) -> dict[str, Any]:
    out = {k: v for k, v in row.items() if k not in SKIPPED.get(table, set())}
    if table == "users" and str(out.get("password", "")).startswith("$2y$12$"):
        out["password"] = "<bcrypt $2y$12$>"
    if table == "audits":
        for key in ("old_values", "new_values"):
            values = json.loads(out[key]) if out.get(key) else None
            if isinstance(values, dict) and str(values.get("password", "")).startswith("$2y$12$"):
                values["password"] = "<bcrypt $2y$12$>"
            out[key] = values
    return out


def _moment(value: Any) -> dt.datetime | None:
    if isinstance(value, dt.datetime):
        return value
    if isinstance(value, str) and _STAMP.match(value):
        return dt.datetime.fromisoformat(value)
    return None


def _close(a: Any, b: Any) -> bool:
    """Equal, or two timestamps of one write pair that straddled a second."""
    first, second = _moment(a), _moment(b)
    if first is not None and second is not None:
        return abs((first - second).total_seconds()) <= TOLERANCE
    return bool(a == b)


def state_differences(legacy_url: str, native_url: str) -> list[str]:
    found = []
    for table in TABLES:
        legacy = [_normal(table, r) for r in _rows(legacy_url, table)]
        native = [_normal(table, r) for r in _rows(native_url, table)]
        if len(legacy) != len(native):
            found.append(f"{table}: {len(legacy)} rows != {len(native)} rows")
            continue
        for a, b in zip(legacy, native, strict=True):
            for column in a:
                if not _close(a[column], b.get(column)):
                    found.append(
                        f"{table}#{a.get('id')}.{column}: {a[column]!r} != {b.get(column)!r}"
                    )
    return found
