<?php

declare(strict_types=1);

function credits_resource(): array
{
    return [
        'type' => 'credits',
        'table' => 'credits',
        'class' => 'App\\Models\\Credit',
        'route' => 'credits',
        'permission' => 'credits',
        'actions' => ['index', 'show', 'store', 'update', 'destroy'],
        'attributes' => [
            'id' => 'int',
            'currency_code' => 'string',
            'amount' => 'decimal',
            'updated_at' => 'datetime',
            'created_at' => 'datetime',
        ],
        'relationships' => [
            'user' => ['kind' => 'belongs_to', 'type' => 'users', 'foreign_key' => 'user_id'],
        ],
        'filters' => ['id', 'currency_code', 'user_id'],
        'sorts' => ['id', 'created_at', 'updated_at', 'currency_code'],
        'includes' => ['user'],
        'create_rules' => static function (Request $r, array $data): array {
            $userId = $data['user_id'] ?? null;
            return [
                'user_id' => ['required', 'exists:users,id'],
                'currency_code' => ['required', 'string', 'exists:currencies,code',
                    'unique:credits,currency_code,NULL,id,user_id,' . (is_scalar($userId) ? (string) $userId : '')],
                'amount' => ['required', 'numeric', 'min:0'],
            ];
        },
        // user_id has no rule on update, so it cannot be changed.
        'update_rules' => static fn (Request $r, array $data, array $row): array => [
            'currency_code' => ['sometimes', 'required', 'string', 'exists:currencies,code',
                'unique:credits,currency_code,' . $row['id'] . ',id,user_id,' . $row['user_id']],
            'amount' => ['sometimes', 'required', 'numeric', 'min:0'],
        ],
    ];
}
