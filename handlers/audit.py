"""Audit rows for creates, updates and deletes, shaped like the legacy side's (timestamps not
audited; values keep the types the model held, raw client input on writes)."""

from __future__ import annotations

from typing import Any

from handlers import phpjson
from handlers.context import Context

_SQL = (
    "INSERT INTO `audits` (`user_type`, `user_id`, `event`, `auditable_type`, `auditable_id`, "
    "`old_values`, `new_values`, `url`, `ip_address`, `user_agent`, `tags`, `created_at`, "
    "`updated_at`) VALUES (NULL, NULL, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
)


def audit(
    ctx: Context, event: str, model_class: str, key: Any, old: dict[str, Any], new: dict[str, Any]
) -> None:
    old = {k: v for k, v in old.items() if k not in ("created_at", "updated_at")}
    new = {k: v for k, v in new.items() if k not in ("created_at", "updated_at")}
    now = ctx.now_db()
    agent = ctx.request.header("user-agent")
    url = ctx.request.full_url()
    # Changes made through an admin URL (the admin API included) are tagged "admin".
    tags = "admin" if "/admin" in url else None
    ctx.db.execute(
        _SQL,
        [
            event,
            model_class,
            key,
            _encode(old),
            _encode(new),
            url,
            ctx.request.ip(),
            None if agent is None else agent[:1023],
            tags,
            now,
            now,
        ],
    )


def _encode(values: dict[str, Any]) -> str:
    # An empty PHP array encodes as a JSON list.
    return phpjson.encode(phpjson.php_floats(values) if values else []).decode("ascii")
