"""Compare two observations: a pipeline of small pure steps.

    failure? → same bytes? → lift → collapse body kinds → strict `==` → drop ignored paths
    → strict `==` → deepdiff (only now) → classify into Differences → split off learned noise

With `Rules(tree_diff=False)` the last steps are replaced by setting the learned noise fields
aside too and comparing with `==` once more: the outcome is the same, but a mismatch comes
without its fields (`diffed=False`). The experiment asks for that when tree diffs are over their
budget, as deepdiff costs ~1.8 µs a byte and holds the interpreter lock the event loop needs.

Learned noise excuses only the kinds of difference A/A showed at a field (`Rules.noise_kinds`):
a session cookie whose value varies does not excuse a candidate that sends none. Without a tree
diff, a noise field is therefore not dropped but masked where it is present: by a value of the
same JSON type when A/A showed only value differences there, by one placeholder when it showed
other kinds; only a field A/A saw missing or extra is dropped whole.

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
from collections.abc import Callable, Iterable, Sequence
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
    # (field, kind) pairs that A/A showed at the noise fields: a difference of another kind at a
    # noise field is real. None: every kind is excused
    noise_kinds: frozenset[tuple[str, str]] | None = None


def excused(d: Difference, rules: Rules) -> bool:
    """A difference at learned noise, of a kind A/A showed there."""
    if d.field not in rules.noise:
        return False
    return rules.noise_kinds is None or (d.field, d.kind.value) in rules.noise_kinds


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
        return _outcome_only(a, b, (na, nb), found, rules)
    found.extend(differences(na, nb))
    found.sort(key=lambda d: (d.path, d.kind.value))
    real = tuple(d for d in found if not excused(d, rules))
    noise = tuple(d for d in found if excused(d, rules))
    if not found:
        # the trees differ, yet nothing was classified: say so at the root rather than claim
        # parity that was not shown
        real = (Difference("body", "body", Kind.VALUE),)
    outcome = Outcome.MISMATCHED if real else Outcome.IGNORED
    return Comparison(outcome, real, noise, primary=a, candidate=b)


def _outcome_only(
    a: Lifted, b: Lifted, trees: tuple[Any, Any], found: list[Difference], rules: Rules
) -> Comparison:
    real = tuple(d for d in found if not excused(d, rules))
    if not real and same(*(set_noise_aside(t, rules) for t in trees)):
        return Comparison(Outcome.IGNORED, diffed=False, primary=a, candidate=b)
    return Comparison(Outcome.MISMATCHED, real, diffed=False, primary=a, candidate=b)


def set_noise_aside(tree: Any, rules: Rules) -> Any:
    """A copy of `tree` in which learned noise can no longer differ, except in the kinds A/A
    did not show there (see the module docstring)."""
    dropped, typed, placeholder = noise_plan(rules.noise, rules.noise_kinds)
    tree = drop_ignored(tree, dropped)
    tree = _walk(tree, [(p, 0) for p in typed], _same_type) if typed else tree
    return _walk(tree, [(p, 0) for p in placeholder], _placeholder) if placeholder else tree


@lru_cache(maxsize=64)
def noise_plan(
    noise: frozenset[str], kinds: frozenset[tuple[str, str]] | None
) -> tuple[tuple[Pattern, ...], tuple[Pattern, ...], tuple[Pattern, ...]]:
    """The noise fields to drop, to mask by type, and to mask by a placeholder."""
    dropped, typed, placeholder = [], [], []
    for name in sorted(noise):
        # learned fields are generalised paths, which always parse back (tests/shadow prove it)
        pattern = parse(name)
        seen = {k for f, k in kinds if f == name} if kinds is not None else None
        if seen is None or seen & {Kind.MISSING.value, Kind.EXTRA.value}:
            dropped.append(pattern)
        elif seen <= {Kind.VALUE.value}:
            typed.append(pattern)
        else:
            placeholder.append(pattern)
    return tuple(dropped), tuple(typed), tuple(placeholder)


_PLACEHOLDER = "(noise)"


def _placeholder(_value: Any) -> Any:
    return _PLACEHOLDER


def _same_type(value: Any) -> Any:
    """One value per JSON type: what varies is hidden, a change of type is not."""
    if value is None:
        return None
    if isinstance(value, bool):
        return False
    if isinstance(value, int | float):
        return 0
    if isinstance(value, str):
        return ""
    return [] if isinstance(value, list) else {}


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
    return _walk(tree, [(p, 0) for p in patterns], None)


def _walk(node: Any, live: list[tuple[Pattern, int]], replace: Callable[[Any], Any] | None) -> Any:
    """A copy of `node` in which the places the patterns name are dropped (`replace` None) or
    replaced by `replace(value)`; untouched branches are shared."""
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
            changed = True  # this place is set aside whole
            if replace is not None:
                out.append((part, replace(child)))
            continue
        kept = _walk(child, reach, replace) if reach else child
        changed = changed or kept is not child
        out.append((part, kept))
    if not changed:
        return node
    return dict(out) if isinstance(node, dict) else [v for _, v in out]
