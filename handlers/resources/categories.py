"""Categories (read-only), nested through parent and children."""

from __future__ import annotations

from handlers.model import Relation, Resource
from handlers.resources.credits import STAMPS

CATEGORIES = Resource(
    type="categories",
    table="categories",
    model_class="App\\Models\\Category",
    route="categories",
    permission="categories",
    actions=("index", "show"),
    attributes={
        "id": "int",
        "name": "string",
        "parent_id": "int",
        # Declared by the resource but not a column: always null.
        "permissions": "null",
        **STAMPS,
    },
    relationships={
        "products": Relation("has_many", "products", foreign_key="category_id"),
        "parent": Relation("belongs_to", "categories", foreign_key="parent_id"),
        "children": Relation("has_many", "categories", foreign_key="parent_id"),
    },
    filters=("name", "parent_id", "slug"),
    sorts=("id", "created_at", "updated_at", "name"),
    includes=("products.plans.prices", "parent", "children"),
)

RESOURCES = (CATEGORIES,)
