"""Each route's stage of the migration, in LaunchDarkly's words and ours, with the evidence for
the next step. Pure: the table, the rollbacks, the gate verdicts and the answers per side in.

    ours                   LaunchDarkly's migration stage
    1 legacy               off        the old system answers everything
    2 shadow               shadow     both run, the old one answers (primary: native → live)
    3 canary n %           live       both run; n % of cohorts get the new one
    4 native               rampdown   the new one answers; the old one is still there to fall
                                      back on and to roll back to
    5 legacy code removed  complete   the route says `legacy_removed: true`: nothing to go back to

A route a guard rolled back is shown at its table's stage, rolled back, with the guard's reason.
"""

from __future__ import annotations

from dataclasses import dataclass

from proxy.modes.guard import SideEvidence, percent, span
from proxy.modes.rollbacks import Rollback
from proxy.table.model import Mode, Route, Side
from shadow.gate import Verdict


@dataclass(frozen=True, slots=True)
class Stage:
    step: int  # 1 to 5
    name: str  # ours: legacy, shadow, canary 10 %, native, legacy code removed
    launchdarkly: str  # off, shadow, live, rampdown, complete


@dataclass(frozen=True, slots=True)
class SideStats:
    """One side's answers over a window, in words."""

    side: str
    answers: int
    error_rate: str  # "2.1 %", or "-" without answers
    p99: str  # "80 ms to 100 ms", or "-"


@dataclass(frozen=True, slots=True)
class RouteStatus:
    id: str
    mode: str  # in the table
    effective: str  # what answers now: legacy when a guard rolled the route back
    stage: Stage
    rollback: Rollback | None
    verdict: Verdict | None  # the gate's, for shadow routes and comparing canaries
    sides: tuple[SideStats, ...]  # canary and guarded routes: legacy, then native
    window: str  # of the side figures
    next: str  # the next step, and what the evidence says of it


def stage_of(route: Route) -> Stage:
    if route.mode is Mode.SHADOW:
        live = route.shadow is not None and route.shadow.primary is Side.NATIVE
        return Stage(2, "shadow", "live" if live else "shadow")
    if route.mode is Mode.CANARY:
        share = route.canary.share if route.canary is not None else 0.0
        return Stage(3, f"canary {share * 100:g} %", "live")
    if route.mode is Mode.NATIVE:
        if route.legacy_removed:
            return Stage(5, "legacy code removed", "complete")
        return Stage(4, "native", "rampdown")
    return Stage(1, "legacy", "off")


def side_stats(side: str, evidence: SideEvidence | None) -> SideStats:
    e = evidence or SideEvidence()
    rate = e.error_rate
    p99 = e.p99()
    return SideStats(
        side, e.n, percent(rate) if rate is not None else "-", span(p99) if p99 else "-"
    )


def next_step(
    route: Route, rollback: Rollback | None, verdict: Verdict | None, sides: tuple[SideStats, ...]
) -> str:
    if rollback is not None:
        return (
            f"rolled back to legacy by its guard: {rollback.reason}; fix the native side, "
            f"then `strangler resume {route.id}`"
        )
    gate = _gate_words(verdict)
    if route.mode is Mode.LEGACY:
        return "shadow: write the native handler, `strangler check`, then mode: shadow"
    if route.mode is Mode.SHADOW:
        return f"canary: {gate}"
    native = next((s for s in sides if s.side == "native"), None)
    if route.mode is Mode.CANARY:
        figures = _figures(sides)
        words = f"raise the share, then mode: native; {figures}"
        return words + (f"; {gate}" if verdict is not None else "")
    if route.legacy_removed:
        return "done: the route is native for good"
    errors = f"; native {native.error_rate} errors over {native.answers}" if native else ""
    return f"legacy code removed: delete the PHP endpoint, then legacy_removed: true{errors}"


def _gate_words(verdict: Verdict | None) -> str:
    if verdict is None:
        return "no gate verdict"
    if verdict.ready:
        return "the gate says ready"
    return "the gate says blocked (" + "; ".join(verdict.reasons) + ")"


def _figures(sides: tuple[SideStats, ...]) -> str:
    shown = [f"{s.side} {s.error_rate} errors, p99 {s.p99}, {s.answers} answers" for s in sides]
    return " · ".join(shown) if shown else "no answers yet"
