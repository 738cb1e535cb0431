"""Replay runs: what one `strangler replay` was asked, how it went, and under which id its
evidence is stored (apart from live shadow evidence: see shadow.store).

Pure: the caller passes the time and the random part of an id in.

    run_id(at, token)  → "20250611-142233-3fa2": sortable by start, unique enough across the
                          replays one store sees (the token is random)
    RunInfo            the run's row: state running → finished | stopped (Ctrl-C) | failed
    Totals             the requests read from the source, and each reason one was not sent
"""

from __future__ import annotations

import enum
import json
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any


class RunState(enum.Enum):
    RUNNING = "running"
    FINISHED = "finished"  # every request of the source was sent (or left out, counted)
    STOPPED = "stopped"  # the operator stopped it: what was compared is kept
    FAILED = "failed"  # it could not go on (a side or the store failed for good)


def run_id(at: float, token: str) -> str:
    """A run's id: its start in UTC, then a short random token."""
    return datetime.fromtimestamp(at, UTC).strftime("%Y%m%d-%H%M%S-") + token[:4]


class LeftOut(enum.Enum):
    """Why a request read from the source was not sent (counted per reason)."""

    UNREADABLE = "unreadable"  # a log line that is not a request
    OUTSIDE = "outside"  # before --since, after --until, or another --route than asked
    UNMATCHED = "unmatched"  # no route of the table takes it
    NOT_COMPARED = "not_compared"  # its route has no native side to compare (legacy mode)
    UNKNOWN_ROUTE = "unknown_route"  # the source names a route the table does not have
    BAD_PATH = "bad_path"  # a path the gateway refuses (400): no side would see it


@dataclass(slots=True)
class Totals:
    """Requests read, sent, and left out (with why); routes for the last two."""

    read: int = 0
    sent: int = 0
    left_out: Counter[str] = field(default_factory=Counter)  # LeftOut value → requests
    # route → requests of it left out because their route cannot be compared
    not_compared_routes: Counter[str] = field(default_factory=Counter)
    failed: int = 0  # sent, but the comparison failed inside the replay (a bug: see its log)

    def leave_out(self, why: LeftOut, route: str | None = None) -> None:
        self.left_out[why.value] += 1
        if why is LeftOut.NOT_COMPARED and route is not None:
            self.not_compared_routes[route] += 1

    def to_json(self) -> dict[str, Any]:
        return {
            "read": self.read,
            "sent": self.sent,
            "left_out": dict(sorted(self.left_out.items())),
            "not_compared_routes": dict(sorted(self.not_compared_routes.items())),
            "failed": self.failed,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Totals:
        return cls(
            int(data.get("read", 0)),
            int(data.get("sent", 0)),
            Counter({str(k): int(v) for k, v in dict(data.get("left_out", {})).items()}),
            Counter({str(k): int(v) for k, v in dict(data.get("not_compared_routes", {})).items()}),
            int(data.get("failed", 0)),
        )


@dataclass(frozen=True, slots=True)
class RunInfo:
    id: str
    started: float  # epoch seconds
    source: str  # what was replayed: "access log FILE" or "recorded requests"
    options: dict[str, Any]  # how: routes, limit, rate, concurrency, writes, header names
    state: RunState = RunState.RUNNING
    ended: float | None = None
    totals: Totals = field(default_factory=Totals)

    def options_text(self) -> str:
        return json.dumps(self.options, sort_keys=True)

    def totals_text(self) -> str:
        return json.dumps(self.totals.to_json(), sort_keys=True)


def run_from_row(
    id: str, started: float, ended: float | None, state: str, source: str, options: str, totals: str
) -> RunInfo:
    return RunInfo(
        id, float(started), source, json.loads(options or "{}"), RunState(state),
        None if ended is None else float(ended), Totals.from_json(json.loads(totals or "{}")),
    )  # fmt: skip


_REASONS = {
    LeftOut.UNREADABLE.value: "not requests",
    LeftOut.OUTSIDE.value: "outside the times or routes asked",
    LeftOut.UNMATCHED.value: "matched no route",
    LeftOut.NOT_COMPARED.value: "on routes with no native side to compare",
    LeftOut.UNKNOWN_ROUTE.value: "under a route the table no longer has",
    LeftOut.BAD_PATH.value: "with a path the gateway refuses",
}


def describe(info: RunInfo) -> str:
    """The run in one paragraph: how it ended, its source, what was sent and left out."""
    t = info.totals
    took = ""
    if info.ended is not None:
        took = f" in {timedelta(seconds=round(info.ended - info.started))}"
    text = (
        f"Replay {info.id}: {info.state.value}{took}, started {_when(info.started)}; "
        f"{info.source}; {t.read:,} requests read, {t.sent:,} sent"
    )
    left = []
    for why, n in sorted(t.left_out.items()):
        part = f"{n:,} {_REASONS.get(why, why)}"
        if why == LeftOut.NOT_COMPARED.value and t.not_compared_routes:
            routes = ", ".join(f"{r}: {k:,}" for r, k in sorted(t.not_compared_routes.items()))
            part += f" ({routes})"
        left.append(part)
    if left:
        text += "; left out: " + ", ".join(left)
    if t.failed:
        text += f"; {t.failed:,} comparisons failed inside the replay, uncompared"
    return text + "."


def _when(at: float) -> str:
    return datetime.fromtimestamp(at, UTC).strftime("%Y-%m-%d %H:%M UTC")
