"""Compare two observations: a pipeline of small pure steps.

    failure? → same bytes? → lift → collapse body kinds → strict `==` → drop ignored paths
    → strict `==` → deepdiff (only now) → classify into Differences → split off learned noise

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
- Differences in lists of unequal length are one `length` difference at the list, plus value
  differences in the common prefix.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

import orjson
from deepdiff import DeepDiff

from shadow.fieldpath import Pattern, any_covers, format_path, generalise
from shadow.observation import BodyKind, Lifted, Observation, lift, lift_headers

_SORTED = orjson.OPT_SORT_KEYS
_MAX_DIFFS = 500  # deepdiff stops after this many; a report needs the fields, not every item


class Outcome(enum.Enum):
    MATCHED = "matched"
    MISMATCHED = "mismatched"
    IGNORED = "ignored"
    ERRORED = "errored"
    SKIPPED = "skipped"  # not compared: body over max_body, or method not shadowed
    SHED = "shed"  # not compared: over max_in_flight


class Kind(enum.Enum):
    VALUE = "value"
    TYPE = "type"
    MISSING = "missing"  # the primary has the key, the candidate lacks it
    EXTRA = "extra"  # the candidate has a key the primary lacks
    ORDER = "order"  # same items, another order
    LENGTH = "length"  # lists of different lengths


@dataclass(frozen=True, slots=True)
class Difference:
    path: str  # concrete, e.g. body.data[3].attributes.updated_at
    field: str  # generalised, e.g. body.data[*].attributes.updated_at
    kind: Kind


@dataclass(frozen=True, slots=True)
class Rules:
    headers: tuple[str, ...] = ("content-type", "location")
    ignore: tuple[Pattern, ...] = ()
    noise: frozenset[str] = frozenset()  # generalised fields learned as noise


@dataclass(frozen=True, slots=True)
class Comparison:
    outcome: Outcome
    differences: tuple[Difference, ...] = ()  # real ones: what makes it mismatched
    noise: tuple[Difference, ...] = ()  # found, but at fields learned as noise
    error: str | None = None
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
    if not found and ta != tb and same(na, nb):
        return Comparison(Outcome.IGNORED, primary=a, candidate=b)
    found.extend(differences(na, nb))
    found.sort(key=lambda d: (d.path, d.kind.value))
    real = tuple(d for d in found if d.field not in rules.noise)
    noise = tuple(d for d in found if d.field in rules.noise)
    if real:
        outcome = Outcome.MISMATCHED
    else:
        outcome = Outcome.IGNORED if noise or ta != tb else Outcome.MATCHED
    return Comparison(outcome, real, noise, primary=a, candidate=b)


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


def same(a: Any, b: Any) -> bool:
    """Equal, strictly: `==` first (fast), then sorted bytes, which tell `true` from `1`.

    Equal bytes settle it. Unequal bytes after `==` mean booleans against numbers, or numbers
    spelt apart (`1.0`, `1`); a walk tells the two apart without paying for a tree diff.
    """
    if a != b:
        return False
    return orjson.dumps(a, option=_SORTED) == orjson.dumps(b, option=_SORTED) or strict_equal(a, b)


def strict_equal(a: Any, b: Any) -> bool:
    """`==`, except that a boolean never equals a number (JSON's true is not 1)."""
    if isinstance(a, bool) or isinstance(b, bool):
        return type(a) is type(b) and a == b
    if isinstance(a, dict):
        return (
            isinstance(b, dict)
            and a.keys() == b.keys()
            and all(strict_equal(v, b[k]) for k, v in a.items())
        )
    if isinstance(a, list):
        return isinstance(b, list) and len(a) == len(b) and all(map(strict_equal, a, b))
    return bool(a == b)


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


def differences(a: Any, b: Any) -> list[Difference]:
    orders: list[tuple[str | int, ...]] = []
    b = _settle_reorders(a, b, (), orders)
    found = [_difference(path, Kind.ORDER) for path in orders]
    if not same(a, b):
        found.extend(
            _classify(DeepDiff(a, b, view="tree", threshold_to_diff_deeper=0, max_diffs=_MAX_DIFFS))
        )
    return found


def _settle_reorders(a: Any, b: Any, path: tuple[str | int, ...], orders: list[Any]) -> Any:
    """Record lists that hold the same items in another order, and put them in `a`'s order."""
    if a == b and type(a) is type(b):
        return b
    if isinstance(a, dict) and isinstance(b, dict):
        out = {
            k: _settle_reorders(a[k], v, (*path, k), orders) if k in a else v for k, v in b.items()
        }
        return out
    if isinstance(a, list) and isinstance(b, list):
        if len(a) == len(b) and len(a) > 1 and _multiset(a) == _multiset(b):
            orders.append(path)
            return a
        return [
            _settle_reorders(x, y, (*path, i), orders)
            for i, (x, y) in enumerate(zip(a, b, strict=False))
        ] + b[len(a) :]
    return b


def _multiset(items: list[Any]) -> list[bytes]:
    return sorted(orjson.dumps(item, option=_SORTED) for item in items)


_KINDS = {
    "values_changed": Kind.VALUE,
    "type_changes": Kind.TYPE,
    "dictionary_item_added": Kind.EXTRA,
    "dictionary_item_removed": Kind.MISSING,
    "iterable_item_added": Kind.LENGTH,
    "iterable_item_removed": Kind.LENGTH,
}


def _classify(diff: Any) -> list[Difference]:
    found: dict[tuple[str, Kind], Difference] = {}
    for report, levels in diff.items():
        kind = _KINDS.get(report, Kind.VALUE)
        for level in levels:
            path = tuple(level.path(output_format="list"))
            if kind is Kind.LENGTH:
                path = path[:-1]  # the list, not the item
            elif kind is Kind.TYPE:
                kind_here = _type_change(level.t1, level.t2)
                if kind_here is None:
                    continue
                d = _difference(path, kind_here)
                found.setdefault((d.path, d.kind), d)
                continue
            d = _difference(path, kind)
            found.setdefault((d.path, d.kind), d)
    return list(found.values())


def _type_change(x: Any, y: Any) -> Kind | None:
    """int against float is no type change (see the module docstring); bool is not a number."""
    numbers = (int, float)
    if (
        isinstance(x, numbers)
        and isinstance(y, numbers)
        and not isinstance(x, bool)
        and not isinstance(y, bool)
    ):
        return None if x == y else Kind.VALUE
    return Kind.TYPE


def _difference(path: Sequence[str | int], kind: Kind) -> Difference:
    return Difference(format_path(path), generalise(path), kind)
