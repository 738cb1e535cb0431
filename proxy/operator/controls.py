"""The operator's side of the migration controls: a route's effective mode, and resume.

describe(guards)(route)                 what /_strangler/routes adds to each route: the
                                        effective mode and why (rolled back by a guard at T
                                        for reason R; a canary's share and cohort)
POST /_strangler/routes/{id}/resume     lift a guard's rollback in every worker and gateway
                                        instance (the bearer token, as for every POST)
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from sqlalchemy.exc import SQLAlchemyError
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from proxy.modes.guards import Guards
from proxy.modes.rollbacks import Rollback
from proxy.operator.admin import PREFIX, AdminContext, protect
from proxy.table.model import Mode
from proxy.table.model import Route as TableRoute


def when(at: float) -> str:
    return datetime.fromtimestamp(at, UTC).strftime("%Y-%m-%d %H:%M:%S UTC")


def rolled_back_why(rollback: Rollback) -> str:
    return f"rolled back by guard at {when(rollback.at)}: {rollback.reason}"


def why(route: TableRoute, rollback: Rollback | None) -> str:
    """Why a route is served as it is, in words."""
    if rollback is not None:
        return rolled_back_why(rollback)
    if route.mode is Mode.CANARY and route.canary is not None:
        c = route.canary
        forced = f"; {c.force} from a trusted peer picks the side" if c.force else ""
        return f"{c.share * 100:g} % of cohorts ({c.cohort}) to native, the rest to legacy{forced}"
    return f"mode {route.mode.value} in the table"


def describe(guards: Guards) -> Callable[[TableRoute], dict[str, Any]]:
    def fields(route: TableRoute) -> dict[str, Any]:
        rollback = guards.rolled_back(route.id)
        out: dict[str, Any] = {
            "effective_mode": "legacy" if rollback is not None else route.mode.value,
            "why": why(route, rollback),
        }
        if rollback is not None:
            out["rollback"] = rollback_json(rollback)
        return out

    return fields


def rollback_json(rollback: Rollback) -> dict[str, Any]:
    return {
        "at": rollback.at, "reason": rollback.reason, "from_mode": rollback.mode,
        "trigger": rollback.trigger, "state": rollback.state.value,
    }  # fmt: skip


def control_routes(ctx: AdminContext, guards: Guards) -> list[Route]:
    async def resume(request: Request) -> Response:
        route_id = request.path_params["id"]
        try:
            lifted = await guards.resume(route_id)
        except SQLAlchemyError as exc:
            error = f"the parity store cannot be written: {type(exc).__name__}"
            return JSONResponse({"error": error}, status_code=503)
        if lifted is None:
            error = f"route {route_id!r} is not rolled back: nothing to resume"
            return JSONResponse({"route": route_id, "resumed": False, "error": error}, 409)
        body = {"route": route_id, "resumed": True, "rollback": rollback_json(lifted)}
        return JSONResponse(body)

    return [Route(f"{PREFIX}/routes/{{id}}/resume", protect(ctx, resume), methods=["POST"])]
