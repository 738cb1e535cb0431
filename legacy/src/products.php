<?php

declare(strict_types=1);

function products_resource(): array
{
    return [
        'type' => 'products',
        'table' => 'products',
        'class' => 'App\\Models\\Product',
        'route' => 'products',
        'permission' => 'products',
        'actions' => ['index', 'show'],
        'attributes' => [
            'id' => 'int',
            'name' => 'string',
            'description' => 'string',
            'image' => 'string',
            'slug' => 'string',
            'stock' => 'int',
            'per_user_limit' => 'int',
            'sort' => 'int',
            'allow_quantity' => 'string',
            'email_template' => 'string',
            'hidden' => 'int',
            'updated_at' => 'datetime',
            'created_at' => 'datetime',
        ],
        'relationships' => [
            'category' => ['kind' => 'belongs_to', 'type' => 'categories', 'foreign_key' => 'category_id'],
            'plans' => ['kind' => 'morph_many', 'type' => 'plans', 'morph' => 'priceable', 'class' => 'App\\Models\\Product', 'order' => '`sort` ASC, `id` ASC'],
        ],
        'filters' => ['name', 'slug', 'category_id', 'server_id', 'hidden', 'allow_quantity'],
        'sorts' => ['id', 'created_at', 'updated_at', 'name', 'sort', 'stock'],
        'includes' => ['category', 'plans.prices', 'services'],
    ];
}

function plans_resource(): array
{
    return [
        'type' => 'plans',
        'table' => 'plans',
        'class' => 'App\\Models\\Plan',
        'attributes' => [
            'id' => 'int',
            'name' => 'string',
            'type' => 'string',
            'billing_period' => 'int_cast',
            'billing_unit' => 'string',
            'sort' => 'int',
        ],
        'relationships' => [
            'prices' => ['kind' => 'has_many', 'type' => 'prices', 'foreign_key' => 'plan_id'],
        ],
    ];
}

function prices_resource(): array
{
    return [
        'type' => 'prices',
        'table' => 'prices',
        'class' => 'App\\Models\\Price',
        'attributes' => [
            'id' => 'int',
            'price' => 'decimal',
            'setup_fee' => 'decimal',
            'currency_code' => 'string',
        ],
        'relationships' => [
            'currency' => ['kind' => 'belongs_to', 'type' => 'currencies', 'foreign_key' => 'currency_code', 'owner_key' => 'code'],
        ],
    ];
}

function currencies_resource(): array
{
    return [
        'type' => 'currencies',
        'table' => 'currencies',
        'class' => 'App\\Models\\Currency',
        'key' => 'code',
        'attributes' => [
            'code' => 'string',
            'name' => 'string',
            'prefix' => 'string',
            'suffix' => 'string',
            'format' => 'string',
        ],
        'relationships' => [],
    ];
}
