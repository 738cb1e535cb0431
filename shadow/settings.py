"""Settings of shadow mode, and the decisions made before any work: sampling and the diff budget.

`ShadowSettings` mirrors routing.yaml's shadow block (DESIGN.md) without importing the gateway's
types; `ShadowSettings.from_config` copies any object with the same attribute names.
"""

from __future__ import annotations

import dataclasses
import enum
import functools
import hashlib
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

from shadow.fieldpath import Pattern, parse_all
from shadow.noise import Thresholds


@dataclass(frozen=True, slots=True)
class ShadowSettings:
    """routing.yaml's shadow keys (see DESIGN.md), plus the noise thresholds (see shadow.noise)."""

    primary: str = "legacy"  # legacy | native: the side that answers the client
    sample: float = 1.0
    noise_sample: float = 0.05
    timeout: float = 2.0  # seconds
    max_in_flight: int = 64
    # candidate calls run by this process's own interpreter (an in-process native app) at once:
    # they take the client's core and GIL, so far fewer than max_in_flight (see experiment.py)
    max_in_process: int = 1
    # ... and the share of the time they may take, over the last second (1 turns it off)
    in_process_share: float = 0.25
    max_body: int = 1024 * 1024  # bytes
    headers: tuple[str, ...] = ("content-type", "location")
    ignore: tuple[str, ...] = ()
    redact: tuple[str, ...] = ()
    writes: str = "none"  # none | dry_run
    relative_threshold: float = 0.20
    absolute_threshold: float = 0.0003
    noise_min_samples: int = 20  # A/A comparisons before a field can be noise

    @classmethod
    def from_config(cls, config: object, **overrides: object) -> ShadowSettings:
        """Copy the same-named attributes of any config object (enum members by value)."""
        values: dict[str, object] = {}
        for f in dataclasses.fields(cls):
            if hasattr(config, f.name):
                value = getattr(config, f.name)
                values[f.name] = value.value if isinstance(value, enum.Enum) else value
        values.update(overrides)
        return cls(**values)  # type: ignore[arg-type]

    @property
    def thresholds(self) -> Thresholds:
        return Thresholds(self.relative_threshold, self.absolute_threshold, self.noise_min_samples)


@functools.lru_cache(maxsize=256)
def compiled(paths: tuple[str, ...]) -> tuple[Pattern, ...]:
    """Patterns parsed once per distinct list (settings are frozen, so lists repeat)."""
    return parse_all(paths)


def sampled(request_id: str, fraction: float) -> bool:
    """Deterministic: the same request id is always in or always out, so a run can be replayed."""
    if fraction >= 1.0:
        return True
    if fraction <= 0.0:
        return False
    digest = hashlib.blake2b(request_id.encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big") / 2**64 < fraction


class DiffBudget:
    """Tree diffs allowed per second: a token bucket `burst` deep, shared by the compare threads.

    DESIGN.md: the tree diff runs only for mismatches, and only for a sample of them when they
    are frequent. Over the budget a mismatch is still counted, without its fields (`undiffed`);
    reports scale the field counts of the diffed ones up to estimate all (see shadow.noise).
    """

    def __init__(
        self, per_second: float, burst: float | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:  # fmt: skip
        self.per_second = per_second
        self.burst = burst if burst is not None else max(1.0, per_second)
        self.clock = clock
        self._tokens = self.burst
        self._last = clock()
        self._lock = threading.Lock()

    def take(self) -> bool:
        with self._lock:
            now = self.clock()
            self._tokens = min(self.burst, self._tokens + (now - self._last) * self.per_second)
            self._last = now
            if self._tokens < 1.0:
                return False
            self._tokens -= 1.0
            return True


DEFAULTS = ShadowSettings()
