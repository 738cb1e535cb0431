"""Every resource definition, by JSON:API type and by URL segment."""

from __future__ import annotations

from functools import cache

from handlers.model import Resource


@cache
def _definitions() -> dict[str, Resource]:
    from handlers.resources import all_resources

    return {definition.type: definition for definition in all_resources()}


def resource_def(kind: str) -> Resource:
    try:
        return _definitions()[kind]
    except KeyError:
        raise LookupError(f"unknown resource type {kind}") from None


def resource_for_segment(segment: str) -> Resource | None:
    for definition in _definitions().values():
        if definition.route == segment:
            return definition
    return None
