"""Route matching for the admin API, as the legacy router answers: 404 for unknown paths,
405 with the supported verbs (200 with Allow for OPTIONS), HEAD served by GET routes."""

from __future__ import annotations

from dataclasses import dataclass

from handlers.errors import ApiError
from handlers.model import Resource
from handlers.registry import resource_for_segment

VERBS = ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS")
PREFIX = "/api/v1/admin/"
_COLLECTION = {"GET": "index", "HEAD": "index", "POST": "store"}
_MEMBER = {"GET": "show", "HEAD": "show", "PUT": "update", "PATCH": "update", "DELETE": "destroy"}


@dataclass(frozen=True)
class Target:
    resource: Resource
    action: str
    key: str | None


@dataclass(frozen=True)
class Options:
    """An OPTIONS request on a known path: the verbs it supports."""

    allow: str


def preflight(method: str, path: str, headers: dict[str, str]) -> tuple[tuple[str, str], ...]:
    """CORS preflight on api/* with the framework's defaults (every origin, method and header,
    max age 0); empty when the request is not one."""
    wanted = headers.get("access-control-request-method")
    if method != "OPTIONS" or "origin" not in headers or wanted is None:
        return ()
    if not path.startswith("/api/"):
        return ()
    found = [
        ("access-control-allow-origin", "*"),
        ("access-control-allow-methods", wanted.upper()),
        ("access-control-max-age", "0"),
        ("vary", "Access-Control-Request-Method, Access-Control-Request-Headers"),
    ]
    if "access-control-request-headers" in headers:
        found.append(("access-control-allow-headers", headers["access-control-request-headers"]))
    return tuple(found)


def _split(path: str) -> tuple[Resource, str | None] | None:
    if not path.startswith(PREFIX):
        return None
    parts = path[len(PREFIX) :].split("/")
    if len(parts) > 2 or parts[0] == "" or (len(parts) == 2 and parts[1] == ""):
        return None
    resource = resource_for_segment(parts[0])
    if resource is None:
        return None
    return resource, parts[1] if len(parts) == 2 else None


def match(method: str, path: str, route_path: str) -> Target | Options:
    """`path` is the decoded request path; `route_path` the one the 404/405 messages name."""
    trimmed = path.rstrip("/") or "/"
    found = _split(trimmed)
    if found is None:
        raise ApiError(404, f"The route {route_path} could not be found.")
    resource, key = found
    actions = _COLLECTION if key is None else _MEMBER
    if method in actions:
        return Target(resource, actions[method], key)
    others = [verb for verb in VERBS if verb != method and verb in actions]
    if method == "OPTIONS":
        return Options(",".join(others))
    raise ApiError(
        405,
        f"The {method} method is not supported for route {route_path}. "
        f"Supported methods: {', '.join(others)}.",
        {"Allow": ", ".join(others)},
    )
