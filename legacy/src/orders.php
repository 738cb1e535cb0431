<?php

declare(strict_types=1);

function orders_resource(): array
{
    return [
        'type' => 'orders',
        'table' => 'orders',
        'class' => 'App\\Models\\Order',
        'route' => 'orders',
        'permission' => 'orders',
        'actions' => ['index', 'show', 'store', 'update', 'destroy'],
        'attributes' => [
            'id' => 'int',
            'currency_code' => 'string',
            'user_id' => 'int',
            'updated_at' => 'datetime',
            'created_at' => 'datetime',
        ],
        'relationships' => [
            'services' => ['kind' => 'has_many', 'type' => 'services', 'foreign_key' => 'order_id'],
            'user' => ['kind' => 'belongs_to', 'type' => 'users', 'foreign_key' => 'user_id'],
        ],
        'filters' => ['id', 'currency_code'],
        'sorts' => ['id', 'created_at', 'updated_at', 'currency_code'],
        'includes' => ['services', 'user'],
        'create_rules' => static fn (Request $r, array $data): array => [
            'user_id' => ['required', 'exists:users,id'],
            'currency_code' => ['required', 'string', 'exists:currencies,code'],
        ],
        'update_rules' => static fn (Request $r, array $data, array $row): array => [
            'user_id' => ['sometimes', 'required', 'exists:users,id'],
            'currency_code' => ['sometimes', 'required', 'string', 'exists:currencies,code'],
        ],
    ];
}
