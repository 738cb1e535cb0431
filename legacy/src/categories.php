<?php

declare(strict_types=1);

function categories_resource(): array
{
    return [
        'type' => 'categories',
        'table' => 'categories',
        'class' => 'App\\Models\\Category',
        'route' => 'categories',
        'permission' => 'categories',
        'actions' => ['index', 'show'],
        'attributes' => [
            'id' => 'int',
            'name' => 'string',
            'parent_id' => 'int',
            // Declared by the resource but not a column: always null.
            'permissions' => 'null',
            'updated_at' => 'datetime',
            'created_at' => 'datetime',
        ],
        'relationships' => [
            'products' => ['kind' => 'has_many', 'type' => 'products', 'foreign_key' => 'category_id'],
            'parent' => ['kind' => 'belongs_to', 'type' => 'categories', 'foreign_key' => 'parent_id'],
            'children' => ['kind' => 'has_many', 'type' => 'categories', 'foreign_key' => 'parent_id'],
        ],
        'filters' => ['name', 'parent_id', 'slug'],
        'sorts' => ['id', 'created_at', 'updated_at', 'name'],
        'includes' => ['products.plans.prices', 'parent', 'children'],
    ];
}
