<?php

declare(strict_types=1);

function services_resource(): array
{
    $planBelongsToProduct = static function (Request $r): Closure {
        return static function (string $attribute, mixed $value, callable $fail) use ($r): void {
            $productId = $r->input('product_id');
            if (!$productId) {
                return;
            }
            $stmt = db()->prepare('SELECT COUNT(*) FROM `plans` WHERE `id` = ? AND `priceable_type` = ? AND `priceable_id` = ?');
            $stmt->execute([$value, 'App\\Models\\Product', $productId]);
            if ((int) $stmt->fetchColumn() === 0) {
                $fail('The selected plan does not belong to the specified product.');
            }
        };
    };
    return [
        'type' => 'services',
        'table' => 'services',
        'class' => 'App\\Models\\Service',
        'route' => 'services',
        'permission' => 'services',
        'actions' => ['index', 'show', 'store', 'update', 'destroy'],
        'attributes' => [
            'id' => 'int',
            'quantity' => 'int',
            'price' => 'decimal',
            'status' => 'string',
            'currency_code' => 'string',
            'expires_at' => 'date',
            'updated_at' => 'datetime',
            'created_at' => 'datetime',
        ],
        'relationships' => [
            'coupon' => ['kind' => 'belongs_to', 'type' => 'coupons', 'foreign_key' => 'coupon_id'],
            'user' => ['kind' => 'belongs_to', 'type' => 'users', 'foreign_key' => 'user_id'],
            'order' => ['kind' => 'belongs_to', 'type' => 'orders', 'foreign_key' => 'order_id'],
            'product' => ['kind' => 'belongs_to', 'type' => 'products', 'foreign_key' => 'product_id'],
            'invoices' => ['kind' => 'service_invoices'],
            'properties' => ['kind' => 'morph_many', 'type' => 'properties', 'morph' => 'model', 'class' => 'App\\Models\\Service'],
        ],
        'filters' => ['quantity', 'price', 'expires_at', 'subscription_id', 'status'],
        'sorts' => ['id', 'created_at', 'updated_at', 'expires_at', 'status'],
        'includes' => ['order', 'coupon', 'user', 'product', 'invoices', 'properties'],
        'defaults' => ['quantity' => 1, 'status' => 'pending'],
        'create_rules' => static fn (Request $r, array $data): array => [
            'product_id' => ['required', 'exists:products,id'],
            'plan_id' => ['required', 'exists:plans,id', $planBelongsToProduct($r)],
            'user_id' => ['required', 'exists:users,id'],
            'quantity' => ['required', 'integer', 'min:1'],
            'status' => ['required', 'in:pending,active,cancelled,suspended'],
            'expires_at' => ['nullable', 'date', 'after_or_equal:today'],
            'currency_code' => ['required', 'string', 'exists:currencies,code'],
            'price' => ['required', 'numeric', 'min:0'],
            'coupon_id' => ['nullable', 'exists:coupons,id'],
            'subscription_id' => ['nullable', 'string', 'max:255'],
            'order_id' => ['nullable', 'exists:orders,id'],
        ],
        'update_rules' => static fn (Request $r, array $data, array $row): array => [
            'product_id' => ['sometimes', 'required', 'exists:products,id'],
            'plan_id' => ['sometimes', 'required', 'exists:plans,id', $planBelongsToProduct($r)],
            'user_id' => ['sometimes', 'required', 'exists:users,id'],
            'quantity' => ['sometimes', 'required', 'integer', 'min:1'],
            'status' => ['sometimes', 'required', 'in:pending,active,cancelled,suspended'],
            'expires_at' => ['sometimes', 'nullable', 'date', 'after_or_equal:today'],
            'currency_code' => ['sometimes', 'required', 'string', 'exists:currencies,code'],
            'price' => ['sometimes', 'required', 'numeric', 'min:0'],
            'coupon_id' => ['sometimes', 'nullable', 'exists:coupons,id'],
            'subscription_id' => ['sometimes', 'nullable', 'string', 'max:255'],
            'order_id' => ['sometimes', 'nullable', 'exists:orders,id'],
        ],
    ];
}

function coupons_resource(): array
{
    return [
        'type' => 'coupons',
        'table' => 'coupons',
        'class' => 'App\\Models\\Coupon',
        'attributes' => [
            'id' => 'int',
            'code' => 'string',
            'type' => 'string',
            'recurring' => 'int',
            'value' => 'decimal',
            'max_uses' => 'int',
            'max_uses_per_user' => 'int',
            'starts_at' => 'datetime',
            'expires_at' => 'datetime',
            'updated_at' => 'datetime',
            'created_at' => 'datetime',
        ],
        'relationships' => [
            'services' => ['kind' => 'has_many', 'type' => 'services', 'foreign_key' => 'coupon_id'],
        ],
    ];
}

function service_upgrades_resource(): array
{
    return [
        'type' => 'serviceUpgrades',
        'table' => 'service_upgrades',
        'class' => 'App\\Models\\ServiceUpgrade',
        'attributes' => [
            'id' => 'int',
            'status' => 'string',
            'service_id' => 'int',
            'plan_id' => 'int',
            'product_id' => 'int',
            'updated_at' => 'datetime',
            'created_at' => 'datetime',
        ],
        'relationships' => [],
    ];
}
