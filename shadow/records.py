"""What an experiment hands to the store, and the rows the store keeps.

A `Result` is one comparison (or one skipped/shed request). `fold` turns a batch of results into
increments keyed like the store's tables: one counter row per (route, time bucket), latency
histogram slots per side, difference counts per field and kind (primary/candidate and A/A apart),
and at most `SAMPLES_PER_FIELD` samples per (route, field). Pure: times come in with the results.

A `Recorded` request (a route's `record:`) travels the same way, through the same writer, and is
kept as it is: one row each, already stripped of credentials (see `shadow.recording`).
"""

from __future__ import annotations

import bisect
import enum
import hashlib
from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from shadow.compare import Difference, Outcome

SAMPLES_PER_FIELD = 5
ERRORED_FIELD = "(errored)"  # the sample slot of comparisons that errored
# upper bounds in seconds of the latency histogram slots; the last slot is everything above
LATENCY_BOUNDS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)
COUNTERS = (
    "matched",
    "mismatched",
    "ignored",
    "errored",
    "skipped",
    "shed",
    "unsampled",
    "undiffed",  # mismatched, but over the tree-diff budget: no field counts
    "aa_compared",
    "aa_differed",
    "aa_errored",
    "dropped",
    "primary_n",
    "candidate_n",
)


class Source(enum.Enum):
    PC = "pc"  # primary against candidate
    AA = "aa"  # primary against itself: noise


@dataclass(frozen=True, slots=True)
class RequestInfo:
    method: str
    path: str
    query: str = ""
    request_id: str = ""


@dataclass(frozen=True, slots=True)
class Sample:
    """Both sides as stored: JSON text of the redacted lifted trees, and the redacted request."""

    request: RequestInfo
    primary: str
    candidate: str
    error: str | None = None


@dataclass(frozen=True, slots=True)
class Result:
    route: str
    at: float  # epoch seconds
    outcome: Outcome
    source: Source = Source.PC
    primary_duration: float | None = None
    candidate_duration: float | None = None
    differences: tuple[Difference, ...] = ()  # real and noise alike: rates need both
    sample: Sample | None = None
    unsampled: int = 0  # requests on the route that sampling left out, counted in passing
    diffed: bool = True  # False: a mismatch whose fields were not looked for (diff budget)
    repeat: int = 1  # an outcome-only result (skipped, shed) may stand for many requests


@dataclass(frozen=True, slots=True)
class Recorded:
    """A request kept for replay, as stored: no credentials, `redact:` fields masked."""

    route: str
    at: float  # epoch seconds
    request_id: str
    method: str
    target: str  # path and query as the client sent them
    headers: tuple[tuple[str, str], ...]  # names lower-cased
    body: bytes
    status: int | None = None  # the answer the client got, when it ended
    side: str | None = None  # legacy | native: who gave it
    id: int | None = None  # the store's row number, once stored


@dataclass(frozen=True, slots=True)
class SampleRow:
    route: str
    field: str
    slot: int
    at: float
    source: Source
    kind: str
    path: str  # the concrete place of the example
    method: str
    request_path: str
    query: str
    request_id: str
    primary: str
    candidate: str
    error: str | None


@dataclass(slots=True)
class Batch:
    counts: Counter[tuple[str, int, str]] = field(default_factory=Counter)  # route, bucket, column
    seconds: defaultdict[tuple[str, int, str], float] = field(
        default_factory=lambda: defaultdict(float)
    )  # route, bucket, side
    latency: Counter[tuple[str, int, str, int]] = field(default_factory=Counter)  # + slot
    fields: Counter[tuple[str, int, str, str, str]] = field(default_factory=Counter)
    samples: dict[tuple[str, str, int], SampleRow] = field(default_factory=dict)
    recorded: list[Recorded] = field(default_factory=list)

    def __bool__(self) -> bool:
        return bool(self.counts or self.fields or self.samples or self.recorded)


def bucket_of(at: float, width: int) -> int:
    return int(at // width) * width


def latency_slot(seconds: float) -> int:
    return bisect.bisect_left(LATENCY_BOUNDS, seconds)


def percentile(counts: list[int], q: float) -> float | None:
    """The upper bound of the histogram slot that holds the q-th quantile."""
    n = sum(counts)
    if n == 0:
        return None
    running = 0
    for i, c in enumerate(counts):
        running += c
        if running >= q * n:
            return LATENCY_BOUNDS[i] if i < len(LATENCY_BOUNDS) else float("inf")
    return float("inf")


def sample_slot(request_id: str) -> int:
    digest = hashlib.blake2b(request_id.encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big") % SAMPLES_PER_FIELD


def fold(
    results: Iterable[Result | Recorded], width: int = 60, dropped: int = 0, now: float = 0.0
) -> Batch:
    batch = Batch()
    for result in results:
        if isinstance(result, Recorded):
            batch.recorded.append(result)
        else:
            _fold_one(batch, result, bucket_of(result.at, width))
    if dropped:
        batch.counts["", bucket_of(now, width), "dropped"] += dropped  # route "" = the store
    return batch


def _fold_one(batch: Batch, r: Result, bucket: int) -> None:
    if r.unsampled:  # a tally of requests sampling left out, not a comparison
        batch.counts[r.route, bucket, "unsampled"] += r.unsampled
        return
    if r.source is Source.AA:
        column = {Outcome.ERRORED: "aa_errored", Outcome.MISMATCHED: "aa_differed"}
        batch.counts[r.route, bucket, "aa_compared"] += 1
        if r.outcome in column:
            batch.counts[r.route, bucket, column[r.outcome]] += 1
    else:
        batch.counts[r.route, bucket, r.outcome.value] += r.repeat
        if not r.diffed and r.outcome is Outcome.MISMATCHED:
            batch.counts[r.route, bucket, "undiffed"] += 1
        _fold_latency(batch, r, bucket)
    # one count per field and comparison, so that a field's count is a count of comparisons
    # (its rate is then exact); when it differs in two ways, the first kind names it
    kinds: dict[str, str] = {}
    for d in r.differences:
        kinds.setdefault(d.field, d.kind.value)
    for name, kind in kinds.items():
        batch.fields[r.route, bucket, r.source.value, name, kind] += 1
    if r.sample is not None:
        _fold_samples(batch, r)


def _fold_latency(batch: Batch, r: Result, bucket: int) -> None:
    for side, seconds in (("primary", r.primary_duration), ("candidate", r.candidate_duration)):
        if seconds is None:
            continue
        batch.counts[r.route, bucket, f"{side}_n"] += 1
        batch.seconds[r.route, bucket, side] += seconds
        batch.latency[r.route, bucket, side, latency_slot(seconds)] += 1


def _fold_samples(batch: Batch, r: Result) -> None:
    assert r.sample is not None
    s = r.sample
    slot = sample_slot(s.request.request_id or repr(r.at))
    firsts: dict[str, Difference] = {}
    for d in r.differences:
        firsts.setdefault(d.field, d)
    places = [(f, d.kind.value, d.path) for f, d in firsts.items()]
    if r.outcome is Outcome.ERRORED:
        places = [(ERRORED_FIELD, "", "")]
    for name, kind, path in places:
        batch.samples[r.route, name, slot] = SampleRow(
            r.route, name, slot, r.at, r.source, kind, path, s.request.method, s.request.path,
            s.request.query, s.request.request_id, s.primary, s.candidate, s.error,
        )  # fmt: skip


@dataclass(frozen=True, slots=True)
class CountRow:
    route: str
    bucket: int
    counts: dict[str, int]
    primary_seconds: float
    candidate_seconds: float


@dataclass(frozen=True, slots=True)
class LatencyRow:
    route: str
    bucket: int
    side: str
    slot: int
    n: int


@dataclass(frozen=True, slots=True)
class FieldRow:
    route: str
    bucket: int
    source: Source
    field: str
    kind: str
    n: int


@dataclass(frozen=True, slots=True)
class Epoch:
    """Evidence of `route` counts from `started` (epoch seconds): an operator's reset."""

    route: str
    started: float


@dataclass(frozen=True, slots=True)
class Rows:
    counts: tuple[CountRow, ...] = ()
    latency: tuple[LatencyRow, ...] = ()
    fields: tuple[FieldRow, ...] = ()
    samples: tuple[SampleRow, ...] = ()
    epochs: tuple[Epoch, ...] = ()


def epoch_starts(epochs: Iterable[Epoch]) -> dict[str, float]:
    """Per route, the start of its current evidence epoch: the latest reset."""
    starts: dict[str, float] = {}
    for e in epochs:
        starts[e.route] = max(e.started, starts.get(e.route, e.started))
    return starts


def in_epoch(rows: Rows, starts: Mapping[str, float] | None = None) -> Rows:
    """The rows of each route's current evidence epoch (`starts`, else the rows' own epochs).

    Counts cannot be split inside a time bucket, so a route's counts, fields and latency count
    from the first whole bucket that starts at or after its reset: what arrived in the rest of
    the reset's bucket is left out with what came before. Samples carry their own time.
    """
    starts = epoch_starts(rows.epochs) if starts is None else starts
    if not starts:
        return rows

    def after(route: str, at: float) -> bool:
        return at >= starts.get(route, at)

    return Rows(
        tuple(c for c in rows.counts if after(c.route, c.bucket)),
        tuple(x for x in rows.latency if after(x.route, x.bucket)),
        tuple(f for f in rows.fields if after(f.route, f.bucket)),
        tuple(s for s in rows.samples if after(s.route, s.at)),
        rows.epochs,
    )
