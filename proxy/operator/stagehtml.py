"""The dashboard's view of a route's stage: badges, the side-by-side figures, the next step.
Pure: a RouteStatus in, HTML out (see proxy.operator.stages)."""

from __future__ import annotations

from proxy.operator.htmlparts import esc
from proxy.operator.stages import RouteStatus

STYLE = """
.mode-canary{background:#fff0d6;color:#6b4300}.stage{background:#e9f1e4;color:#2f5b1c}.rolledback{background:#fde2e1;color:#8a1c16}
td.stagecell .next{font-size:.85em;color:#556;max-width:28rem}
table.sides td,table.sides th{text-align:right}table.sides td:first-child{text-align:left}
"""


def stage_cell(s: RouteStatus | None) -> str:
    """The overview's stage column: ours and LaunchDarkly's, a rollback, the next step."""
    if s is None:
        return '<span class="quiet">-</span>'
    out = (
        f'<span class="badge stage" data-stage="{s.stage.step}">{s.stage.step} '
        f'{esc(s.stage.name)}</span> <span class="quiet">LaunchDarkly: '
        f"{esc(s.stage.launchdarkly)}</span>"
    )
    if s.rollback is not None:
        out += (
            ' <span class="badge rolledback" data-rolled-back="1">rolled back</span>'
            f'<div class="next">{esc(s.rollback.reason)}</div>'
        )
    return out + f'<div class="next">next: {esc(s.next)}</div>'


def sides_table(s: RouteStatus | None) -> str:
    """A canary's (or guarded route's) two sides side by side, over the guard's window."""
    if s is None or not s.sides:
        return ""
    rows = "".join(
        f"<tr><td>{esc(x.side)}</td><td>{x.answers}</td><td>{esc(x.error_rate)}</td>"
        f"<td>{esc(x.p99)}</td></tr>"
        for x in s.sides
    )
    return (
        f"<h2>Sides over the last {esc(s.window)}</h2>"
        '<table class="sides"><thead><tr><th>side</th><th>answers</th><th>error rate</th>'
        f"<th>p99</th></tr></thead><tbody>{rows}</tbody></table>"
        '<p class="quiet">Every worker and gateway instance sharing the parity store; the '
        "cohorts' keys are never kept.</p>"
    )


def stage_section(s: RouteStatus | None) -> str:
    if s is None:
        return ""
    return "<h2>Stage</h2><p>" + stage_cell(s) + "</p>" + sides_table(s)
