"""A guard's verdict on the evidence of one route: hold, pass, or trip. Pure.

The evidence is what every gateway process answered on the route within the guard's window,
per side: answers, errors (5xx and failures) and a latency histogram. `judge` trips when

    native errors / native answers > max_error_rate        (relative_to_legacy: > legacy's + it)
    native p99 > max_p99                                   (relative_to_legacy: > legacy's + it)

and never on fewer than `min_requests` native answers: with too little evidence it holds, it
does not guess. The p99 is known to the histogram's resolution (`BOUNDS`, ten steps a decade):
it trips only when the slot holding the 99th percentile lies wholly above the limit, so a limit
between two bounds trips once the p99 passes the next bound, and never on a p99 that might be
under it. With `relative_to_legacy`, legacy's own rate and p99 are the baseline once legacy has
`min_requests` answers in the window; before that, the limits alone.
"""

from __future__ import annotations

import bisect
import math
from dataclasses import dataclass, field

from proxy.table.model import GuardConfig

_STEPS = (1.0, 1.2, 1.5, 2.0, 2.5, 3.0, 4.0, 5.0, 6.0, 8.0)
# upper bounds in seconds of the latency slots, 1 ms to 60 s; the last slot is everything above
BOUNDS = (*(round(step * 10.0**exp, 6) for exp in range(-3, 2) for step in _STEPS), 60.0)
SLOTS = len(BOUNDS) + 1
ERRORS = -1  # the slot number under which errors are counted beside the histogram


def slot_of(seconds: float) -> int:
    return bisect.bisect_left(BOUNDS, seconds)


@dataclass(slots=True)
class SideEvidence:
    """One side's answers in a window: counts by latency slot, and how many were errors."""

    slots: list[int] = field(default_factory=lambda: [0] * SLOTS)
    errors: int = 0
    n: int = 0  # the sum of the slots, kept as they are counted

    def add(self, seconds: float, error: bool) -> None:
        self.slots[slot_of(seconds)] += 1
        self.errors += error
        self.n += 1

    def count(self, slot: int, n: int) -> None:
        """Add `n` answers of a slot (ERRORS: `n` errors), as the store keeps them."""
        if slot == ERRORS:
            self.errors += n
        else:
            self.slots[slot] += n
            self.n += n

    def rows(self) -> list[tuple[int, int]]:
        """(slot, n) of the non-empty slots, errors under ERRORS: what the store keeps."""
        found = [(slot, n) for slot, n in enumerate(self.slots) if n]
        return [*found, (ERRORS, self.errors)] if self.errors else found

    def merge(self, *others: SideEvidence) -> SideEvidence:
        merged = SideEvidence(list(self.slots), self.errors, self.n)
        for other in others:
            merged.slots = [a + b for a, b in zip(merged.slots, other.slots, strict=True)]
            merged.errors += other.errors
            merged.n += other.n
        return merged

    @property
    def error_rate(self) -> float | None:
        n = self.n
        return self.errors / n if n else None

    def p99(self) -> tuple[float, float] | None:
        """(lower, upper] bounds of the slot holding the 99th percentile; None when empty."""
        n = self.n
        if not n:
            return None
        rank = math.ceil(0.99 * n)
        running = 0
        for i, count in enumerate(self.slots):
            running += count
            if running >= rank:
                return (BOUNDS[i - 1] if i else 0.0, BOUNDS[i] if i < len(BOUNDS) else math.inf)
        raise AssertionError("unreachable: the counts add up to n")


@dataclass(frozen=True, slots=True)
class Verdict:
    tripped: bool
    reason: str  # why it tripped, or what it is waiting for, or that it passes


def judge(guard: GuardConfig, native: SideEvidence, legacy: SideEvidence, window: str) -> Verdict:
    """`window` is how the reason names the window (e.g. "5m")."""
    n = native.n
    if n < guard.min_requests:
        return Verdict(False, f"holding: {n} of {guard.min_requests} requests over {window}")
    base = legacy if guard.relative_to_legacy and legacy.n >= guard.min_requests else None
    tail = f" over {window}, {n} requests"
    if guard.max_error_rate is not None:
        rate = native.errors / n
        floor = base.errors / base.n if base is not None else 0.0
        if rate > floor + guard.max_error_rate:
            limit = percent(guard.max_error_rate)
            if base is not None:
                limit = f"legacy's {percent(floor)} + {limit}"
            return Verdict(True, f"error rate {percent(rate)} > {limit}{tail}")
    if guard.max_p99 is not None:
        p99 = native.p99()
        base_p99 = base.p99() if base is not None else None
        floor = base_p99[1] if base_p99 is not None else 0.0
        if p99 is not None and p99[0] >= floor + guard.max_p99:
            limit = seconds(guard.max_p99)
            if base_p99 is not None:
                limit = f"legacy's {seconds(floor)} + {limit}"
            return Verdict(True, f"p99 {span(p99)} > {limit}{tail}")
    return Verdict(False, f"within limits{tail}")


def percent(rate: float) -> str:
    return f"{rate * 100:.1f}".removesuffix(".0") + " %"


def seconds(value: float) -> str:
    if math.isinf(value):
        return "∞"
    if value < 1:
        return f"{value * 1000:.4g} ms"
    return f"{value:.4g} s"


def span(bounds: tuple[float, float]) -> str:
    low, high = bounds
    if math.isinf(high):
        return f"above {seconds(low)}"
    return f"{seconds(low)} to {seconds(high)}"
