"""Reaching the native side from outside any gateway: the exported parity tests' way.

`header_lines` reads headers as `--header` and STRANGLER_TEST_HEADERS give them.
"""

from __future__ import annotations

from collections.abc import Iterable


def header_lines(values: Iterable[str]) -> list[tuple[str, str]]:
    """`Name: value` lines as pairs; ValueError naming the one that is not a header."""
    pairs = []
    for value in values:
        name, sep, rest = value.partition(":")
        name = name.strip()
        if not sep or not name or any(c.isspace() or c in '()<>@,;\\"/[]?={}' for c in name):
            raise ValueError(f"header {value!r}: expected 'Name: value'")
        pairs.append((name, rest.strip()))
    return pairs
