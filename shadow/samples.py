"""Differing values, side by side: per differing field of a route, its newest stored sample pair,
and what each side had at the place it differed.

Pure: stored sample rows in (already redacted when they were stored), values out. The dashboard's
route page and `strangler report --samples N` choose pairs with the same function,
`newest_per_field`, so both show the same example of a field.

A stored side is the JSON text of a lifted answer (`{"status", "headers", "body"}`), or
`{"error": ...}` for a side that failed. `value_at` reads the value at a sample's concrete path
(`body.data[3].name`); `excerpt` cuts two long values to a width around their first difference,
so a one-character change deep in an HTML page is still in view.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from rich.table import Table
from rich.text import Text

from shadow.fieldpath import StepKind, parse
from shadow.records import ERRORED_FIELD, SampleRow, Source
from shadow.report import RouteReport

ABSENT = "(absent)"  # the side has no value at that place
WIDTH = 60  # characters of one side's value shown


def newest_per_field(samples: Iterable[SampleRow], fields: Sequence[str]) -> list[SampleRow]:
    """Per field, in the order of `fields`, the newest primary/candidate pair; an A/A pair only
    when the field has none."""
    newest: dict[str, SampleRow] = {}
    for s in sorted(samples, key=lambda s: (s.source is not Source.PC, -s.at)):
        newest.setdefault(s.field, s)
    return [newest[f] for f in fields if f in newest]


def shown_fields(report: RouteReport) -> list[str]:
    """The fields a route's samples are shown for, in the report's order: differing fields
    (most frequent first), then noise, then the errored comparisons (when any errored)."""
    errored = [ERRORED_FIELD] if report.errored else []
    return [*(ln.field for ln in report.fields), *(ln.field for ln in report.noise), *errored]


@dataclass(frozen=True, slots=True)
class SamplePair:
    field: str
    kind: str
    path: str  # the concrete place of this example ("" for an errored comparison)
    aa: bool  # the candidate column is the primary's second answer (noise), not the candidate
    at: float
    request: str  # method, path and query
    request_id: str
    primary: str  # the value at `path`, as compact JSON, or ABSENT
    candidate: str
    error: str | None


def chosen_samples(
    report: RouteReport, samples: Iterable[SampleRow], limit: int | None = None
) -> list[SampleRow]:
    """The stored pair shown for each of the route's fields (the first `limit` fields, in report
    order): the newest, and nothing from before the route's reset. The dashboard's route page
    shows these rows whole; the command line shows `pick_samples`."""
    start = report.epoch if report.epoch is not None else float("-inf")
    rows = [s for s in samples if s.route == report.route and s.at >= start]
    return newest_per_field(rows, shown_fields(report))[:limit]


def pick_samples(
    report: RouteReport, samples: Iterable[SampleRow], limit: int | None = None
) -> tuple[SamplePair, ...]:
    """`chosen_samples`, each with both sides' values at the place it differed."""
    return tuple(pair_of(s) for s in chosen_samples(report, samples, limit))


def samples_json(pairs: Iterable[SamplePair]) -> list[dict[str, Any]]:
    """Plain JSON types, one object a pair (values as shown, uncut)."""
    return [dataclasses.asdict(p) for p in pairs]


def pair_of(s: SampleRow) -> SamplePair:
    query = f"?{s.query}" if s.query else ""
    return SamplePair(
        s.field, s.kind, s.path, s.source is Source.AA, s.at,
        f"{s.method} {s.request_path}{query}", s.request_id,
        value_at(s.primary, s.path), value_at(s.candidate, s.path), s.error,
    )  # fmt: skip


def value_at(side: str, path: str) -> str:
    """The value a stored side has at a concrete path, as compact JSON; ABSENT when it has none.

    A failed side reads as its error; an errored comparison (no path) as the side's status.
    A side that is not JSON (cut when stored) is shown as it is.
    """
    try:
        tree = json.loads(side)
    except ValueError:
        return side
    if isinstance(tree, dict) and set(tree) == {"error"}:
        return f"error: {tree['error']}"
    if not path:
        status = tree.get("status") if isinstance(tree, dict) else None
        return f"status {status}" if status is not None else _dump(tree)
    try:
        steps = parse(path).steps
    except ValueError:
        return _dump(tree)
    node: Any = tree
    for step in steps:
        if step.kind is StepKind.KEY and isinstance(node, dict) and step.key in node:
            node = node[step.key]
        elif step.kind is StepKind.INDEX and isinstance(node, list) and step.index < len(node):
            node = node[step.index]
        else:
            return ABSENT
    return _dump(node)


def _dump(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


def excerpt(a: str, b: str, width: int = WIDTH) -> tuple[str, str]:
    """Both values cut to `width` characters at the same offset, so that their first difference
    is in view with some context before it; `…` marks what was cut."""
    if len(a) <= width and len(b) <= width:
        return a, b
    same = 0
    for x, y in zip(a, b, strict=False):
        if x != y:
            break
        same += 1
    start = max(0, min(same - width // 4, max(len(a), len(b)) - width))
    return _cut(a, start, width), _cut(b, start, width)


def _cut(text: str, start: int, width: int) -> str:
    if len(text) <= width and start == 0:
        return text
    head = "…" if start > 0 else ""
    body = text[start : start + width]
    tail = "…" if start + width < len(text) else ""
    return head + body + tail


_HEADINGS = ("field", "request")


def _where(p: SamplePair, primary: str) -> str:
    where = p.path or p.field  # the concrete place says which field it is
    if p.kind:
        where += f" ({p.kind})"
    if p.aa:
        where += f" [A/A: {primary} against itself]"
    return where


def _cells(p: SamplePair, primary: str, width: int) -> list[str]:
    left, right = excerpt(p.primary, p.candidate, width)
    request = f"{p.request} (request {p.request_id})" if p.request_id else p.request
    if p.error:
        request += f"; {p.error}"
    return [_where(p, primary), request, left, right]


def render_samples_table(
    pairs: Sequence[SamplePair],
    *,
    primary: str = "legacy",
    candidate: str = "native",
    width: int = WIDTH,
    title: str = "Differing values",
) -> Table:
    """For the terminal: one row a field, each side's value beside the other. Cells are plain
    text, so a stored `[b]` is never read as markup."""
    table = Table(title=title, title_justify="left", show_lines=True)
    for heading in (*_HEADINGS, primary, candidate):
        table.add_column(heading, overflow="fold")
    for p in pairs:
        table.add_row(*(Text(cell) for cell in _cells(p, primary, width)))
    return table


def render_samples_markdown(
    pairs: Sequence[SamplePair],
    *,
    primary: str = "legacy",
    candidate: str = "native",
    width: int = WIDTH,
) -> str:
    """A markdown table; values in code spans, so HTML in a sample is shown, never rendered."""
    lines = [
        "| " + " | ".join((*_HEADINGS, primary, candidate)) + " |",
        "|" + "---|" * (len(_HEADINGS) + 2),
    ]
    for p in pairs:
        where, request, left, right = _cells(p, primary, width)
        cells = [_code(where), _escape(request), _code(left), _code(right)]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


def _escape(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def _code(text: str) -> str:
    """A code span that holds any text: a fence longer than the longest run of backticks."""
    longest = run = 0
    for ch in text:
        run = run + 1 if ch == "`" else 0
        longest = max(longest, run)
    fence = "`" * (longest + 1)
    pad = " " if text.startswith("`") or text.endswith("`") else ""
    return f"{fence}{pad}{_escape(text)}{pad}{fence}"
