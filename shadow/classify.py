"""Classify how two lifted trees differ: deepdiff does the tree work, this module names it.

Each difference becomes a `Difference(path, field, kind)`: the concrete place, the generalised
field it is counted under, and one of the kinds below. Before the tree diff, lists that hold the
same items in another order are found and reported once, as `order` at the list, so a reordered
list does not show up as a value difference at every index. Pure: no I/O, no clock.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from difflib import SequenceMatcher
from typing import Any

import orjson
from deepdiff import DeepDiff

from shadow.fieldpath import format_path, generalise

_SORTED = orjson.OPT_SORT_KEYS
_MAX_REPORTED = 500  # differences kept per comparison; a report needs the fields, not every item
_MAX_ALIGN = 2000  # items in two lists beyond which they are paired by index (difflib is O(n²))


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
    lists: list[tuple[tuple[str | int, ...], Kind]] = []
    b = _settle_lists(a, b, (), lists)
    found = [_difference(path, kind) for path, kind in lists]
    if not same(a, b):
        found.extend(_tree_diff(a, b, zipped=False) or _tree_diff(a, b, zipped=True))
    return found


def _tree_diff(a: Any, b: Any, *, zipped: bool) -> list[Difference]:
    """deepdiff aligns list items by hash, but hash(False) == hash(0), so it can find nothing
    where a boolean faces a number; then the items are compared index by index instead."""
    diff = DeepDiff(
        a, b, view="tree", threshold_to_diff_deeper=0, zip_ordered_iterables=zipped,
    )  # fmt: skip
    # deepdiff's own max_diffs counts pairs visited, not differences found: a large body would
    # stop the walk before its one real difference, so the cap is applied to what was found
    return _classify(diff)[:_MAX_REPORTED]


def _settle_lists(a: Any, b: Any, path: tuple[str | int, ...], found: list[Any]) -> Any:
    """Report list order and length here, and give deepdiff a `b` with `a`'s list shapes.

    A permutation becomes one `order` difference and `b` takes `a`'s order. Lists of different
    lengths become one `length` difference, and their items are aligned (difflib, on canonical
    JSON) so that a removed item does not shift every later one into a value difference; items
    that were replaced are paired and compared in place. deepdiff aligns lists of scalars itself,
    but compares lists of objects index by index, which is what JSON:API responses are.
    """
    if strict_equal(a, b):
        return b
    if isinstance(a, dict) and isinstance(b, dict):
        return {k: _settle_lists(a[k], v, (*path, k), found) if k in a else v for k, v in b.items()}
    if not (isinstance(a, list) and isinstance(b, list)):
        return b
    if len(a) == len(b):
        if len(a) > 1 and _multiset(a) == _multiset(b):
            found.append((path, Kind.ORDER))
            return a
        return [
            _settle_lists(x, y, (*path, i), found)
            for i, (x, y) in enumerate(zip(a, b, strict=True))
        ]
    found.append((path, Kind.LENGTH))
    if len(a) + len(b) > _MAX_ALIGN:
        pairs: Iterable[tuple[int, int]] = zip(range(len(a)), range(len(b)), strict=False)
    else:
        pairs = _replaced_pairs(a, b)
    out = list(a)  # items not paired are inserted or removed: the length difference says so
    for i, j in pairs:
        out[i] = _settle_lists(a[i], b[j], (*path, i), found)
    return out


def _replaced_pairs(a: list[Any], b: list[Any]) -> Iterator[tuple[int, int]]:
    keys_a = [orjson.dumps(x, option=_SORTED) for x in a]
    keys_b = [orjson.dumps(x, option=_SORTED) for x in b]
    for tag, i1, i2, j1, j2 in SequenceMatcher(None, keys_a, keys_b, autojunk=False).get_opcodes():
        if tag == "replace":
            yield from zip(range(i1, i2), range(j1, j2), strict=False)


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
