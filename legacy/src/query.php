<?php

declare(strict_types=1);

/*
 * Query-string filters, sorts and includes, with the query builder's semantics:
 * partial case-insensitive LIKE filters (comma = OR, "true"/"false" coerced, empty skipped),
 * `-` for descending sorts, and allow-lists that answer 400 with the allowed names.
 */

/** Relation name → the resource whose view permission gates it. */
const MAPPED_INCLUDES = [
    'messages' => 'ticket_messages',
    'role' => 'roles',
    'user' => 'users',
    'ticket' => 'tickets',
    'plans.prices' => 'products',
];

/** Resources that have an `admin.<resource>.view` permission defined. */
const DEFINED_VIEW_PERMISSIONS = [
    'users', 'invoices', 'invoice_items', 'tickets', 'orders', 'services', 'coupons', 'credits',
    'ticket_messages', 'products', 'categories', 'properties', 'roles',
];

/**
 * Keep an include when the key may view the related resource, or when no such permission exists.
 *
 * @param list<string> $includes
 * @param list<string> $permissions
 * @return list<string>
 */
function gate_includes(array $includes, array $permissions): array
{
    $allowed = [];
    foreach ($includes as $include) {
        $relation = MAPPED_INCLUDES[$include] ?? $include;
        if (in_array('admin.' . $relation . '.view', $permissions, true)
            || !in_array($relation, DEFINED_VIEW_PERMISSIONS, true)) {
            $allowed[] = $include;
        }
    }
    return $allowed;
}

/**
 * Expand allowed includes into every accepted name: each path prefix, plus `<name>Count` and
 * `<name>Exists` for single-segment relations.
 *
 * @param list<string> $includes
 * @return list<string>
 */
function allowed_include_names(array $includes): array
{
    $names = [];
    foreach ($includes as $include) {
        if ($include === '') {
            continue;
        }
        if (str_ends_with($include, 'Count') || str_ends_with($include, 'Exists')) {
            $names[] = $include;
            continue;
        }
        $path = '';
        foreach (explode('.', $include) as $segment) {
            $path = $path === '' ? $segment : $path . '.' . $segment;
            $names[] = $path;
            if (!str_contains($path, '.')) {
                $names[] = $path . 'Count';
                $names[] = $path . 'Exists';
            }
        }
    }
    return array_values(array_unique($names));
}

/** @return list<mixed> items of a comma list or array parameter, falsy entries dropped */
function list_param(mixed $value): array
{
    if ($value === null) {
        return [];
    }
    $parts = is_array($value) ? array_values($value) : explode(',', (string) $value);
    return array_values(array_filter($parts, static fn ($p): bool => (bool) $p));
}

function filter_value(mixed $value): mixed
{
    if (empty($value)) {
        return $value;
    }
    if (is_array($value)) {
        return array_map('filter_value', $value);
    }
    $value = (string) $value;
    if (str_contains($value, ',')) {
        return explode(',', $value);
    }
    if ($value === 'true') {
        return true;
    }
    if ($value === 'false') {
        return false;
    }
    return $value;
}

/** @return array<string, mixed> requested filters by name */
function requested_filters(Request $request): array
{
    $filters = $request->input('filter', []);
    if (!is_array($filters)) {
        return [];
    }
    $out = [];
    foreach ($filters as $name => $value) {
        $out[(string) $name] = filter_value($value);
    }
    return $out;
}

function like_escape(string $value): string
{
    return str_replace(['\\', '_', '%'], ['\\\\', '\\_', '\\%'], $value);
}

function qi(string $identifier): string
{
    return '`' . str_replace('`', '``', $identifier) . '`';
}

/** One partial-match clause; binds its parameter. */
function partial_clause(string $table, string $column, mixed $value, array &$params): string
{
    if (is_array($value)) {
        throw new TypeError('Array to string conversion in a filter value');
    }
    $params[] = '%' . like_escape(mb_strtolower((string) $value, 'UTF-8')) . '%';
    $escape = db_driver() === 'sqlite' ? " ESCAPE '\\'" : '';
    return 'LOWER(' . qi($table) . '.' . qi($column) . ') LIKE ?' . $escape;
}

/**
 * Filters: validate against the allow-list (400), then build WHERE clauses.
 *
 * @param list<string> $allowed
 * @return array{0: list<string>, 1: list<mixed>}
 */
function build_filters(Request $request, string $table, array $allowed): array
{
    $requested = requested_filters($request);
    $unknown = array_values(array_diff(array_map('strval', array_keys($requested)), $allowed));
    if ($unknown !== []) {
        throw new HttpError(400, 'Requested filter(s) `' . implode(', ', $unknown)
            . '` are not allowed. Allowed filter(s) are `' . implode(', ', $allowed) . '`.');
    }
    $where = [];
    $params = [];
    foreach ($allowed as $name) {
        if (!array_key_exists($name, $requested)) {
            continue;
        }
        $value = $requested[$name];
        if (is_array($value)) {
            $value = $value === [] ? null : $value;
        }
        if ($value === null) {
            continue;
        }
        if (is_array($value)) {
            $items = array_filter($value, static fn ($item): bool => $item != '');
            if ($items === []) {
                continue;
            }
            $ors = [];
            foreach ($items as $item) {
                $ors[] = partial_clause($table, $name, $item, $params);
            }
            $where[] = '(' . implode(' OR ', $ors) . ')';
        } else {
            $where[] = partial_clause($table, $name, $value, $params);
        }
    }
    return [$where, $params];
}

/**
 * Includes: validate against the gated allow-list (400), then check the requested fields of
 * included relations (400) and relation counts of unknown relations (500).
 *
 * @param list<string> $includes the endpoint's declared includes
 * @param list<string> $permissions
 * @param list<string> $brokenRelations relations that do not exist on the model
 * @return list<string> requested includes
 */
function check_includes(Request $request, array $includes, array $permissions, array $brokenRelations = []): array
{
    $requested = array_map('strval', list_param($request->input('include')));
    $allowedNames = allowed_include_names(gate_includes($includes, $permissions));
    $unknown = array_values(array_diff($requested, $allowedNames));
    if ($unknown !== []) {
        $message = 'Requested include(s) `' . implode(', ', $unknown) . '` are not allowed. ';
        $message .= $allowedNames !== []
            ? 'Allowed include(s) are `' . implode(', ', $allowedNames) . '`.'
            : 'There are no allowed includes.';
        throw new HttpError(400, $message);
    }
    $fields = null;
    foreach ($requested as $include) {
        foreach (['Count', 'Exists'] as $suffix) {
            if (str_ends_with($include, $suffix)) {
                $relation = substr($include, 0, -strlen($suffix));
                if (in_array($relation, $brokenRelations, true)) {
                    throw new RuntimeException("Call to undefined relationship [{$relation}].");
                }
                continue 2;
            }
        }
        $fields ??= requested_table_fields($request);
        $path = '';
        foreach (explode('.', $include) as $segment) {
            $path = $path === '' ? $segment : $path . '.' . $segment;
            $table = relation_table_guess($path);
            if (array_key_exists($table, $fields)) {
                throw new HttpError(400, 'Requested field(s) `' . implode(', ', $fields[$table])
                    . '` are not allowed (yet). If you want to allow these fields, please make sure to call '
                    . "the QueryBuilder's `allowedFields` method before the `allowedIncludes` method.");
            }
        }
    }
    return $requested;
}

/** The table name the query builder guesses for a relation path: snake case, plural. */
function relation_table_guess(string $relation): string
{
    $plural = [
        'user' => 'users', 'role' => 'roles', 'ticket' => 'tickets', 'order' => 'orders',
        'coupon' => 'coupons', 'product' => 'products', 'category' => 'categories',
        'reference' => 'references', 'invoice' => 'invoices', 'gateway' => 'gateways',
        'parent' => 'parents', 'assigned_to' => 'assigned_tos',
    ];
    return $plural[$relation] ?? $relation;
}

/**
 * `fields` as the query builder reads it (query or body; a string is split on commas).
 *
 * @return array<string, list<string>>
 */
function requested_table_fields(Request $request): array
{
    $data = $request->input('fields');
    if ($data === null) {
        return [];
    }
    $perTable = is_string($data) ? explode(',', $data) : (array) $data;
    $fields = [];
    foreach ($perTable as $model => $tableFields) {
        if (is_array($tableFields)) {
            throw new TypeError('Array to string conversion in fields');
        }
        $tableFields = (string) $tableFields;
        if (is_numeric($model)) {
            $model = str_contains($tableFields, '.') ? substr($tableFields, 0, (int) strrpos($tableFields, '.')) : '_';
        }
        $model = (string) $model;
        $list = array_map(static function (string $f): string {
            $pos = strrpos($f, '.');
            return $pos === false ? $f : substr($f, $pos + 1);
        }, explode(',', $tableFields));
        $fields[$model] = array_merge($fields[$model] ?? [], $list);
    }
    return $fields;
}

const MONEY_COLUMNS = ['price', 'amount', 'setup_fee', 'value'];

/**
 * Sorts: validate (400), then ORDER BY terms in request order.
 *
 * @param list<string> $allowed
 * @return list<string>
 */
function build_sorts(Request $request, string $table, array $allowed): array
{
    $requested = array_map('strval', list_param($request->input('sort')));
    $names = array_map(static fn (string $s): string => ltrim($s, '-'), $requested);
    $unknown = array_values(array_diff($names, $allowed));
    if ($unknown !== []) {
        throw new HttpError(400, 'Requested sort(s) `' . implode(', ', $unknown)
            . '` is not allowed. Allowed sort(s) are `' . implode(', ', $allowed) . '`.');
    }
    $order = [];
    foreach ($requested as $sort) {
        $desc = $sort[0] === '-';
        $name = ltrim($sort, '-');
        $column = qi($table) . '.' . qi($name);
        // SQLite keeps money as two-decimal text: sort it by amount, as MariaDB's DECIMAL does
        if (in_array($name, MONEY_COLUMNS, true)) {
            $column = 'CAST(' . $column . ' AS DECIMAL(17,2))';
        }
        $order[] = $column . ($desc ? ' DESC' : ' ASC');
    }
    return $order;
}
