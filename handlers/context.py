"""Everything one request carries through its handler: the request, its database connection,
the global settings and the application timezone they define."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, tzinfo
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import orjson

from handlers import phpish
from handlers.db import Db
from handlers.request import ApiRequest

_TRUE = frozenset({"1", "true", "on", "yes"})


def setting_cast(value: Any, kind: str) -> Any:
    if value is None:
        return None
    text = value.decode() if isinstance(value, bytes) else str(value)
    if kind in ("boolean", "bool"):
        return text.lower() in _TRUE
    if kind in ("integer", "int"):
        return phpish.int_cast(text)
    if kind in ("float", "double"):
        try:
            return float(text)
        except ValueError:
            return 0.0
    if kind in ("array", "json"):
        try:
            decoded = orjson.loads(text)
        except orjson.JSONDecodeError:
            decoded = None
        return [] if decoded is None else decoded
    return text


def load_settings(db: Db) -> dict[str, Any]:
    rows = db.all(
        "SELECT `key`, `value`, `type`, `encrypted` FROM `settings` "
        "WHERE `settingable_type` IS NULL"
    )
    settings: dict[str, Any] = {}
    for row in rows:
        if int(row.get("encrypted") or 0) == 1:
            continue
        settings[str(row["key"])] = setting_cast(row["value"], str(row.get("type") or "string"))
    return settings


def timezone_of(settings: dict[str, Any]) -> tzinfo:
    name = settings.get("timezone")
    try:
        return ZoneInfo(name if isinstance(name, str) and name else "UTC")
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo("UTC")


@dataclass
class Context:
    request: ApiRequest
    db: Db
    settings: dict[str, Any]
    permissions: list[str] = field(default_factory=list)
    fieldsets: dict[str, list[str] | None] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.tz = timezone_of(self.settings)
        self.sqlite = self.db.driver == "sqlite"
        # Forwarded headers count only from proxies the `trusted_proxies` setting lists.
        proxies = self.settings.get("trusted_proxies")
        if isinstance(proxies, dict):
            proxies = list(proxies.values())
        if isinstance(proxies, list):
            self.request.trusted_proxies = [p for p in proxies if isinstance(p, str)]

    def setting(self, key: str, default: Any = None) -> Any:
        value = self.settings.get(key)
        return default if value is None else value

    def now(self) -> datetime:
        return datetime.now(self.tz)

    def now_db(self) -> str:
        return self.now().strftime("%Y-%m-%d %H:%M:%S")
