"""Classify how two lifted trees differ: deepdiff does the tree work, this module names it.

Each difference becomes a `Difference(path, field, kind)`: the concrete place, the generalised
field it is counted under, and one of the kinds below. Before the tree diff, lists that hold the
same items in another order are found and reported once, as `order` at the list, so a reordered
list does not show up as a value difference at every index. Pure: no I/O, no clock.
"""

from __future__ import annotations

import enum
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import orjson
from deepdiff import DeepDiff

from shadow.fieldpath import format_path, generalise

_SORTED = orjson.OPT_SORT_KEYS
_MAX_DIFFS = 500  # deepdiff stops after this many; a report needs the fields, not every item


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


def differences(a: Any, b: Any) -> list[Difference]:
    orders: list[tuple[str | int, ...]] = []
    b = _settle_reorders(a, b, (), orders)
    found = [_difference(path, Kind.ORDER) for path in orders]
    if not same(a, b):
        found.extend(_tree_diff(a, b, zipped=False) or _tree_diff(a, b, zipped=True))
    return found


def _tree_diff(a: Any, b: Any, *, zipped: bool) -> list[Difference]:
    """deepdiff aligns list items by hash (good: an inserted item is one `length` difference),
    but hash(False) == hash(0), so it can find nothing where a boolean faces a number; then the
    items are compared index by index instead."""
    diff = DeepDiff(
        a, b, view="tree", threshold_to_diff_deeper=0, max_diffs=_MAX_DIFFS,
        zip_ordered_iterables=zipped,
    )  # fmt: skip
    return _classify(diff)


def _settle_reorders(a: Any, b: Any, path: tuple[str | int, ...], orders: list[Any]) -> Any:
    """Record lists that hold the same items in another order, and put them in `a`'s order."""
    if strict_equal(a, b):
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
        for level in levels:
            path = tuple(level.path(output_format="list"))
            kind: Kind | None = _KINDS.get(report, Kind.VALUE)
            if kind is Kind.LENGTH:
                path = path[:-1]  # the list, not the item
            elif kind is Kind.TYPE:
                kind = _type_change(level.t1, level.t2)
            if kind is not None:
                d = _difference(path, kind)
                found.setdefault((d.path, d.kind), d)
    return list(found.values())


def _type_change(x: Any, y: Any) -> Kind | None:
    """int against float is no type change (see shadow.compare); a boolean is not a number."""
    if _is_number(x) and _is_number(y):
        return None if x == y else Kind.VALUE
    return Kind.TYPE


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _difference(path: Sequence[str | int], kind: Kind) -> Difference:
    return Difference(format_path(path), generalise(path), kind)
