"""Noise learned, not guessed (after Diffy): call the primary twice, and what differs is noise.

For each route we count primary/candidate comparisons (`pc_compared`) and A/A comparisons
(`aa_compared`); for each field (a generalised path, `body.data[*].updated_at`) the comparisons
where it differed, `pc_differed` and `aa_differed`. Then, per field:

    p = pc_differed / pc_compared      the candidate's difference rate
    q = aa_differed / aa_compared      the noise rate (0 while there are no A/A comparisons)

and the field is a *real* difference only when all three hold:

    p > q                              the candidate differs more often than the primary does
    p - q >= absolute                  by at least `absolute` of all comparisons (default 0.0003,
                                       i.e. 0.03 percentage points: 3 in 10,000 requests)
    p - q >= relative * p              and noise explains at most (1 - relative) of the
                                       candidate's differences there (default relative 0.20)

Example: an `updated_at` that differs in 40 % of A/A pairs and 42 % of candidate pairs is noise
((0.42 - 0.40) / 0.42 = 4.8 % < 20 %); a field with no A/A difference that differs once in 1,000
candidate pairs is real (0.1 % ≥ 0.03 %, and 100 % ≥ 20 %). A field counts once per comparison
however many ways it differs (see `records.fold`). No field is noise before its route has
`min_aa` A/A comparisons (default 20).

Rates alone would excuse too much, so two more rules keep noise from hiding real differences:

- A/A excuses only the kinds of difference it showed. A session cookie whose value varies
  between two legacy answers does not excuse a candidate that sends no cookie at all: when the
  candidate differs at a field in a kind (missing, extra, type...) that A/A never showed there,
  the field is not noise.
- The whole body (`body`) is never noise: when two answers of the same side differ as a whole
  (an HTML page with a CSRF token: text bodies are compared whole), ignoring it would hide every
  difference. Such a route needs a comparison that looks inside the body; `strangler noise`
  says so instead of proposing to ignore it.

Once a field is noise, a comparison that differs only there, in a kind A/A showed, is settled as
ignored without a tree diff (see shadow.compare), so the candidate's count there stops growing:
like an `ignore:` rule, noise hides later changes of those kinds at that field, and only those.
A/A comparisons are always diffed, so q stays exact.
"""

from __future__ import annotations

import json
import re
from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from shadow.compare import Comparison, Outcome
from shadow.records import CountRow, FieldRow, Rows, SampleRow, Source

_MAX_FIELDS = 2000  # per route, in memory: a runaway of generated keys must not grow forever
WHOLE_BODY = "body"
NoiseRules = tuple[frozenset[str], frozenset[tuple[str, str]]]  # fields; (field, kind) pairs


@dataclass(frozen=True, slots=True)
class Thresholds:
    relative: float = 0.20
    absolute: float = 0.0003
    min_aa: int = 20  # A/A comparisons on a route before any field of it is called noise


DEFAULT_THRESHOLDS = Thresholds()


@dataclass(frozen=True, slots=True)
class FieldRates:
    field: str
    pc_compared: int
    pc_differed: int
    aa_compared: int
    aa_differed: int
    # mismatches over the tree-diff budget were not looked into; the field counts come from the
    # rest, and scale by (mismatched / mismatched and diffed) estimates them all
    scale: float = 1.0
    pc_kinds: frozenset[str] = frozenset()  # kinds of difference seen there, candidate pairs
    aa_kinds: frozenset[str] = frozenset()  # ... and A/A pairs

    @property
    def unexcused_kinds(self) -> frozenset[str]:
        """Kinds the candidate showed there that A/A never did: no noise rate excuses them."""
        return self.pc_kinds - self.aa_kinds

    @property
    def candidate_rate(self) -> float:
        if not self.pc_compared:
            return 0.0
        return min(1.0, self.pc_differed * self.scale / self.pc_compared)

    @property
    def noise_rate(self) -> float:
        return min(1.0, self.aa_differed / self.aa_compared) if self.aa_compared else 0.0


def is_real(rates: FieldRates, thresholds: Thresholds = DEFAULT_THRESHOLDS) -> bool:
    p, q = rates.candidate_rate, rates.noise_rate
    excess = p - q
    return p > q and excess >= thresholds.absolute and excess >= thresholds.relative * p


def noisy_by_rates(rates: FieldRates, thresholds: Thresholds = DEFAULT_THRESHOLDS) -> bool:
    """Seen differing between two primary answers, often enough to be sure, and not real.

    Without `min_aa` A/A comparisons, one unlucky A/A pair (a write landing between the two
    calls) would make a field noise at a rate of 100 %.
    """
    enough = rates.aa_compared >= thresholds.min_aa
    return enough and rates.aa_differed > 0 and not is_real(rates, thresholds)


def is_noise(rates: FieldRates, thresholds: Thresholds = DEFAULT_THRESHOLDS) -> bool:
    """Noisy by its rates, not the whole body, and differing only in kinds A/A showed."""
    return (
        rates.field != WHOLE_BODY
        and not rates.unexcused_kinds
        and noisy_by_rates(rates, thresholds)
    )


class NoiseLedger:
    """In-memory counts for one gateway process, so comparisons can set noise apart as they run.

    Touched only from the event loop thread (the experiment records after each comparison).
    `noise_fields` is asked on every request, so its answer is cached per route and refreshed
    once the route's comparisons have grown by a tenth since it was computed (always while
    there are fewer than 100): a rate moves little between refreshes, and a route with many
    differing fields would otherwise cost a scan of all of them per request.
    """

    def __init__(self) -> None:
        self._compared: Counter[tuple[str, Source]] = Counter()
        self._differed: defaultdict[str, Counter[tuple[str, Source]]] = defaultdict(Counter)
        self._cache: dict[tuple[str, Thresholds], tuple[int, NoiseRules]] = {}
        self._mismatched: Counter[str] = Counter()
        self._undiffed: Counter[str] = Counter()
        self._kinds: defaultdict[str, dict[tuple[str, Source], set[str]]] = defaultdict(dict)

    def record(self, route: str, source: Source, comparison: Comparison) -> None:
        if comparison.outcome in (Outcome.ERRORED, Outcome.SKIPPED, Outcome.SHED):
            return
        self._compared[route, source] += 1
        if source is Source.PC and comparison.outcome is Outcome.MISMATCHED:
            self._mismatched[route] += 1
            self._undiffed[route] += not comparison.diffed
        fields = self._differed[route]
        kinds = self._kinds[route]
        found: dict[str, set[str]] = defaultdict(set)
        for d in (*comparison.differences, *comparison.noise):
            found[d.field].add(d.kind.value)
        for name, seen in found.items():
            if (name, source) in fields or len(fields) < _MAX_FIELDS:
                fields[name, source] += 1
                kinds.setdefault((name, source), set()).update(seen)

    def rates(self, route: str) -> dict[str, FieldRates]:
        fields = self._differed.get(route, Counter())
        pc, aa = self._compared[route, Source.PC], self._compared[route, Source.AA]
        names = {name for name, _ in fields}
        scale = _scale(self._mismatched[route], self._undiffed[route])
        kinds = self._kinds.get(route, {})

        def seen(name: str, source: Source) -> frozenset[str]:
            return frozenset(kinds.get((name, source), ()))

        return {
            n: FieldRates(
                n,
                pc,
                fields[n, Source.PC],
                aa,
                fields[n, Source.AA],
                scale,
                seen(n, Source.PC),
                seen(n, Source.AA),
            )
            for n in names
        }

    def noise_fields(
        self, route: str, thresholds: Thresholds = DEFAULT_THRESHOLDS
    ) -> frozenset[str]:
        return self.noise_rules(route, thresholds)[0]

    def noise_rules(self, route: str, thresholds: Thresholds = DEFAULT_THRESHOLDS) -> NoiseRules:
        """The route's noise fields, and the (field, kind) pairs A/A showed at them: what a
        comparison may excuse (`compare.Rules.noise` and `noise_kinds`)."""
        total = self._compared[route, Source.PC] + self._compared[route, Source.AA]
        seen, cached = self._cache.get((route, thresholds), (-1, (frozenset(), frozenset())))
        if seen >= 0 and total >= 100 and total - seen < total // 10:
            return cached
        noisy = [r for r in self.rates(route).values() if is_noise(r, thresholds)]
        fresh = (
            frozenset(r.field for r in noisy),
            frozenset((r.field, kind) for r in noisy for kind in r.aa_kinds),
        )
        self._cache[route, thresholds] = (total, fresh)
        return fresh


def _scale(mismatched: int, undiffed: int) -> float:
    diffed = mismatched - undiffed
    return mismatched / diffed if diffed > 0 and undiffed > 0 else 1.0


def rates_from_rows(
    counts: Iterable[CountRow], fields: Iterable[FieldRow]
) -> dict[str, dict[str, FieldRates]]:
    """Per route and field, the rates over every stored bucket given (a pure fold)."""
    compared: Counter[tuple[str, Source]] = Counter()
    mismatched: Counter[str] = Counter()
    undiffed: Counter[str] = Counter()
    for row in counts:
        c = row.counts
        compared[row.route, Source.PC] += c["matched"] + c["mismatched"] + c["ignored"]
        compared[row.route, Source.AA] += c["aa_compared"] - c["aa_errored"]
        mismatched[row.route] += c["mismatched"]
        undiffed[row.route] += c["undiffed"]
    differed: Counter[tuple[str, str, Source]] = Counter()
    kinds: defaultdict[tuple[str, str, Source], set[str]] = defaultdict(set)
    for f in fields:
        differed[f.route, f.field, f.source] += f.n
        if f.n > 0:
            kinds[f.route, f.field, f.source].add(f.kind)
    out: dict[str, dict[str, FieldRates]] = defaultdict(dict)
    for route, name, _ in differed:
        out[route][name] = FieldRates(
            name,
            compared[route, Source.PC],
            differed[route, name, Source.PC],
            compared[route, Source.AA],
            differed[route, name, Source.AA],
            _scale(mismatched[route], undiffed[route]),
            frozenset(kinds[route, name, Source.PC]),
            frozenset(kinds[route, name, Source.AA]),
        )
    return dict(out)


@dataclass(frozen=True, slots=True)
class IgnoreProposal:
    route: str
    field: str  # a pattern, lists generalised to [*]
    rates: FieldRates
    example: str | None = None  # a concrete place where it differed


@dataclass(frozen=True, slots=True)
class Withheld:
    """A field A/A shows to vary that is not proposed all the same, and why."""

    route: str
    field: str
    rates: FieldRates
    reason: str


def propose_from_rows(
    rows: Rows, thresholds: Thresholds = DEFAULT_THRESHOLDS
) -> tuple[IgnoreProposal, ...]:
    """What `strangler noise` proposes: from everything the store holds."""
    return propose_ignores(rates_from_rows(rows.counts, rows.fields), thresholds, rows.samples)


def withheld_from_rows(
    rows: Rows, thresholds: Thresholds = DEFAULT_THRESHOLDS
) -> tuple[Withheld, ...]:
    """What `strangler noise` does not propose though A/A shows it to vary, with the reason."""
    return withhold(rates_from_rows(rows.counts, rows.fields), thresholds, rows.samples)


def propose_ignores(
    rates: Mapping[str, Mapping[str, FieldRates]],
    thresholds: Thresholds = DEFAULT_THRESHOLDS,
    samples: Iterable[SampleRow] = (),
) -> tuple[IgnoreProposal, ...]:
    """`ignore:` entries for the fields that A/A evidence shows to be noise.

    Routes with fewer than `thresholds.min_aa` A/A comparisons propose nothing.
    """
    examples = {(s.route, s.field): s.path for s in samples if s.path}
    found = []
    for route in sorted(rates):
        for name in sorted(rates[route]):
            r = rates[route][name]
            if is_noise(r, thresholds):
                found.append(IgnoreProposal(route, name, r, examples.get((route, name))))
    return tuple(found)


def withhold(
    rates: Mapping[str, Mapping[str, FieldRates]],
    thresholds: Thresholds = DEFAULT_THRESHOLDS,
    samples: Iterable[SampleRow] = (),
) -> tuple[Withheld, ...]:
    """The fields noisy by their rates that `is_noise` refuses: the whole body, or a field where
    the candidate differs in kinds A/A never showed."""
    html = {s.route for s in samples if _is_html(s.primary)}
    found = []
    for route in sorted(rates):
        for name in sorted(rates[route]):
            r = rates[route][name]
            if noisy_by_rates(r, thresholds) and not is_noise(r, thresholds):
                found.append(Withheld(route, name, r, _why_withheld(r, route in html)))
    return tuple(found)


def _why_withheld(r: FieldRates, html: bool) -> str:
    if r.field == WHOLE_BODY and html:
        return (
            "every part of the HTML body is compared as one text, and two answers of the "
            "primary differ in it (a CSRF token, a nonce, a time): ignoring it would hide "
            "every difference; this route needs an HTML-aware comparison instead"
        )
    if r.field == WHOLE_BODY:
        return (
            "two answers of the primary differ in the body as a whole: ignoring it would hide "
            "every difference; compare the body field by field and ignore only what varies"
        )
    return (
        f"A/A showed {_kinds(r.aa_kinds)} differences there, the candidate also "
        f"{_kinds(r.unexcused_kinds)} ones: a value that varies does not excuse those"
    )


def _kinds(kinds: Iterable[str]) -> str:
    return " and ".join(sorted(kinds)) or "no"


def _is_html(side: str) -> bool:
    """Whether a stored primary side is an HTML page (by its content type, else its start)."""
    try:
        tree = json.loads(side)
    except ValueError:
        return False
    if not isinstance(tree, dict):
        return False
    headers = tree.get("headers")
    media = headers.get("content-type", "") if isinstance(headers, dict) else ""
    body = tree.get("body")
    start = body.lstrip()[:15].lower() if isinstance(body, str) else ""
    return "html" in str(media).lower() or start.startswith(("<!doctype html", "<html"))


_PLAIN_YAML = re.compile(r"[A-Za-z][\w.\[\]*-]*")


def render_ignore_yaml(
    proposals: Sequence[IgnoreProposal],
    existing: Mapping[str, Sequence[str]] | None = None,
    withheld: Sequence[Withheld] = (),
) -> str:
    """YAML to paste under `routes:` in routing.yaml, each entry with its evidence; what was
    withheld comes first, as comments.

    A route's `shadow.ignore` replaces the global list, so the route's current entries
    (`existing`) are repeated first.
    """
    notes = []
    if withheld:
        notes.append("# Not proposed: ignoring these would hide real differences.")
        for w in withheld:
            notes.append(f"#   {w.route}: {w.field}: {w.reason} ({evidence(w)})")
    by_route: dict[str, list[IgnoreProposal]] = defaultdict(list)
    for p in proposals:
        by_route[p.route].append(p)
    if not by_route:
        return "\n".join(["# no noise found: nothing to ignore", *notes]) + "\n"
    lines = [
        "# Learned from A/A comparisons (the primary against itself). Evidence per entry:",
        "# A/A pairs that differed there, and candidate pairs that did.",
        *notes,
        "routes:",
    ]
    for route, items in by_route.items():
        lines += [f"  - id: {_scalar(route)}", "    shadow:", "      ignore:"]
        for kept in (existing or {}).get(route, ()):
            lines.append(f"        - {_scalar(kept)}")
        for p in items:
            lines.append(f"        - {_scalar(p.field)}  # {evidence(p)}")
    return "\n".join(lines) + "\n"


def evidence(p: IgnoreProposal | Withheld) -> str:
    r = p.rates
    text = (
        f"A/A {r.aa_differed}/{r.aa_compared} ({r.noise_rate:.1%}), "
        f"candidate {r.pc_differed}/{r.pc_compared} ({r.candidate_rate:.1%})"
    )
    example = p.example if isinstance(p, IgnoreProposal) else None
    return text + (f", e.g. {example}" if example else "")


def _scalar(text: str) -> str:
    return text if _PLAIN_YAML.fullmatch(text) else json.dumps(text)  # JSON strings are YAML
