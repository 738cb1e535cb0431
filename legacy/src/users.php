<?php

declare(strict_types=1);

/** Hash a password the way the `hashed` cast does: bcrypt cost 12; a bcrypt hash is kept as is. */
function hash_password_value(mixed $value): mixed
{
    if ($value === null) {
        return null;
    }
    $value = (string) $value;
    $info = password_get_info($value);
    if ($info['algo'] === null) {
        return password_hash($value, PASSWORD_BCRYPT, ['cost' => 12]);
    }
    $cost = $info['options']['cost'] ?? null;
    if ($info['algoName'] !== 'bcrypt' || !is_int($cost) || $cost > 12) {
        throw new RuntimeException("Could not verify the hashed value's configuration.");
    }
    return $value;
}

function users_resource(): array
{
    return [
        'type' => 'users',
        'table' => 'users',
        'class' => 'App\\Models\\User',
        'route' => 'users',
        'permission' => 'users',
        'actions' => ['index', 'show', 'store', 'update', 'destroy'],
        'attributes' => [
            'id' => 'int',
            'first_name' => 'string',
            'last_name' => 'string',
            'email' => 'string',
            'email_verified_at' => 'datetime',
            'updated_at' => 'datetime',
            'created_at' => 'datetime',
        ],
        'relationships' => [
            'properties' => ['kind' => 'morph_many', 'type' => 'properties', 'morph' => 'model', 'class' => 'App\\Models\\User'],
            'orders' => ['kind' => 'has_many', 'type' => 'orders', 'foreign_key' => 'user_id'],
            'services' => ['kind' => 'has_many', 'type' => 'services', 'foreign_key' => 'user_id'],
            'invoices' => ['kind' => 'has_many', 'type' => 'invoices', 'foreign_key' => 'user_id'],
            'tickets' => ['kind' => 'has_many', 'type' => 'tickets', 'foreign_key' => 'user_id'],
            'credits' => ['kind' => 'has_many', 'type' => 'credits', 'foreign_key' => 'user_id'],
            'role' => ['kind' => 'belongs_to', 'type' => 'roles', 'foreign_key' => 'role_id'],
        ],
        // With properties loaded, meta.properties maps key => value ([] when there are none).
        'meta' => static function (Model $m): array {
            if (!array_key_exists('properties', $m->rels)) {
                return [];
            }
            $map = [];
            foreach ((array) $m->rels['properties'] as $p) {
                $map[(string) $p->row['key']] = $p->row['value'];
            }
            return ['properties' => $map === [] ? [] : (object) $map];
        },
        'filters' => ['first_name', 'last_name', 'email'],
        'sorts' => ['id', 'first_name', 'last_name', 'email', 'created_at'],
        'includes' => ['properties', 'orders', 'services', 'invoices', 'tickets', 'credits', 'role'],
        'create_rules' => static fn (Request $r, array $data): array => [
            'first_name' => ['nullable', 'string', 'max:255'],
            'last_name' => ['nullable', 'string', 'max:255'],
            'email' => ['required', 'email', 'max:255', 'unique:users,email'],
            'password' => ['required', 'string', 'min:8'],
            'email_verified_at' => ['nullable', 'date'],
            'role_id' => ['nullable', 'exists:roles,id'],
        ],
        'update_rules' => static fn (Request $r, array $data, array $row): array => [
            'first_name' => ['sometimes', 'nullable', 'string', 'max:255'],
            'last_name' => ['sometimes', 'nullable', 'string', 'max:255'],
            'email' => ['sometimes', 'required', 'email', 'max:255', 'unique:users,email,' . $row['id']],
            'password' => ['sometimes', 'string', 'min:8'],
            'email_verified_at' => ['sometimes', 'nullable', 'date'],
            'role_id' => ['sometimes', 'nullable', 'exists:roles,id'],
        ],
        'saving' => static function (Request $r, array $attributes, ?array $row): array {
            if (array_key_exists('password', $attributes)) {
                $attributes['password'] = hash_password_value($attributes['password']);
            }
            return $attributes;
        },
    ];
}

function properties_resource(): array
{
    return [
        'type' => 'properties',
        'table' => 'properties',
        'class' => 'App\\Models\\Property',
        'attributes' => [
            'id' => 'int',
            'name' => 'string',
            'key' => 'string',
            'value' => 'string',
            'updated_at' => 'datetime',
            'created_at' => 'datetime',
        ],
        'relationships' => [],
    ];
}

function roles_resource(): array
{
    return [
        'type' => 'roles',
        'table' => 'roles',
        'class' => 'App\\Models\\Role',
        'attributes' => [
            'id' => 'int',
            'name' => 'string',
            'permissions' => 'json',
            'updated_at' => 'datetime',
            'created_at' => 'datetime',
        ],
        'relationships' => [],
    ];
}
