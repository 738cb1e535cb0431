"""Flip gates: is a shadow route's evidence good enough to flip it? A pure fold over stored rows.

A route is *ready* when, over the last `window` (ending at `now`, which the caller passes in):

    compared >= min_samples                     enough comparisons (matched, ignored, mismatched
                                                and errored; skipped, shed and unsampled requests
                                                were never compared and do not count)
    (mismatched + errored) / compared           at most max_mismatch_rate: an errored comparison
        <= max_mismatch_rate                    (a candidate that timed out or answered garbage)
                                                is no better than a mismatch
    no new differing field                      no field whose first difference inside the window
                                                falls within the last `quiet_for` (0: rule off);
                                                fields learned as noise (shadow.noise) do not count

Otherwise it is *blocked*, and every rule that fails gives one reason. Rows are counted by whole
time buckets: a bucket that overlaps the window's start counts whole, as in reports.

When the route's evidence was reset (`Store.reset`) inside the window, the window starts at the
reset instead (see `records.in_epoch`), and the reasons say "since the reset" rather than name
the window.
"""

from __future__ import annotations

import dataclasses
import enum
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass

from shadow.noise import DEFAULT_THRESHOLDS, Thresholds, is_noise, rates_from_rows
from shadow.records import CountRow, FieldRow, Rows, Source, epoch_starts, in_epoch

_SHOWN_FIELDS = 3  # new fields named in a reason; the rest are counted


@dataclass(frozen=True, slots=True)
class GateRule:
    """routing.yaml's gate block as plain values (the gateway's GateConfig has the same names)."""

    min_samples: int = 1000
    max_mismatch_rate: float = 0.01
    window: float = 24 * 3600.0  # seconds
    quiet_for: float = 3600.0  # seconds; 0: any field may be new

    @classmethod
    def from_config(cls, config: object) -> GateRule:
        """Copy the same-named attributes of any config object."""
        values = {
            f.name: getattr(config, f.name)
            for f in dataclasses.fields(cls)
            if hasattr(config, f.name)
        }
        return cls(**values)


class Status(enum.Enum):
    READY = "ready"
    BLOCKED = "blocked"


@dataclass(frozen=True, slots=True)
class NewField:
    field: str
    first_seen: float  # start of the first bucket inside the window where it differed


@dataclass(frozen=True, slots=True)
class Verdict:
    route: str
    status: Status
    reasons: tuple[str, ...]  # why it is blocked, one per failing rule; () when ready
    compared: int
    failed: int  # mismatched + errored
    mismatch_rate: float | None  # None: nothing compared
    new_fields: tuple[NewField, ...]  # newest first
    rule: GateRule
    epoch: float | None = None  # the route's latest reset, when it falls inside the window

    @property
    def ready(self) -> bool:
        return self.status is Status.READY

    @property
    def summary(self) -> str:
        return "ready" if self.ready else "; ".join(self.reasons)


def judge(
    rows: Rows,
    route: str,
    rule: GateRule,
    now: float,
    *,
    bucket_seconds: int = 60,
    thresholds: Thresholds = DEFAULT_THRESHOLDS,
    epoch: float | None = None,  # None: the route's latest reset among the rows, if any
) -> Verdict:
    """The verdict of one route's gate on the rows given (other routes' rows are left out)."""
    start = now - rule.window
    if epoch is None:
        epoch = epoch_starts(e for e in rows.epochs if e.route == route).get(route)
    if epoch is not None and epoch <= start:
        epoch = None  # reset before the window: the window alone decides
    if epoch is not None:
        rows = in_epoch(rows, {route: epoch})

    def inside(row: CountRow | FieldRow) -> bool:
        return row.route == route and start < row.bucket + bucket_seconds and row.bucket <= now

    counts = [c for c in rows.counts if inside(c)]
    fields = [f for f in rows.fields if inside(f)]
    total: Counter[str] = Counter()
    for c in counts:
        total.update(c.counts)
    compared = sum(total[k] for k in ("matched", "ignored", "mismatched", "errored"))
    failed = total["mismatched"] + total["errored"]
    rate = failed / compared if compared else None
    new: tuple[NewField, ...] = ()
    if rule.quiet_for > 0:
        quiet_since = now - rule.quiet_for
        new = _new_fields(counts, fields, route, quiet_since, bucket_seconds, thresholds)
    reasons = []
    window = f"in the last {format_duration(rule.window)}"
    if epoch is not None:
        window = f"since the reset {format_duration(max(0.0, round(now - epoch)))} ago"
    if compared < rule.min_samples:
        reasons.append(f"{compared} of {rule.min_samples} compared samples {window}")
    if rate is not None and rate > rule.max_mismatch_rate:
        reasons.append(
            f"mismatch rate {rate:.2%} ({failed} of {compared}) {window} "
            f"is above {rule.max_mismatch_rate:.2%}"
        )
    if new:
        reasons.append(_new_fields_reason(new, now, rule.quiet_for))
    status = Status.BLOCKED if reasons else Status.READY
    return Verdict(route, status, tuple(reasons), compared, failed, rate, new, rule, epoch)


def _new_fields(
    counts: Iterable[CountRow],
    fields: Iterable[FieldRow],
    route: str,
    quiet_since: float,
    bucket_seconds: int,
    thresholds: Thresholds,
) -> tuple[NewField, ...]:
    pc = [f for f in fields if f.source is Source.PC]
    noise = {
        name
        for name, r in rates_from_rows(counts, fields).get(route, {}).items()
        if is_noise(r, thresholds)
    }
    first: dict[str, int] = {}
    for f in pc:
        if f.field not in noise and f.n > 0:
            first[f.field] = min(first.get(f.field, f.bucket), f.bucket)
    new = [NewField(n, float(b)) for n, b in first.items() if b + bucket_seconds > quiet_since]
    return tuple(sorted(new, key=lambda n: (-n.first_seen, n.field)))


def _new_fields_reason(new: tuple[NewField, ...], now: float, quiet_for: float) -> str:
    named = ", ".join(
        f"{n.field} ({format_duration(max(0.0, now - n.first_seen))} ago)"
        for n in new[:_SHOWN_FIELDS]
    )
    more = f" and {len(new) - _SHOWN_FIELDS} more" if len(new) > _SHOWN_FIELDS else ""
    noun = "field" if len(new) == 1 else "fields"
    return (
        f"{len(new)} new differing {noun} in the last {format_duration(quiet_for)}: {named}{more}"
    )


def format_duration(seconds: float) -> str:
    """The largest unit that divides evenly, as routing.yaml writes durations: 24h, 90m, 45s."""
    for unit, size in (("h", 3600), ("m", 60)):
        if seconds >= size and seconds % size == 0:
            return f"{int(seconds // size)}{unit}"
    if seconds >= 3600:
        return f"{seconds / 3600:.1f}h"
    if seconds >= 60:
        return f"{int(seconds // 60)}m"
    return f"{seconds:g}s" if seconds < 10 else f"{int(seconds)}s"
