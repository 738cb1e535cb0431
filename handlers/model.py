"""Resource definitions (plain data) and the loaded row they describe."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from handlers.db import Row as Row

if TYPE_CHECKING:
    from handlers.context import Context

Rules = dict[str, list[Any]]


@dataclass(frozen=True)
class Relation:
    """How a relationship is loaded: belongs_to, has_many, morph_many, service_invoices,
    reference (polymorphic) or missing (declared by the resource, absent on the model)."""

    kind: str
    type: str = ""
    foreign_key: str = ""
    owner_key: str = "id"
    morph: str = ""
    morph_class: str = ""
    order: str = "`id` ASC"


@dataclass(frozen=True)
class Resource:
    type: str
    table: str
    model_class: str
    attributes: Mapping[str, str]
    relationships: Mapping[str, Relation] = field(default_factory=dict)
    route: str | None = None
    permission: str = ""
    actions: tuple[str, ...] = ()
    filters: tuple[str, ...] = ()
    sorts: tuple[str, ...] = ()
    includes: tuple[str, ...] = ()
    missing_relations: tuple[str, ...] = ()
    key: str = "id"
    casts: Mapping[str, str] = field(default_factory=dict)
    defaults: Mapping[str, Any] = field(default_factory=dict)
    meta: Callable[[Model], dict[str, Any]] | None = None
    create_rules: Callable[[Context, Row], Rules] | None = None
    update_rules: Callable[[Context, Row, Row], Rules] | None = None
    saving: Callable[[Context, Row, Row | None], Row] | None = None
    creating: Callable[[Context, Row], Row] | None = None
    created: Callable[[Context, Row], None] | None = None
    updating: Callable[[Context, Row, Row], Row] | None = None
    updated: Callable[[Context, Row, Row, Row], None] | None = None


@dataclass
class Model:
    """A row of a resource, with the relations loaded for the requested includes."""

    type: str
    row: Row
    raw: frozenset[str] = frozenset()
    rels: dict[str, Model | list[Model] | None] = field(default_factory=dict)
