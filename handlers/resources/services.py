"""Services (with coupons and service upgrades as includable resources)."""

from __future__ import annotations

from typing import Any

from handlers import phpish
from handlers.context import Context
from handlers.model import Relation, Resource, Row, Rules
from handlers.resources.users import CRUD
from handlers.validation import Fail

STAMPS = {"updated_at": "datetime", "created_at": "datetime"}


def _plan_belongs_to_product(ctx: Context) -> Any:
    def rule(attribute: str, value: Any, fail: Fail) -> None:
        product_id = ctx.request.input("product_id")
        if phpish.empty(product_id):
            return
        count = ctx.db.scalar(
            "SELECT COUNT(*) FROM `plans` WHERE `id` = ? AND `priceable_type` = ? "
            "AND `priceable_id` = ?",
            [value, "App\\Models\\Product", product_id],
        )
        if int(count or 0) == 0:
            fail("The selected plan does not belong to the specified product.")

    return rule


def _rules(ctx: Context, prefix: list[str]) -> Rules:
    return {
        "product_id": [*prefix, "required", "exists:products,id"],
        "plan_id": [*prefix, "required", "exists:plans,id", _plan_belongs_to_product(ctx)],
        "user_id": [*prefix, "required", "exists:users,id"],
        "quantity": [*prefix, "required", "integer", "min:1"],
        "status": [*prefix, "required", "in:pending,active,cancelled,suspended"],
        "expires_at": [*prefix, "nullable", "date", "after_or_equal:today"],
        "currency_code": [*prefix, "required", "string", "exists:currencies,code"],
        "price": [*prefix, "required", "numeric", "min:0"],
        "coupon_id": [*prefix, "nullable", "exists:coupons,id"],
        "subscription_id": [*prefix, "nullable", "string", "max:255"],
        "order_id": [*prefix, "nullable", "exists:orders,id"],
    }


def _create_rules(ctx: Context, data: Row) -> Rules:
    return _rules(ctx, [])


def _update_rules(ctx: Context, data: Row, row: Row) -> Rules:
    return _rules(ctx, ["sometimes"])


SERVICES = Resource(
    type="services",
    table="services",
    model_class="App\\Models\\Service",
    route="services",
    permission="services",
    actions=CRUD,
    attributes={
        "id": "int",
        "quantity": "int",
        "price": "decimal",
        "status": "string",
        "currency_code": "string",
        "expires_at": "date",
        **STAMPS,
    },
    relationships={
        "coupon": Relation("belongs_to", "coupons", foreign_key="coupon_id"),
        "user": Relation("belongs_to", "users", foreign_key="user_id"),
        "order": Relation("belongs_to", "orders", foreign_key="order_id"),
        "product": Relation("belongs_to", "products", foreign_key="product_id"),
        "invoices": Relation("service_invoices"),
        "properties": Relation(
            "morph_many", "properties", morph="model", morph_class="App\\Models\\Service"
        ),
    },
    filters=("quantity", "price", "expires_at", "subscription_id", "status"),
    sorts=("id", "created_at", "updated_at", "expires_at", "status"),
    includes=("order", "coupon", "user", "product", "invoices", "properties"),
    defaults={"quantity": 1, "status": "pending"},
    create_rules=_create_rules,
    update_rules=_update_rules,
)

COUPONS = Resource(
    type="coupons",
    table="coupons",
    model_class="App\\Models\\Coupon",
    attributes={
        "id": "int",
        "code": "string",
        "type": "string",
        "recurring": "int",
        "value": "decimal",
        "max_uses": "int",
        "max_uses_per_user": "int",
        "starts_at": "datetime",
        "expires_at": "datetime",
        **STAMPS,
    },
    relationships={"services": Relation("has_many", "services", foreign_key="coupon_id")},
)

SERVICE_UPGRADES = Resource(
    type="serviceUpgrades",
    table="service_upgrades",
    model_class="App\\Models\\ServiceUpgrade",
    attributes={
        "id": "int",
        "status": "string",
        "service_id": "int",
        "plan_id": "int",
        "product_id": "int",
        **STAMPS,
    },
)

RESOURCES = (SERVICES, COUPONS, SERVICE_UPGRADES)
