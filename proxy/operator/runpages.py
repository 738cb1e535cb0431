"""The dashboard's replay pages as HTML text: the list of runs, and one run.

Pure, as proxy.operator.pages: values in, a page out, no script. A run's page reads like a
route's, for every route the run compared: what it sent and left out, each route's outcomes,
the tree of differing fields (noise marked), and the newest pair of each field side by side,
the differing parts highlighted (pairs are stored redacted, and shown as stored). Replay
evidence is never live evidence: these pages are the only ones that show it.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from urllib.parse import quote

from proxy.operator.htmlparts import esc, field_tree, render_pair
from proxy.operator.pages import BASE, page, when
from shadow.records import SampleRow, Source
from shadow.report import Report, RouteReport, fmt_percent
from shadow.runs import RunInfo, RunState, describe
from shadow.samples import chosen_samples

_STATE = {
    RunState.FINISHED: "ready", RunState.RUNNING: "mode-shadow", RunState.STOPPED: "low",
    RunState.FAILED: "blocked",
}  # fmt: skip


def run_url(run: str) -> str:
    return f"{BASE}/runs/{quote(run, safe='')}"


def _badge(info: RunInfo) -> str:
    return f'<span class="badge {_STATE[info.state]}">{esc(info.state.value)}</span>'


def _table(headings: Sequence[str], rows: Iterable[Sequence[str]], cls: str) -> str:
    head = "".join(f"<th>{esc(h)}</th>" for h in headings)
    body = "".join("<tr>" + "".join(row) + "</tr>" for row in rows)
    return f'<table class="{cls}"><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>'


def _num(value: object) -> str:
    return f'<td class="num">{esc(value)}</td>'


def runs_page(runs: Sequence[RunInfo], *, signed_in: bool = False) -> str:
    rows = [
        [
            f'<td><a href="{run_url(r.id)}">{esc(r.id)}</a></td>', f"<td>{_badge(r)}</td>",
            f"<td>{when(r.started)}</td>", f"<td>{esc(r.source)}</td>",
            _num(f"{r.totals.read:,}"), _num(f"{r.totals.sent:,}"),
        ]
        for r in runs
    ]  # fmt: skip
    table = _table(["run", "state", "started", "source", "read", "sent"], rows, "runs")
    body = (
        f'<p><a href="{BASE}/">all routes</a></p><h1>Replay runs</h1>'
        + (table if runs else '<p class="quiet">No replay run in this store yet.</p>')
        + '<p class="quiet">Each run is <code>strangler replay</code> sending logged or recorded '
        "requests to both sides; its evidence is kept apart from the live shadow evidence, and "
        "no report or gate of the live routes counts it.</p>"
    )  # fmt: skip
    return page("replay runs", body, signed_in=signed_in)


def run_page(
    info: RunInfo, report: Report, samples: Sequence[SampleRow], *, signed_in: bool = False
) -> str:
    rows = [
        [
            f'<td><a href="#route-{esc(r.route)}">{esc(r.route)}</a></td>', _num(r.requests),
            _num(r.matched), _num(r.ignored), _num(r.mismatched), _num(r.errored),
            _num(r.skipped), _num(r.compared),
            f'<td class="num parity">{fmt_percent(r.parity)}</td>',
        ]
        for r in report.routes
    ]  # fmt: skip
    headings = ["route", "requests", "matched", "ignored", "mismatched", "errored", "skipped",
                "compared", "parity"]  # fmt: skip
    differing = any(r.fields or r.errored for r in report.routes)
    table = (
        _table(headings, rows, "run-routes") if rows else '<p class="quiet">Nothing compared.</p>'
    )
    shown = [r for r in report.routes if r.fields or r.noise or r.errored]
    body = (
        f'<p><a href="{BASE}/runs">all runs</a> · <a href="{BASE}/">all routes</a></p>'
        f"<h1>Replay {esc(info.id)} {_badge(info)}</h1><p>{esc(describe(info))}</p>"
        + table + "".join(_route(r, samples) for r in shown)
        + (
            f'<p class="quiet">Tests for these differences: <code>strangler export-tests --run '
            f"{esc(info.id)} -o tests/parity/</code></p>" if differing else ""
        )
    )  # fmt: skip
    return page(f"replay {info.id}", body, signed_in=signed_in)


def _route(r: RouteReport, samples: Sequence[SampleRow]) -> str:
    shown = chosen_samples(r, samples)
    anchors = {s.field: f"#{esc(r.route)}-sample-{i}" for i, s in enumerate(shown)}
    pairs = "".join(_pair(r.route, i, s) for i, s in enumerate(shown))
    return (
        f'<section id="route-{esc(r.route)}"><h2>{esc(r.route)}</h2>'
        f"<h3>Differing fields</h3>{field_tree(r.fields, r.noise, anchors)}"
        f"<h3>Samples</h3>{pairs}</section>"
    )


def _pair(route: str, i: int, s: SampleRow) -> str:
    left, right = render_pair(s.primary, s.candidate)
    other = "native" if s.source is Source.PC else "legacy again: A/A"
    query = f"?{s.query}" if s.query else ""
    place = f" · first difference at <code>{esc(s.path)}</code>" if s.path else ""
    error = f'<p class="warn">{esc(s.error)}</p>' if s.error else ""
    return (
        f'<section class="sample" id="{esc(route)}-sample-{i}"><h4><code>{esc(s.field)}</code>'
        f'</h4><p class="quiet">{esc(s.method)} {esc(s.request_path + query)} · request '
        f"{esc(s.request_id)}{place}</p>{error}"
        f'<div class="pair"><div><b>legacy</b><pre class="side primary">{left}</pre></div>'
        f'<div><b>{esc(other)}</b><pre class="side candidate">{right}</pre></div></div></section>'
    )
