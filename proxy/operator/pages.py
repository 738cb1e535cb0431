"""The dashboard's pages as HTML text: the route list, one route, the samples of one field,
and the login page.

Pure: an `Evidence` in, a page out; the time shown is the evidence's `now`. No script anywhere:
the pages read the same with JavaScript off, and the admin app serves them under a policy that
allows none (see proxy.dashboard). `signed_in`: the request came with the session cookie, so
the page offers to sign out (a form: a sign-out is a POST).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC, datetime
from typing import Any
from urllib.parse import quote

from proxy.operator.evidence import Evidence, RouteEvidence
from proxy.operator.history import Flip
from proxy.operator.htmlparts import Marker, esc, field_tree, render_pair, sparkline
from proxy.operator.stagehtml import STYLE as STAGE_STYLE
from proxy.operator.stagehtml import stage_cell, stage_section
from proxy.table.matcher import METHODS
from proxy.table.model import Route
from proxy.table.snapshot import ConfigState
from shadow.gate import Verdict, format_duration
from shadow.records import SampleRow, Source
from shadow.report import RouteReport, diffed_note, epoch_note, fmt_percent, fmt_seconds
from shadow.samples import chosen_samples

BASE = "/_strangler"
STYLE = """
body{font:14px/1.45 system-ui,sans-serif;margin:1.5rem;color:#1d232a;background:#fbfbfc}
h1{font-size:1.4rem;margin:0 0 .2rem}h2{font-size:1.1rem;margin:1.6rem 0 .5rem}
a{color:#0b5cad}.quiet{color:#667}table{border-collapse:collapse;width:100%}
th,td{text-align:left;padding:.35rem .6rem;border-bottom:1px solid #e3e6ea;vertical-align:top}
th{font-weight:600;background:#f1f3f5}td.num{text-align:right;font-variant-numeric:tabular-nums}
.match code{font-size:.85em;color:#3b4550}
.badge{display:inline-block;padding:0 .45rem;border-radius:.6rem;font-size:.85em;font-weight:600}
.ready{background:#d3f4dd;color:#135c2b}.blocked{background:#fde2e1;color:#8a1c16}
.mode-shadow{background:#e8e3fb;color:#3d2a8a}.mode-native{background:#d8ecfb;color:#0b4a7a}
.mode-legacy{background:#eceff2;color:#3b4550}.mode-removed{background:#f5f5f5;color:#888}
.warn{background:#fff4d6;border:1px solid #f0d58c;padding:.5rem .8rem;border-radius:.3rem}
ul.reasons{margin:.2rem 0 0 1rem;padding:0;font-size:.9em}
svg.spark .parity{fill:none;stroke:#3d6fd1;stroke-width:2;stroke-linejoin:round}
svg.spark .point{fill:#3d6fd1}svg.spark .axis{stroke:#c9ced4;stroke-width:.6}
svg.spark .scale{font:9px system-ui,sans-serif;fill:#667}
svg.spark .flip{stroke:#d9822b;stroke-width:1.5;stroke-dasharray:3 2}
.tree,.tree ul{list-style:none;margin:0;padding-left:1.1rem}.tree .seg{font-family:monospace}
.tag{font-size:.8em;padding:0 .35rem;border-radius:.5rem}.noise{background:#eee;color:#555}
.low{background:#fff4d6;color:#6b4b00}.field .count{margin-left:.3rem}
.pair{display:grid;grid-template-columns:minmax(0,1fr) minmax(0,1fr);gap:.8rem}
.pair pre{margin:0;padding:.6rem;background:#fff;border:1px solid #e3e6ea;overflow:auto;
max-height:32rem;font-size:12.5px;white-space:pre-wrap;overflow-wrap:anywhere}
mark{background:#ffd6d3;color:#6b0f0a}mark.only{background:#ffe9b8;color:#5a3b00}
.sidebyside{display:grid;grid-template-columns:minmax(0,3fr) minmax(0,2fr);gap:1.2rem}
form.account{float:right;margin:0}form.account button{background:none;border:0;padding:0;
font:inherit;color:#0b5cad;text-decoration:underline;cursor:pointer}
.login{max-width:26rem;margin:3rem auto}.login label{display:block;font-weight:600;
margin:1rem 0 .3rem}.login input[type=password]{width:100%;box-sizing:border-box;
padding:.45rem .5rem;font:inherit;border:1px solid #b9c0c8;border-radius:.25rem}
.login button{margin-top:.9rem;padding:.4rem 1.1rem;font:inherit;font-weight:600;color:#fff;
background:#0b5cad;border:0;border-radius:.25rem;cursor:pointer}
"""


def when(at: float) -> str:
    return datetime.fromtimestamp(at, UTC).strftime("%Y-%m-%d %H:%M:%S UTC")


def ago(at: float, now: float) -> str:
    return f"{format_duration(max(0, int(now - at)))} ago"


def route_url(route_id: str, tail: str = "") -> str:
    return f"{BASE}/route/{quote(route_id, safe='')}{tail}"


def page(title: str, body: str, *, signed_in: bool = False) -> str:
    account = (
        f'<form class="account" method="post" action="{BASE}/logout">'
        '<button type="submit">sign out</button></form>'
        if signed_in
        else ""
    )
    return (
        '<!doctype html><html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{esc(title)} · Strangler</title><style>{STYLE}{STAGE_STYLE}</style></head>"
        f"<body>{account}{body}</body></html>"
    )


def login_page(next_path: str, lifetime: int, *, error: str = "", ended: bool = False) -> str:
    """The sign-in form; `next_path` (already checked to be under /_strangler/) comes back with
    the post. `ended`: the browser held a session cookie that no longer holds."""
    notice = ""
    if error:
        notice = f'<p class="warn" role="alert">{esc(error)}</p>'
    elif ended:
        notice = (
            '<p class="warn">Your sign-in has ended (it expired, or the admin token was '
            "changed). Sign in again.</p>"
        )
    body = (
        '<main class="login"><h1>Strangler: sign in</h1>'
        '<p class="quiet">The admin surface of this gateway asks for its admin token, the value '
        "of <code>STRANGLER_ADMIN_TOKEN</code>.</p>" + notice
        + f'<form method="post" action="{BASE}/login">'
        f'<input type="hidden" name="next" value="{esc(next_path)}">'
        '<label for="token">Admin token</label><input id="token" name="token" type="password" '
        'autocomplete="current-password" required autofocus>'
        '<button type="submit">Sign in</button></form>'
        f'<p class="quiet">This browser stays signed in for {format_duration(lifetime)}, to '
        "read the dashboard and the other pages; changes (such as a reload) still need "
        "<code>Authorization: Bearer</code>.</p>"
        # SameSite=Strict: a link followed from another site arrives without the cookie
        '<p class="quiet">Signed in already, and came here by a link from elsewhere? Your '
        "browser holds the sign-in back from other sites' links: "
        f'<a href="{esc(next_path)}">continue to {esc(next_path)}</a>.</p></main>'
    )  # fmt: skip
    return page("sign in", body)


def no_login_page() -> str:
    body = (
        '<main class="login"><h1>Strangler: no sign-in</h1>'
        "<p>No admin token is set (<code>STRANGLER_ADMIN_TOKEN</code>), so there is nothing to "
        "sign in with: the admin surface and the dashboard are served to loopback clients only "
        "(this machine), without signing in.</p><p>To use them from elsewhere, as under "
        "docker-compose, start the gateway with the token set.</p>"
        f'<p><a href="{BASE}/">the dashboard</a></p></main>'
    )
    return page("sign in", body)


def _table(headings: Sequence[str], rows: Iterable[Sequence[str]], cls: str = "") -> str:
    head = "".join(f"<th>{h}</th>" for h in headings)
    body = "".join("<tr>" + "".join(row) + "</tr>" for row in rows)
    return f'<table class="{cls}"><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>'


def _mode(r: RouteEvidence) -> str:
    mode = r.route.mode.value if r.route is not None else "removed"
    return f'<span class="badge mode-{mode}">{mode}</span>'


def _match(route: Route | None) -> str:
    if route is None:
        return '<span class="quiet">not in the table</span>'
    methods = "*" if route.methods is None else "|".join(m for m in METHODS if m in route.methods)
    return f"<code>{esc(methods)} {esc(route.template.source)}</code>"


def verdict_html(r: RouteEvidence) -> str:
    v = r.verdict
    if v is None:
        return (
            '<span class="quiet">flipped</span>'
            if _is_native(r)
            else '<span class="quiet">-</span>'
        )
    badge = (
        f'<span class="badge {v.status.value}" data-gate="{v.status.value}">{v.status.value}</span>'
    )
    if v.ready:
        return badge
    return (
        badge + '<ul class="reasons">' + "".join(f"<li>{esc(x)}</li>" for x in v.reasons) + "</ul>"
    )


def _is_native(r: RouteEvidence) -> bool:
    return r.route is not None and r.route.mode.value == "native"


def _markers(flips: Iterable[Flip]) -> list[Marker]:
    return [Marker(f.at, f"{f.text} ({f.trigger}, {when(f.at)})") for f in flips]


def _last_flip(r: RouteEvidence, now: float) -> str:
    if not r.flips:
        return '<span class="quiet">-</span>'
    f = r.flips[0]
    return f'{esc(f.text)}<br><span class="quiet">{esc(f.trigger)}, {ago(f.at, now)}</span>'


def _header(e: Evidence, config: ConfigState | None = None) -> str:
    t = e.table
    loaded = f" (in force since {when(config.loaded_at)})" if config is not None else ""
    out = (
        f'<p class="quiet">{esc(t.source)} · digest {esc(t.digest[:12])}{loaded} · '
        f"evidence of the last {format_duration(e.as_of - e.since)} · {when(e.as_of)}</p>"
    )
    if config is not None and not config.in_force:
        out += _refused(config, e.as_of)
    if e.problem:
        out += f'<p class="warn">{esc(e.problem)}</p>'
    if e.dropped:
        out += f'<p class="warn">{e.dropped} shadow results were dropped before the store.</p>'
    return out


def _refused(config: ConfigState, now: float) -> str:
    """The table file on disk is not the table in force: why, and which table is."""
    text = f", digest <code>{esc(config.rejected_digest[:12])}</code>"
    reasons = "".join(f"<li><code>{esc(p)}</code></li>" for p in config.problems)
    return (
        f'<div class="warn" role="alert" data-config="file_rejected"><b>{esc(config.source)} '
        f"on disk is not in force.</b> A reload ({esc(config.rejected_trigger)}) refused it "
        f"{ago(config.rejected_at, now)} ({when(config.rejected_at)}"
        f"{text if config.rejected_digest else ''}):"
        f'<ul class="reasons">{reasons}</ul>'
        f"In force: the table with digest <code>{esc(config.digest[:12])}</code>, loaded "
        f"{when(config.loaded_at)}. Fixing the file, or putting back the table in force, "
        "clears this at the next reload.</div>"
    )


def _num(value: int, cls: str) -> str:
    return f'<td class="num {cls}">{value}</td>'


def overview(
    e: Evidence,
    *,
    signed_in: bool = False,
    config: ConfigState | None = None,
    workers: Mapping[str, Any] | None = None,
) -> str:
    rows = []
    for r in e.routes:
        rep = r.report
        trend = sparkline(rep.trend if rep else (), e.since, e.as_of, markers=_markers(r.flips))
        rows.append([
            f'<td><a href="{route_url(r.id)}">{esc(r.id)}</a><br>'
            f'<span class="match">{_match(r.route)}</span></td>',
            f"<td>{_mode(r)}</td>", _num(r.requests, "served"),
            _num(rep.requests if rep else 0, "shadowed"),
            _num(rep.compared if rep else 0, "compared"),
            _num(rep.unsampled if rep else 0, "unsampled"), _num(rep.shed if rep else 0, "shed"),
            f'<td class="num parity">{fmt_percent(rep.parity if rep else None)}</td>',
            f"<td>{trend}</td>", f'<td class="gate">{verdict_html(r)}</td>',
            f"<td>{_last_flip(r, e.as_of)}</td>",
            f'<td class="stagecell">{stage_cell(e.statuses.get(r.id))}</td>',
        ])  # fmt: skip
    window = format_duration(e.as_of - e.since)
    headings = ["route", "mode", "served since start", f"shadowed ({window})",
                "compared", "unsampled", "shed", "parity", "parity trend", "gate",
                "last flip", "stage, and the next step"]  # fmt: skip
    links = " · ".join(
        f'<a href="{BASE}/{p}">{p}</a>' for p in ("metrics", "routes", "parity", "health")
    )
    links += f' · <a href="{BASE}/runs">replay runs</a>'
    body = (
        "<h1>Strangler: routes</h1>" + _header(e, config) + workers_line(workers)
        + _table(headings, rows, "routes")
        + '<p class="quiet">Served since start: requests this gateway answered since it started '
        f"(every worker); {e.unmatched} more matched no route and went to legacy. The next "
        f"columns are shadow evidence from the parity store, within the last {window}: "
        "shadowed = compared + unsampled (left out by <code>sample</code>) + shed (no room "
        "for the candidate) + skipped (not comparable); parity = matched or ignored, of "
        f"compared. {links}</p>"
    )  # fmt: skip
    return page("routes", body, signed_in=signed_in)


def workers_line(status: Mapping[str, Any] | None) -> str:
    """The native worker processes (native.workers), as /_strangler/health reports them."""
    if status is None:
        return ""
    down = status["count"] - status["alive"]
    each = ", ".join(
        f"#{w['index']} " + (f"pid {w['pid']}" if w["alive"] else "<b>down</b>")
        + f" ({w['in_flight']} in flight, {w['served']} served, {w['restarts']} restarts)"
        for w in status["workers"]
    )  # fmt: skip
    return (
        f'<p class="{"warn" if down else "quiet"}" data-workers="{status["alive"]}">'
        f"Native workers: {status['alive']} of {status['count']} alive, "
        f"{status['restarts']} restarts, {status['in_flight']} in flight, nice "
        f"{status['nice']}: {each}.</p>"
    )


def _stats(rep: RouteReport | None) -> str:
    if rep is None:
        return '<p class="quiet">Nothing compared in this period.</p>'
    cells = [
        ("shadowed", rep.requests), ("compared", rep.compared), ("parity", fmt_percent(rep.parity)),
        ("matched", rep.matched), ("ignored", rep.ignored), ("mismatched", rep.mismatched),
        ("errored", rep.errored), ("unsampled", rep.unsampled),
        ("skipped / shed", f"{rep.skipped} / {rep.shed}"),
        ("primary p50 / p99", f"{fmt_seconds(rep.primary.p50)} / {fmt_seconds(rep.primary.p99)}"),
        ("candidate p50 / p99",
         f"{fmt_seconds(rep.candidate.p50)} / {fmt_seconds(rep.candidate.p99)}"),
    ]  # fmt: skip
    return _table([esc(k) for k, _ in cells], [[f'<td class="num">{v}</td>' for _, v in cells]])


def _rule(v: Verdict) -> str:
    rule = v.rule
    return (
        f'<p class="quiet">Gate: at least {rule.min_samples} compared in the last '
        f"{format_duration(rule.window)}, mismatch rate at most "
        f"{fmt_percent(rule.max_mismatch_rate)}, no new differing field for "
        f"{format_duration(rule.quiet_for)}.</p>"
    )


def _flips_table(flips: Sequence[Flip]) -> str:
    if not flips:
        return '<p class="quiet">No flips recorded.</p>'
    rows = [
        [f"<td>{when(f.at)}</td>", f"<td>{esc(f.text)}</td>", f"<td>{esc(f.trigger)}</td>",
         f"<td><code>{esc(f.digest[:12])}</code></td>"]
        for f in flips
    ]  # fmt: skip
    return _table(["when", "mode", "trigger", "table"], rows, "flips")


def _samples(route_id: str, samples: Sequence[SampleRow], primary: str, candidate: str) -> str:
    out = []
    for i, s in enumerate(samples):
        left, right = render_pair(s.primary, s.candidate)
        other = candidate if s.source is Source.PC else f"{primary} again: A/A"
        query = f"?{s.query}" if s.query else ""
        place = f" · first difference at <code>{esc(s.path)}</code>" if s.path else ""
        error = f'<p class="warn">{esc(s.error)}</p>' if s.error else ""
        every = route_url(route_id, "/samples?field=" + quote(s.field, safe=""))
        out.append(
            f'<section class="sample" id="sample-{i}"><h3><code>{esc(s.field)}</code> '
            f'<a class="quiet" href="{esc(every)}">every sample of this field</a></h3>'
            f'<p class="quiet">{esc(s.method)} {esc(s.request_path + query)} · request '
            f"{esc(s.request_id)} · {when(s.at)}{place}</p>{error}"
            f'<div class="pair"><div><b>primary ({esc(primary)})</b><pre class="side primary">'
            f'{left}</pre></div><div><b>candidate ({esc(other)})</b><pre class="side '
            f'candidate">{right}</pre></div></div></section>'
        )
    return "".join(out) or '<p class="quiet">No samples stored in this period.</p>'


def _sides(r: RouteEvidence) -> tuple[str, str]:
    native_first = (
        r.route is not None
        and r.route.shadow is not None
        and (r.route.shadow.primary.value == "native")
    )
    return ("native", "legacy") if native_first else ("legacy", "native")


def _notes(rep: RouteReport | None) -> str:
    """What a reader of the counts must know: a reset, mismatches left undiffed."""
    notes = [note for note in (epoch_note(rep), diffed_note(rep)) if note] if rep else []
    return "".join(f'<p class="quiet">{esc(note)}</p>' for note in notes)


def reset_form(route_id: str, form_field: str | None) -> str:
    """The button that starts a route's evidence over; `form_field` is the signed-in session's
    form MAC ("" on a loopback gateway without a token; None: the viewer cannot post)."""
    if form_field is None:
        return ""
    hidden = f'<input type="hidden" name="form" value="{esc(form_field)}">' if form_field else ""
    return (
        f'<form method="post" action="{esc(route_url(route_id, "/reset"))}" class="reset">'
        f'{hidden}<button type="submit">Start the evidence over</button> <span class="quiet">'
        "after fixing a difference or changing the comparison rules: reports and the gate count "
        "from the next minute; the stored rows stay, and the reset is in the flip history.</span>"
        "</form>"
    )


def _trend_start(e: Evidence, r: RouteEvidence) -> float:
    """From shortly before the route's first evidence or flip in the period: a route shadowed
    for an hour would otherwise be a sliver at the edge of a day."""
    times: list[float] = [p.bucket for p in (r.report.trend if r.report else ()) if p.compared]
    times += [f.at for f in r.flips if f.at >= e.since]
    if not times:
        return e.since
    first = min(times)
    return max(e.since, first - max((e.as_of - first) * 0.05, 60.0))


def route_page(
    e: Evidence, r: RouteEvidence, *, signed_in: bool = False, reset: str | None = None
) -> str:
    rep = r.report
    # the same pairs `strangler report --samples` shows: the newest, none from before a reset
    shown = chosen_samples(rep, e.samples) if rep else []
    anchors = {s.field: f"#sample-{i}" for i, s in enumerate(shown)}
    tree = field_tree(rep.fields, rep.noise, anchors) if rep else field_tree((), (), {})
    start = _trend_start(e, r)
    trend = sparkline(rep.trend if rep else (), start, e.as_of, width=640, height=120,
                      markers=_markers(r.flips))  # fmt: skip
    primary, candidate = _sides(r)
    body = (
        f'<p><a href="{BASE}/">all routes</a></p><h1>{esc(r.id)} {_mode(r)}</h1>'
        f"<p>{_match(r.route)}</p>" + _header(e)
        + stage_section(e.statuses.get(r.id))
        + f'<h2>Gate</h2><div class="gate">{verdict_html(r)}</div>'
        + (_rule(r.verdict) if r.verdict else "")
        + f"<h2>Shadow evidence, last {format_duration(e.as_of - e.since)}</h2>" + _stats(rep)
        + _notes(rep) + reset_form(r.id, reset)
        + f'<p class="quiet">From the parity store. Served since the gateway started, in every '
        f"mode: {r.requests}.</p>"
        + '<div class="sidebyside"><div><h2>Parity trend</h2>' + trend
        + f'<p class="quiet">Parity per minute from {when(start)} to {when(e.as_of)}, on a '
        "0 to 100 % scale; dashed upright lines: flips.</p></div>"
        + f"<div><h2>Flip history</h2>{_flips_table(r.flips)}</div></div>"
        + f"<h2>Differing fields</h2>{tree}"
        + f"<h2>Samples</h2>{_samples(r.id, shown, primary, candidate)}"
    )  # fmt: skip
    return page(r.id, body, signed_in=signed_in)


def samples_page(e: Evidence, r: RouteEvidence, field: str, *, signed_in: bool = False) -> str:
    chosen = sorted((s for s in e.samples if s.field == field), key=lambda s: -s.at)
    primary, candidate = _sides(r)
    body = (
        f'<p><a href="{route_url(r.id)}">{esc(r.id)}</a></p>'
        f"<h1>Samples of <code>{esc(field)}</code></h1>" + _header(e)
        + _samples(r.id, chosen, primary, candidate)
    )  # fmt: skip
    return page(f"{r.id} {field}", body, signed_in=signed_in)
