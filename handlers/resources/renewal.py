"""Renewing a service paid through an invoice: the next due date is one billing period after
the current expiry (or after now when there is none or the service is not active); free and
one-time plans have none. The service becomes active."""

from __future__ import annotations

import calendar
from datetime import datetime, timedelta

from handlers import phpish, values
from handlers.context import Context
from handlers.model import Row
from handlers.persist import save_changes
from handlers.query import ServerError
from handlers.resources.services import SERVICES

_SPANS = {"hour": timedelta(hours=1), "day": timedelta(days=1), "week": timedelta(weeks=1)}


def add_period(moment: datetime, period: int, unit: str) -> datetime:
    """PHP's `modify("+N unit")`: months and years overflow into the next month (Jan 31 + 1
    month is Mar 3 or 2), the other units are plain spans."""
    if unit in _SPANS:
        return moment + _SPANS[unit] * period
    if unit not in ("month", "year"):
        raise ServerError(f"Failed to parse time string (+{period} {unit})")
    months = moment.month - 1 + (period * 12 if unit == "year" else period)
    year, month = moment.year + months // 12, months % 12 + 1
    first = moment.replace(year=year, month=month, day=1)
    overflow = moment.day - calendar.monthrange(year, month)[1]
    day = moment.day if overflow <= 0 else calendar.monthrange(year, month)[1]
    return first.replace(day=day) + timedelta(days=max(0, overflow))


def renew_service(ctx: Context, service: Row) -> None:
    plan = ctx.db.one("SELECT * FROM `plans` WHERE `id` = ?", [service.get("plan_id")])
    if plan is None:
        raise ServerError('Attempt to read property "type" on null')
    expires = None
    if plan.get("type") not in ("one-time", "free"):
        parsed = values.parse_datetime(service.get("expires_at"), ctx.tz)
        if parsed is None or service.get("status") != "active":
            base = ctx.now()
        else:
            base = parsed.astimezone(ctx.tz).replace(hour=0, minute=0, second=0, microsecond=0)
        period = phpish.int_cast(plan.get("billing_period"))
        renewed = add_period(base, period, str(plan.get("billing_unit") or ""))
        expires = renewed.strftime("%Y-%m-%d %H:%M:%S")
    save_changes(ctx, SERVICES, service, {"expires_at": expires, "status": "active"})
