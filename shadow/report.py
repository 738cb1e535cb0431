"""Fold stored rows into a parity report, and render it: a rich table, markdown, or JSON.

Pure: rows in (see `Store.read_rows`), values out; no SQL and no clock (`since` is passed in).
A route is counted from the start of its evidence epoch (its latest reset) when that is later.

Every request on a shadow route has exactly one outcome, so the outcome columns add up:

    requests = matched + ignored + mismatched + errored + skipped + shed + unsampled
    compared = matched + ignored + mismatched + errored
    parity   = (matched + ignored) / compared

An ignored comparison differed only where the operator or the learned noise says differences do
not matter. Some mismatches are counted without their fields (`undiffed`: over the tree-diff
budget); a field's count is then of the diffed comparisons only, its rate an estimate for all,
and the report says how many mismatches were diffed rather than let the two disagree unexplained.

Latency percentiles come from fixed histogram slots, so each is the upper bound of the slot
holding it ("≤ 25 ms"), not an exact value; the overflow slot reads as above the last bound.
"""

from __future__ import annotations

import dataclasses
from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from typing import Any

from rich.console import Group, RenderableType
from rich.table import Table
from rich.text import Text

from shadow.noise import FieldRates, Thresholds, is_noise, is_real, rates_from_rows
from shadow.records import (
    LATENCY_BOUNDS,
    CountRow,
    Rows,
    SampleRow,
    Source,
    epoch_starts,
    in_epoch,
    percentile,
)


@dataclass(frozen=True, slots=True)
class Example:
    path: str
    method: str
    request_path: str
    query: str
    request_id: str


@dataclass(frozen=True, slots=True)
class FieldLine:
    field: str
    kinds: tuple[str, ...]
    count: int  # primary/candidate comparisons that differed there (of those diffed)
    rate: float  # of compared; estimated when `estimated`
    noise_rate: float
    example: Example | None
    real: bool  # passes the noise thresholds; False: differs, but too rarely to count yet
    # some mismatches of the route were not diffed: `rate` scales `count` up to estimate them
    estimated: bool = False


@dataclass(frozen=True, slots=True)
class Latency:
    n: int
    p50: float | None  # seconds, upper bound of the slot; inf above the last bound
    p99: float | None


@dataclass(frozen=True, slots=True)
class TrendPoint:
    bucket: int
    compared: int
    matched: int
    ignored: int
    mismatched: int
    errored: int


@dataclass(frozen=True, slots=True)
class RouteReport:
    route: str
    requests: int
    compared: int
    matched: int
    ignored: int
    mismatched: int
    undiffed: int  # mismatched, but not diffed (over the tree-diff budget): no field counts
    errored: int
    skipped: int
    shed: int
    unsampled: int
    aa_compared: int
    parity: float | None  # (matched + ignored) / compared
    fields: tuple[FieldLine, ...]  # differing fields that are not noise, most frequent first
    noise: tuple[FieldLine, ...]  # fields learned as noise
    error: str | None  # the latest stored error, when any comparison errored
    primary: Latency
    candidate: Latency
    trend: tuple[TrendPoint, ...]
    epoch: float | None = None  # evidence counted from here: the route's latest reset

    @property
    def diffed(self) -> int:
        """Mismatches whose fields were looked for: what field counts are counted over."""
        return self.mismatched - self.undiffed


@dataclass(frozen=True, slots=True)
class Report:
    since: float | None
    routes: tuple[RouteReport, ...]
    dropped: int  # results the store never received


def build_report(
    rows: Rows,
    *,
    since: float | None = None,
    route: str | None = None,
    bucket_seconds: int = 60,
    thresholds: Thresholds | None = None,  # None: the defaults of shadow.noise
    top: int = 10,
    epochs: Mapping[str, float] | None = None,  # None: the resets the rows carry
) -> Report:
    starts = epoch_starts(rows.epochs) if epochs is None else dict(epochs)
    rows = in_epoch(rows, starts)

    def keep(r: str, bucket: int, any_route: bool = False) -> bool:
        wanted = any_route or route is None or r == route
        return wanted and (since is None or bucket + bucket_seconds > since)

    counts = [c for c in rows.counts if keep(c.route, c.bucket)]
    fields = [f for f in rows.fields if keep(f.route, f.bucket)]
    latency = [x for x in rows.latency if keep(x.route, x.bucket)]
    samples = sorted(
        (s for s in rows.samples if keep(s.route, int(s.at) - bucket_seconds + 1)),
        key=lambda s: -s.at,
    )  # newest first: the example shown is the latest
    rates = rates_from_rows(counts, fields)
    thresholds = thresholds or Thresholds()
    kinds: defaultdict[tuple[str, str], set[str]] = defaultdict(set)
    for f in fields:
        if f.source is Source.PC:
            kinds[f.route, f.field].add(f.kind)
    slots: Counter[tuple[str, str, int]] = Counter()
    for x in latency:
        slots[x.route, x.side, x.slot] += x.n
    by_route: defaultdict[str, list[CountRow]] = defaultdict(list)
    for c in counts:
        by_route[c.route].append(c)
    reports = []
    for name in sorted(r for r in by_route if r):
        route_fields = rates.get(name, {})
        lines = _field_lines(route_fields, kinds, samples, name, thresholds)
        noise = [ln for ln in lines if is_noise(route_fields[ln.field], thresholds)]
        shown = [ln for ln in lines if ln not in noise][:top]
        error = next((s.error for s in samples if s.route == name and s.error), None)
        report = _route(name, by_route[name], shown, noise, error, slots)
        reports.append(dataclasses.replace(report, epoch=starts.get(name)))
    # drops belong to the store, not to a route: a route filter keeps them
    dropped = sum(c.counts["dropped"] for c in rows.counts if keep(c.route or "", c.bucket, True))
    return Report(since, tuple(reports), dropped)


def _field_lines(
    rates: Mapping[str, FieldRates],
    kinds: Mapping[tuple[str, str], set[str]],
    samples: Iterable[SampleRow],
    route: str,
    thresholds: Thresholds,
) -> list[FieldLine]:
    examples: dict[str, Example] = {}
    for s in samples:
        if s.route == route and s.source is Source.PC:
            example = Example(s.path, s.method, s.request_path, s.query, s.request_id)
            examples.setdefault(s.field, example)
    lines = [
        FieldLine(
            n,
            tuple(sorted(kinds.get((route, n), ()))),
            r.pc_differed,
            r.candidate_rate,
            r.noise_rate,
            examples.get(n),
            is_real(r, thresholds),
            r.scale != 1.0,
        )
        for n, r in rates.items()
    ]
    return sorted(lines, key=lambda ln: (-ln.count, ln.field))


def _route(
    name: str, rows: list[CountRow], fields: list[FieldLine], noise: list[FieldLine],
    error: str | None, slots: Counter[tuple[str, str, int]],
) -> RouteReport:  # fmt: skip
    total: Counter[str] = Counter()
    for r in rows:
        total.update(r.counts)
    compared = total["matched"] + total["ignored"] + total["mismatched"] + total["errored"]
    requests = compared + total["skipped"] + total["shed"] + total["unsampled"]
    parity = (total["matched"] + total["ignored"]) / compared if compared else None
    trend = tuple(
        TrendPoint(
            r.bucket,
            sum(r.counts[k] for k in ("matched", "ignored", "mismatched", "errored")),
            r.counts["matched"],
            r.counts["ignored"],
            r.counts["mismatched"],
            r.counts["errored"],
        )
        for r in sorted(rows, key=lambda r: r.bucket)
    )
    return RouteReport(
        route=name, requests=requests, compared=compared, matched=total["matched"],
        ignored=total["ignored"], mismatched=total["mismatched"], undiffed=total["undiffed"],
        errored=total["errored"], skipped=total["skipped"], shed=total["shed"],
        unsampled=total["unsampled"], aa_compared=total["aa_compared"], parity=parity,
        fields=tuple(fields), noise=tuple(noise), error=error,
        primary=_latency(name, "primary", slots), candidate=_latency(name, "candidate", slots),
        trend=trend,
    )  # fmt: skip


def _latency(route: str, side: str, slots: Counter[tuple[str, str, int]]) -> Latency:
    counts = [slots[route, side, i] for i in range(len(LATENCY_BOUNDS) + 1)]
    n = sum(counts)
    return Latency(n, percentile(counts, 0.50), percentile(counts, 0.99))


def to_json(report: Report) -> dict[str, Any]:
    """Plain JSON types only; infinity (over the last latency bound) becomes the string "inf"."""
    return _json_safe(asdict(report))  # type: ignore[no-any-return]


def _json_safe(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _json_safe(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_json_safe(v) for v in value]
    if isinstance(value, float) and value == float("inf"):
        return "inf"
    return value


def fmt_percent(value: float | None) -> str:
    return "-" if value is None else f"{value:.1%}"


def fmt_seconds(value: float | None) -> str:
    if value is None:
        return "-"
    if value == float("inf"):
        return f">{LATENCY_BOUNDS[-1]:g}s"
    return f"≤{value * 1000:g}ms" if value < 1 else f"≤{value:g}s"


def fmt_time(at: float) -> str:
    return datetime.fromtimestamp(at, UTC).strftime("%Y-%m-%d %H:%M UTC")


def fmt_mismatched(r: RouteReport) -> str:
    """`40`, or `40 (38 diffed)` when the tree-diff budget left some without their fields."""
    return f"{r.mismatched} ({r.diffed} diffed)" if r.undiffed else str(r.mismatched)


def fmt_rate(line: FieldLine) -> str:
    """A field's share of compared; `≈` marks an estimate (some mismatches were not diffed)."""
    return ("≈" if line.estimated else "") + fmt_percent(line.rate)


def diffed_note(r: RouteReport) -> str | None:
    """Why a field's count may be below the mismatched count, in words; None when it is not."""
    if not r.undiffed:
        return None
    return (
        f"{r.diffed} of {r.mismatched} mismatches diffed: the tree-diff budget left "
        f"{r.undiffed} without their fields, so field counts are of the diffed comparisons "
        "and rates marked ≈ estimate all of them."
    )


def epoch_note(r: RouteReport) -> str | None:
    return None if r.epoch is None else f"Evidence counted since its reset at {fmt_time(r.epoch)}."


LEGEND = (
    "requests = matched + ignored + mismatched + errored + skipped + shed + unsampled; "
    "compared = matched + ignored + mismatched + errored; parity = (matched + ignored) / compared"
)


def _summary_cells(r: RouteReport) -> list[str]:
    return [
        r.route, str(r.requests), str(r.matched), str(r.ignored), fmt_mismatched(r),
        str(r.errored), str(r.skipped), str(r.shed), str(r.unsampled), str(r.compared),
        fmt_percent(r.parity),
        f"{fmt_seconds(r.primary.p50)} / {fmt_seconds(r.primary.p99)}",
        f"{fmt_seconds(r.candidate.p50)} / {fmt_seconds(r.candidate.p99)}",
    ]  # fmt: skip


_HEADINGS = [
    "route", "requests", "matched", "ignored", "mismatched", "errored", "skipped", "shed",
    "unsampled", "compared", "parity", "primary p50/p99", "candidate p50/p99",
]  # fmt: skip


_DETAIL = ["field", "kinds", "count", "rate", "example"]


def _detail_rows(r: RouteReport) -> list[list[str]]:
    def cells(line: FieldLine, note: str) -> list[str]:
        example = line.example.path if line.example else ""
        if line.example and line.example.request_id:
            example += f" (request {line.example.request_id})"
        return [line.field, ",".join(line.kinds), str(line.count), fmt_rate(line), note or example]

    rows = [cells(ln, "" if ln.real else "below thresholds") for ln in r.fields]
    rows += [cells(ln, f"noise (A/A {fmt_percent(ln.noise_rate)})") for ln in r.noise]
    if r.error:
        rows.append(["(errored)", "", str(r.errored), "", r.error])
    return rows


def _notes(r: RouteReport) -> list[str]:
    return [n for n in (epoch_note(r), diffed_note(r)) if n]


def render_table(report: Report, title: str = "Shadow parity") -> RenderableType:
    """For the terminal; cells are plain text, so `[*]` in a path is never read as markup."""
    parts: list[RenderableType] = [_table(title, _HEADINGS, map(_summary_cells, report.routes))]
    if report.routes:
        parts.append(Text(LEGEND, "dim"))
    for r in report.routes:
        rows = _detail_rows(r)
        notes = _notes(r)
        if rows or notes:
            parts.append(Text(""))
        parts.extend(Text(note) for note in notes)
        if rows:
            parts.append(_table(f"{r.route}: differing fields", _DETAIL, rows))
    if report.dropped:
        parts.append(Text(f"{report.dropped} results dropped before reaching the store", "yellow"))
    return Group(*parts)


def _table(title: str, headings: list[str], rows: Iterable[list[str]]) -> Table:
    table = Table(title=title, title_justify="left")
    for heading in headings:
        table.add_column(heading, justify="left" if heading in ("route", "field") else "right")
    for row in rows:
        table.add_row(*(Text(cell) for cell in row))
    return table


def render_markdown(report: Report, title: str = "Shadow parity") -> str:
    out = [f"# {title}", "", *_md_table(_HEADINGS, map(_summary_cells, report.routes))]
    if report.routes:
        out += ["", LEGEND + "."]
    for r in report.routes:
        rows = _detail_rows(r)
        notes = _notes(r)
        if rows or notes:
            out += ["", f"## {r.route}"]
        for note in notes:
            out += ["", note]
        if rows:
            out += ["", *_md_table(_DETAIL, rows)]
    if report.dropped:
        out += ["", f"{report.dropped} results dropped before reaching the store."]
    return "\n".join(out) + "\n"


def _md_table(headings: list[str], rows: Iterable[list[str]]) -> list[str]:
    def line(cells: list[str]) -> str:
        return "| " + " | ".join(c.replace("|", "\\|") or " " for c in cells) + " |"

    return [line(headings), "|" + "---|" * len(headings), *map(line, rows)]
