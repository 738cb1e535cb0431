"""Pieces of the dashboard's HTML: the parity sparkline, the tree of differing fields, a sample
pair side by side with what differs marked. Pure: values in, escaped HTML text out.

Everything that came from traffic or from the table (field names, sample bodies, route ids)
goes through `esc`: a stored sample is whatever a client or an upstream sent.
"""

from __future__ import annotations

import html
import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from shadow.fieldpath import StepKind, parse
from shadow.report import FieldLine, TrendPoint, fmt_percent, fmt_rate


def esc(value: object) -> str:
    return html.escape(str(value), quote=True)


# ---------------------------------------------------------------- the parity trend


@dataclass(frozen=True, slots=True)
class Marker:
    at: float  # epoch seconds
    label: str  # e.g. "shadow → native (file)"


SCALE_WIDTH = 30  # the left gutter that holds the 100 % and 0 % labels


def sparkline(
    points: Sequence[TrendPoint],
    start: float,
    end: float,
    *,
    width: int = 190,
    height: int = 36,
    markers: Sequence[Marker] = (),
) -> str:
    """Parity per time bucket as an inline SVG line on a labelled 0 to 100 % scale; flips as
    upright lines. Both ends of the scale are drawn, with room above and below, so that a route
    at 0 % reads as a line on the 0 % rule, not as the chart's edge or as no data."""
    span = max(end - start, 1.0)
    left, top, bottom = SCALE_WIDTH, 5.0, height - 5.0

    def x(at: float) -> float:
        return round(left + (min(max(at, start), end) - start) / span * (width - left - 2) + 1, 1)

    def y(parity: float) -> float:
        return round(top + (1.0 - parity) * (bottom - top), 1)

    shown = [p for p in points if p.compared and start <= p.bucket <= end]
    parities = [(p.matched + p.ignored) / p.compared for p in shown]
    coords = [(x(p.bucket), y(parity)) for p, parity in zip(shown, parities, strict=True)]
    dots = coords if len(coords) <= (width - left) // 8 else []  # sparse: each point shows
    if len(coords) == 1:  # one bucket: a short level line, so it can be seen at all (at the
        # right edge too, where the newest bucket of a route shadowed a minute ago sits)
        cx, cy = coords[0]
        low = max(left + 1.0, min(cx - 4, width - 9.0))
        coords = [(low, cy), (low + 8, cy)]
    label = (
        "no comparisons"
        if not shown
        else f"parity over {len(shown)} buckets, latest {fmt_percent(parities[-1])}"
    )
    parts = [
        f'<svg class="spark" role="img" aria-label="{esc(label)}" width="{width}" '
        f'height="{height}" viewBox="0 0 {width} {height}" xmlns="http://www.w3.org/2000/svg">',
        f"<title>{esc(label)}</title>",
    ]
    for parity, text in ((1.0, "100%"), (0.0, "0%")):
        parts.append(
            f'<line class="axis" x1="{left}" y1="{y(parity)}" x2="{width - 1}" '
            f'y2="{y(parity)}"/><text class="scale" x="{left - 3}" y="{y(parity) + 3}" '
            f'text-anchor="end">{text}</text>'
        )
    for marker in markers:
        if start <= marker.at <= end:
            parts.append(
                f'<line class="flip" x1="{x(marker.at)}" y1="0" x2="{x(marker.at)}" '
                f'y2="{height}"><title>{esc(marker.label)}</title></line>'
            )
    if coords:
        text = " ".join(f"{cx},{cy}" for cx, cy in coords)
        parts.append(f'<polyline class="parity" points="{text}"/>')
    parts.extend(f'<circle class="point" cx="{cx}" cy="{cy}" r="2"/>' for cx, cy in dots)
    parts.append("</svg>")
    return "".join(parts)


# ---------------------------------------------------------------- the tree of differing fields


@dataclass
class _Node:
    label: str
    children: dict[str, _Node] = field(default_factory=dict)
    line: FieldLine | None = None
    noise: bool = False


def segments(field_path: str) -> list[str]:
    """`body.data[*].email` → `["body", "data[*]", "email"]`; a path it cannot read stays whole."""
    try:
        steps = parse(field_path).steps
    except ValueError:
        return [field_path]
    out: list[str] = []
    for step in steps:
        if step.kind is StepKind.ANY_ITEM and out:
            out[-1] += "[*]"
        elif step.kind is StepKind.INDEX and out:
            out[-1] += f"[{step.index}]"
        else:
            out.append("*" if step.kind is StepKind.ANY_KEY else step.key)
    return out


def field_tree(
    lines: Iterable[FieldLine], noise: Iterable[FieldLine], anchors: dict[str, str]
) -> str:
    """Nested lists, one leaf per differing field with its count; noise fields marked."""
    root = _Node("")
    for line, is_noise in [*((ln, False) for ln in lines), *((ln, True) for ln in noise)]:
        node = root
        for part in segments(line.field):
            node = node.children.setdefault(part, _Node(part))
        node.line, node.noise = line, is_noise
    if not root.children:
        return '<p class="quiet">No differing fields in this period.</p>'
    return (
        '<ul class="tree">' + "".join(_node(n, anchors) for n in root.children.values()) + "</ul>"
    )


def _node(node: _Node, anchors: dict[str, str]) -> str:
    out = [f'<li><span class="seg">{esc(node.label)}</span>']
    if node.line is not None:
        out.append(_leaf(node.line, node.noise, anchors.get(node.line.field)))
    if node.children:
        out.append("<ul>" + "".join(_node(c, anchors) for c in node.children.values()) + "</ul>")
    return "".join(out) + "</li>"


def _leaf(line: FieldLine, is_noise: bool, anchor: str | None) -> str:
    kinds = ", ".join(line.kinds)
    tags = []
    if is_noise:
        tags.append(f'<span class="tag noise">noise (A/A {fmt_percent(line.noise_rate)})</span>')
    elif not line.real:
        tags.append('<span class="tag low">below thresholds</span>')
    if anchor is not None:
        tags.append(f'<a href="{esc(anchor)}">sample</a>')
    return (
        f' <span class="field" data-field="{esc(line.field)}"><b class="count">{line.count}</b>'
        f" {esc(kinds)} · {fmt_rate(line)} of compared {' '.join(tags)}</span>"
    )


# ---------------------------------------------------------------- a sample pair


def load_side(text: str) -> tuple[bool, Any]:
    """A stored side: (True, parsed JSON), or (False, the text) when it is not JSON."""
    try:
        return True, json.loads(text)
    except ValueError:
        return False, text


def render_pair(primary: str, candidate: str) -> tuple[str, str]:
    """Both stored sides as indented JSON, each part that differs from the other in <mark>."""
    ok_p, left = load_side(primary)
    ok_c, right = load_side(candidate)
    if not (ok_p and ok_c):
        same = primary == candidate
        return _raw(primary, same), _raw(candidate, same)
    return _walk(left, right, 0), _walk(right, left, 0)


def _raw(text: str, same: bool) -> str:
    return esc(text) if same else f"<mark>{esc(text)}</mark>"


_ABSENT = object()


def _walk(value: Any, other: Any, depth: int) -> str:
    """`value` written out; `other` is the same place on the other side (_ABSENT: not there)."""
    if other is _ABSENT:
        return f'<mark class="only">{esc(_dump(value, depth))}</mark>'
    pad, inner = "  " * depth, "  " * (depth + 1)
    if isinstance(value, dict) and isinstance(other, dict):
        if not value:
            return "{}" if not other else "<mark>{}</mark>"
        items = [
            f"{inner}{esc(json.dumps(k, ensure_ascii=False))}: "
            f"{_walk(v, other.get(k, _ABSENT), depth + 1)}"
            for k, v in value.items()
        ]
        return "{\n" + ",\n".join(items) + f"\n{pad}}}"
    if isinstance(value, list) and isinstance(other, list):
        if not value:
            return "[]" if not other else "<mark>[]</mark>"
        items = [
            inner + _walk(v, other[i] if i < len(other) else _ABSENT, depth + 1)
            for i, v in enumerate(value)
        ]
        return "[\n" + ",\n".join(items) + f"\n{pad}]"
    text = esc(_dump(value, depth))
    return text if _same(value, other) else f"<mark>{text}</mark>"


def _same(a: Any, b: Any) -> bool:
    # 1 and 1.0 and True are == in Python; JSON tells them apart, and so must the highlighting
    return type(a) is type(b) and a == b


def _dump(value: Any, depth: int) -> str:
    text = json.dumps(value, ensure_ascii=False, indent=2)
    return text.replace("\n", "\n" + "  " * depth)
