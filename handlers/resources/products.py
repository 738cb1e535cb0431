"""Products (read-only), with plans, prices and currencies as includable resources."""

from __future__ import annotations

from handlers.model import Relation, Resource
from handlers.resources.credits import STAMPS

PRODUCTS = Resource(
    type="products",
    table="products",
    model_class="App\\Models\\Product",
    route="products",
    permission="products",
    actions=("index", "show"),
    attributes={
        "id": "int",
        "name": "string",
        "description": "string",
        "image": "string",
        "slug": "string",
        "stock": "int",
        "per_user_limit": "int",
        "sort": "int",
        "allow_quantity": "string",
        "email_template": "string",
        "hidden": "int",
        **STAMPS,
    },
    relationships={
        "category": Relation("belongs_to", "categories", foreign_key="category_id"),
        "plans": Relation(
            "morph_many",
            "plans",
            morph="priceable",
            morph_class="App\\Models\\Product",
            order="`sort` ASC, `id` ASC",
        ),
    },
    filters=("name", "slug", "category_id", "server_id", "hidden", "allow_quantity"),
    sorts=("id", "created_at", "updated_at", "name", "sort", "stock"),
    includes=("category", "plans.prices", "services"),
)

PLANS = Resource(
    type="plans",
    table="plans",
    model_class="App\\Models\\Plan",
    attributes={
        "id": "int",
        "name": "string",
        "type": "string",
        "billing_period": "int_cast",
        "billing_unit": "string",
        "sort": "int",
    },
    relationships={"prices": Relation("has_many", "prices", foreign_key="plan_id")},
)

PRICES = Resource(
    type="prices",
    table="prices",
    model_class="App\\Models\\Price",
    attributes={"id": "int", "price": "decimal", "setup_fee": "decimal", "currency_code": "string"},
    relationships={
        "currency": Relation(
            "belongs_to", "currencies", foreign_key="currency_code", owner_key="code"
        )
    },
)

CURRENCIES = Resource(
    type="currencies",
    table="currencies",
    model_class="App\\Models\\Currency",
    key="code",
    attributes={
        "code": "string",
        "name": "string",
        "prefix": "string",
        "suffix": "string",
        "format": "string",
    },
)

RESOURCES = (PRODUCTS, PLANS, PRICES, CURRENCIES)
