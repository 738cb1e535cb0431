"""Compare two observations: a pipeline of small pure steps.

    failure? → same bytes? → lift → collapse body kinds → strict `==` → drop ignored paths
    → strict `==` → deepdiff (only now) → classify into Differences → split off learned noise

With `Rules(tree_diff=False)` the last steps are replaced by dropping the learned noise fields
too and comparing with `==` once more: the outcome is the same, but a mismatch comes without its
fields (`diffed=False`). The experiment asks for that when tree diffs are over their budget, as
deepdiff costs ~1.8 µs a byte and holds the interpreter lock the event loop needs.

Every comparison has exactly one outcome: matched, mismatched, ignored (every difference was
under an ignore rule or learned noise) or errored (a side failed, timed out, or sent garbage).
`Outcome` also names skipped and shed, which the experiment counts without comparing.

Decisions, so that reports mean one thing:
- JSON is compared parsed: whitespace, key order in objects and escapes (`\\u00e9` vs `é`) are
  not differences. List order is: a permutation is one `order` difference at the list.
- Numbers compare by value, as JSON defines no int/float distinction and PHP writes `1.0` where
  Python writes `1`: `1`, `1.0` and `1e2`/`100` are equal. `true` vs `1` is a `type` difference
  (Python's `True == 1` is not allowed to decide that).
- `""` vs `null` is a `type` difference: PHP's `=== null` and JS's `?? default` treat them apart.
- A JSON body against a text one (an HTML error page for a JSON error) is one `type` difference
  at `body`, not a diff of every key.
- Lists of different lengths are one `length` difference at the list; deepdiff aligns the
  items, so an inserted or removed item shifts nothing, and items that changed besides are
  `value` differences at their index.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

from shadow.classify import Difference, Kind, differences, same
from shadow.fieldpath import Pattern, any_covers, parse
from shadow.observation import BodyKind, Lifted, Observation, lift, lift_headers

__all__ = ["Comparison", "Difference", "Kind", "Outcome", "Rules", "compare", "same"]


class Outcome(enum.Enum):
    MATCHED = "matched"
    MISMATCHED = "mismatched"
    IGNORED = "ignored"
    ERRORED = "errored"
    SKIPPED = "skipped"  # not compared: body over max_body, or method not shadowed
    SHED = "shed"  # not compared: over max_in_flight


@dataclass(frozen=True, slots=True)
class Rules:
    headers: tuple[str, ...] = ("content-type", "location")
    ignore: tuple[Pattern, ...] = ()
    noise: frozenset[str] = frozenset()  # generalised fields learned as noise
    tree_diff: bool = True  # False: outcome only, no deepdiff


@dataclass(frozen=True, slots=True)
class Comparison:
    outcome: Outcome
    differences: tuple[Difference, ...] = ()  # real ones: what makes it mismatched
    noise: tuple[Difference, ...] = ()  # found, but at fields learned as noise
    error: str | None = None
    diffed: bool = True  # False: mismatched, but the fields were not looked for
    primary: Lifted | None = field(default=None, compare=False)
    candidate: Lifted | None = field(default=None, compare=False)


def compare(primary: Observation, candidate: Observation, rules: Rules) -> Comparison:
    failure = failure_of(primary, candidate)
    if failure is not None:
        return Comparison(Outcome.ERRORED, error=failure)
    if same_bytes(primary, candidate, rules.headers):
        return Comparison(Outcome.MATCHED)
    a, b = lift(primary, rules.headers), lift(candidate, rules.headers)
    if a.garbage or b.garbage:
        if a.tree() == b.tree():  # both sent the same broken body: nothing to tell apart
            return Comparison(Outcome.MATCHED, primary=a, candidate=b)
        why = "; ".join(
            f"{s}: {g}" for s, g in (("primary", a.garbage), ("candidate", b.garbage)) if g
        )
        return Comparison(Outcome.ERRORED, error=why, primary=a, candidate=b)
    return compare_lifted(a, b, rules)


def compare_lifted(a: Lifted, b: Lifted, rules: Rules) -> Comparison:
    ta, tb, found = collapse_kinds(a, b)
    if not found and same(ta, tb):
        return Comparison(Outcome.MATCHED, primary=a, candidate=b)
    na, nb = drop_ignored(ta, rules.ignore), drop_ignored(tb, rules.ignore)
    if any_covers(rules.ignore, ("body",)):
        found = []  # the one collapsed difference is at `body`, which is ignored
    if not found and same(na, nb):  # they differed, and only where the ignore rules say
        return Comparison(Outcome.IGNORED, primary=a, candidate=b)
    if not rules.tree_diff:
        return _outcome_only(a, b, (na, nb), found, rules.noise)
    found.extend(differences(na, nb))
    found.sort(key=lambda d: (d.path, d.kind.value))
    real = tuple(d for d in found if d.field not in rules.noise)
    noise = tuple(d for d in found if d.field in rules.noise)
    if not found:
        # the trees differ, yet nothing was classified: say so at the root rather than claim
        # parity that was not shown
        real = (Difference("body", "body", Kind.VALUE),)
    outcome = Outcome.MISMATCHED if real else Outcome.IGNORED
    return Comparison(outcome, real, noise, primary=a, candidate=b)


def _outcome_only(
    a: Lifted, b: Lifted, trees: tuple[Any, Any], found: list[Difference], noise: frozenset[str]
) -> Comparison:
    real = tuple(d for d in found if d.field not in noise)
    patterns = noise_patterns(noise)
    if not real and same(drop_ignored(trees[0], patterns), drop_ignored(trees[1], patterns)):
        return Comparison(Outcome.IGNORED, diffed=False, primary=a, candidate=b)
    return Comparison(Outcome.MISMATCHED, real, diffed=False, primary=a, candidate=b)


@lru_cache(maxsize=64)
def noise_patterns(noise: frozenset[str]) -> tuple[Pattern, ...]:
    # learned fields are generalised paths, which always parse back (tests/shadow prove it)
    return tuple(parse(name) for name in sorted(noise))


def failure_of(primary: Observation, candidate: Observation) -> str | None:
    for side in (primary, candidate):
        if side.error is not None:
            return f"{side.side.value}: {side.error}"
        if not 100 <= side.status <= 599:
            return f"{side.side.value}: no valid HTTP status ({side.status!r})"
    return None


def same_bytes(primary: Observation, candidate: Observation, headers: Iterable[str]) -> bool:
    """The cheapest test, and the common one once a route is at parity."""
    if primary.status != candidate.status or primary.body != candidate.body:
        return False
    names = tuple(headers)
    return lift_headers(primary, names) == lift_headers(candidate, names) and (
        _media(primary) == _media(candidate)
    )


def _media(o: Observation) -> str:
    return next((v.split(";")[0].strip().lower() for n, v in o.headers if n == "content-type"), "")


def collapse_kinds(a: Lifted, b: Lifted) -> tuple[dict[str, Any], dict[str, Any], list[Difference]]:
    """A JSON body against a text or binary one is one type difference at `body`."""
    ta, tb = a.tree(), b.tree()
    if a.kind != b.kind and BodyKind.EMPTY not in (a.kind, b.kind):
        ta["body"] = tb["body"] = None
        return ta, tb, [Difference("body", "body", Kind.TYPE)]
    return ta, tb, []


def drop_ignored(tree: Any, patterns: Sequence[Pattern]) -> Any:
    """A copy of `tree` without the places the patterns name; untouched branches are shared."""
    if not patterns:
        return tree
    return _drop(tree, [(p, 0) for p in patterns])


def _drop(node: Any, live: list[tuple[Pattern, int]]) -> Any:
    if isinstance(node, dict):
        items: Iterable[tuple[Any, Any]] = node.items()
    elif isinstance(node, list):
        items = enumerate(node)
    else:
        return node
    out: list[tuple[Any, Any]] = []
    changed = False
    for part, child in items:
        reach = [(p, i + 1) for p, i in live if p.steps[i].matches(part)]
        if any(i == len(p.steps) for p, i in reach):
            changed = True  # this place is ignored whole
            continue
        kept = _drop(child, reach) if reach else child
        changed = changed or kept is not child
        out.append((part, kept))
    if not changed:
        return node
    return dict(out) if isinstance(node, dict) else [v for _, v in out]
