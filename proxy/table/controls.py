"""The keys of the migration controls: canary, fallback, guard, legacy_removed.

Value parsers (pure, ValueError with a reason fit to show an operator) and the rules between
keys of one block. The table parser reads the blocks with them and reports each problem at its
key's line. A route keeps every block whatever its mode: the blocks a mode does not use are
inert, so a flip stays a one-line change of `mode:` (`strangler check` says which are inert).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from proxy.table import units
from proxy.table.model import (
    Cohort,
    CohortKind,
    Fallback,
    GuardConfig,
    Mode,
    Problem,
    Route,
    RouteTable,
)

_TOKEN = re.compile(r"[!#$%&'*+.^_`|~0-9A-Za-z-]+")  # a header name or a cookie name (RFC 6265)
_SALT = re.compile(r"[\x21-\x7e]{1,200}")


def parse_cohort(value: object) -> Cohort:
    """`header:NAME`, `cookie:NAME` or `client_ip`."""
    if value == CohortKind.CLIENT_IP.value:
        return Cohort(CohortKind.CLIENT_IP)
    kind, sep, name = value.partition(":") if isinstance(value, str) else ("", "", "")
    if sep and kind in (CohortKind.HEADER.value, CohortKind.COOKIE.value):
        if _TOKEN.fullmatch(name) is None:
            raise ValueError(f"bad {kind} name {name!r} in {value!r}")
        if kind == CohortKind.HEADER.value:
            return Cohort(CohortKind.HEADER, name.lower())
        return Cohort(CohortKind.COOKIE, name)
    raise ValueError(f"bad cohort {value!r} (expected header:NAME, cookie:NAME or client_ip)")


def parse_force(value: object) -> str:
    """`header:NAME`: the header (lower-case) whose value, `legacy` or `native`, picks the side."""
    kind, sep, name = value.partition(":") if isinstance(value, str) else ("", "", "")
    if not sep or kind != "header" or _TOKEN.fullmatch(name) is None:
        expected = "expected header:NAME, e.g. header:x-strangler-side"
        raise ValueError(f"bad force {value!r} ({expected})")
    return name.lower()


def parse_salt(value: object) -> str:
    if not isinstance(value, str) or _SALT.fullmatch(value) is None:
        raise ValueError(f"bad salt {value!r} (expected 1 to 200 printable characters, no spaces)")
    return value


def _enum_fallback(value: object) -> Fallback:
    return units.parse_member(Fallback, value, "fallback")


# the table's canary block: the salt, and defaults every canary route may override
CANARY_KEYS: dict[str, Callable[[object], Any]] = {
    "share": units.parse_fraction,
    "cohort": parse_cohort,
    "force": parse_force,
    "compare": units.parse_bool,
    "salt": parse_salt,
}
GUARD_KEYS: dict[str, Callable[[object], Any]] = {
    "max_error_rate": units.parse_fraction,
    "max_p99": units.parse_duration,
    "min_requests": units.parse_positive_int,
    "window": units.parse_duration,
    "relative_to_legacy": units.parse_bool,
}
ROUTE_SCALARS: dict[str, Callable[[object], Any]] = {
    "fallback": _enum_fallback,
    "legacy_removed": units.parse_bool,
}


def guard_problem(guard: GuardConfig) -> str | None:
    """What is wrong with a guard block as a whole, if anything."""
    if guard.max_error_rate is None and guard.max_p99 is None:
        return "guard sets no limit: give max_error_rate, max_p99 or both"
    return None


def removed_problems(values: dict[str, Any]) -> list[tuple[str, str]]:
    """(key, reason) for controls that need a legacy side on a route whose legacy code is gone."""
    if not values.get("legacy_removed"):
        return []
    found = []
    if values.get("fallback") is not None:
        found.append(("fallback", "fallback: legacy on a route whose legacy code is removed"))
    if values.get("guard") is not None:
        reason = "guard on a route whose legacy code is removed (it would roll back to nothing)"
        found.append(("guard", reason))
    return found


def findings(table: RouteTable) -> list[Problem]:
    """What `strangler check` says of the controls beyond the inert blocks it notes anyway
    (proxy.table.checks.inert_blocks). The gateway accepts them all (a flip is one line); a
    guard on a legacy route and a legacy route whose legacy code is gone are errors here, since
    neither can be meant."""
    found: list[Problem] = []

    def add(route: Route, reason: str, *, warning: bool) -> None:
        found.append(Problem(table.source, route.line, reason, route.id, warning=warning))

    for route in table.routes:
        mode = route.mode.value
        if route.guard is not None and route.mode is Mode.LEGACY:
            reason = "guard on a legacy route: a guard watches native and canary routes only"
            add(route, reason, warning=False)
        if route.legacy_removed and route.mode is not Mode.NATIVE:
            reason = f"legacy_removed on a {mode} route: its legacy side still answers"
            add(route, reason, warning=False)
        if route.mode is Mode.CANARY and route.canary is not None and route.canary.share == 0:
            add(route, "canary.share is 0: every cohort goes to legacy", warning=True)
    return found
