"""Admin API keys: sha256 of the bearer token, enabled, type `admin`, an exact-match IP
allow-list, and per-endpoint permission strings with no wildcard."""

from __future__ import annotations

import hashlib
from typing import Any

import orjson

from handlers.context import Context
from handlers.errors import ApiError, Reply, json_reply


def _json_list(value: Any) -> Any:
    if value is None:
        return None
    try:
        return orjson.loads(value)
    except orjson.JSONDecodeError:
        return None


def authenticate(ctx: Context) -> list[str] | Reply:
    """The key's permissions, or the missing-bearer reply (always JSON); raises 401/403."""
    token = ctx.request.bearer_token()
    if token is None or token == "":
        return json_reply({"error": "The request is missing a valid bearer token."}, 401)
    digest = hashlib.sha256(token.encode("utf-8", "surrogateescape")).hexdigest()
    key = ctx.db.one(
        "SELECT * FROM `api_keys` WHERE `token` = ? AND `enabled` = ? LIMIT 1", [digest, 1]
    )
    if key is None:
        raise ApiError(401, "The provided API key is invalid or has been disabled.")
    ips = _json_list(key.get("ip_addresses"))
    ip_list = ips if isinstance(ips, list) else [ips] if ips not in (None, "", [], {}) else []
    if key.get("type") != "admin" or (ip_list and ctx.request.ip() not in ip_list):
        raise ApiError(403, "You do not have permission to access this resource.")
    _touch(ctx, key)
    permissions = _json_list(key.get("permissions"))
    return [p for p in permissions if isinstance(p, str)] if isinstance(permissions, list) else []


def _touch(ctx: Context, key: dict[str, Any]) -> None:
    """A quiet save of last_used_at (no audit row); skipped when it already holds this second,
    which leaves the row exactly as an unconditional write would and spares a write lock."""
    now = ctx.now_db()
    if str(key.get("last_used_at")) == now and str(key.get("updated_at")) == now:
        return
    ctx.db.execute(
        "UPDATE `api_keys` SET `last_used_at` = ?, `updated_at` = ? WHERE `id` = ?",
        [now, now, key["id"]],
    )


def authorize(permissions: list[str], permission: str) -> None:
    if f"admin.{permission}" not in permissions:
        raise ApiError(403, "This action is unauthorized.")
