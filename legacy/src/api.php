<?php

declare(strict_types=1);

/*
 * The admin API controller shared by every resource: route-model binding (404 before auth),
 * API-key auth (401/403), permission (403), defaults + validation (422), then index / show /
 * store / update / destroy with their side effects and audit rows.
 */

/** @return array<string, mixed> the bound row; 404 when there is none */
function bind_model(array $def, string $value): array
{
    if ($def['type'] === 'invoices') {
        $sql = 'SELECT * FROM `invoices` WHERE `number` = ?';
        $params = [$value];
        if (is_numeric($value)) {
            $sql .= ' OR `id` = ?';
            $params[] = $value;
        }
        $sql .= ' ORDER BY (`number` = ?) DESC LIMIT 1';
        $params[] = $value;
        $stmt = db()->prepare($sql);
        $stmt->execute($params);
        $row = $stmt->fetch(PDO::FETCH_ASSOC);
        $stmt->closeCursor();
        if ($row === false) {
            throw new HttpError(404, 'No query results for model [App\\Models\\Invoice].');
        }
        return $row;
    }
    $stmt = db()->prepare('SELECT * FROM ' . qi($def['table']) . ' WHERE `id` = ? LIMIT 1');
    $stmt->execute([$value]);
    $row = $stmt->fetch(PDO::FETCH_ASSOC);
    $stmt->closeCursor();
    if ($row === false) {
        throw new HttpError(404, 'No query results for model [' . $def['class'] . '] ' . $value);
    }
    return $row;
}

function api_dispatch(Request $request, array $def, string $action, ?string $id): Response
{
    if (!in_array($action, $def['actions'], true)) {
        // The controller has no such method: the framework fails before doing anything else.
        throw new RuntimeException('The ' . $def['route'] . ' controller has no ' . $action . ' method.');
    }
    $row = $id === null ? null : bind_model($def, $id);
    $auth = api_authenticate($request);
    if ($auth instanceof Response) {
        return $auth;
    }
    return match ($action) {
        'index' => api_index($request, $def, $auth),
        'show' => api_show($request, $def, $auth, $row),
        'store' => api_store($request, $def, $auth),
        'update' => api_update($request, $def, $auth, $row),
        'destroy' => api_destroy($request, $def, $auth, $row),
    };
}

/** @param list<string> $permissions */
function api_index(Request $request, array $def, array $permissions): Response
{
    api_authorize($permissions, $def['permission'] . '.view');
    $table = $def['table'];
    [$where, $params] = build_filters($request, $table, $def['filters']);
    check_includes($request, $def['includes'], $permissions, $def['missing_relations'] ?? []);
    $order = build_sorts($request, $table, $def['sorts']);
    $sql = 'SELECT * FROM ' . qi($table);
    if ($where !== []) {
        $sql .= ' WHERE ' . implode(' AND ', $where);
    }
    if ($order !== []) {
        $sql .= ' ORDER BY ' . implode(', ', $order);
    }
    $page = simple_paginate($request, $sql, $params);
    $models = array_map(static fn (array $row): Model => new Model($def['type'], $row), $page->rows);
    load_relations($models, $def['type'], include_tree($request), true);
    return collection_document($models, $page, $request);
}

/** @param list<string> $permissions */
function api_show(Request $request, array $def, array $permissions, array $row): Response
{
    api_authorize($permissions, $def['permission'] . '.view');
    check_includes($request, $def['includes'], $permissions, $def['missing_relations'] ?? []);
    $stmt = db()->prepare('SELECT * FROM ' . qi($def['table']) . ' WHERE `id` = ? LIMIT 1');
    $stmt->execute([$row['id']]);
    $fresh = $stmt->fetch(PDO::FETCH_ASSOC);
    $stmt->closeCursor();
    if ($fresh === false) {
        throw new HttpError(404, 'No query results for model [' . $def['class'] . '] ' . $row['id']);
    }
    $model = new Model($def['type'], $fresh);
    load_relations([$model], $def['type'], include_tree($request), true);
    return single_document($model, $request);
}

/** Prepare a validated value for storage (casts applied on set). */
function storage_value(array $def, string $attribute, mixed $value): mixed
{
    $kind = $def['attributes'][$attribute] ?? ($def['casts'][$attribute] ?? null);
    if ($kind === 'datetime' || $kind === 'date') {
        return to_storage_datetime($value);
    }
    if (is_bool($value)) {
        return $value ? 1 : 0;
    }
    return $value;
}

function db_value(mixed $value): mixed
{
    if (is_bool($value)) {
        return $value ? 1 : 0;
    }
    if (is_array($value)) {
        return json_encode($value, JSON_THROW_ON_ERROR);
    }
    return $value;
}

/** @param array<string, mixed> $attributes */
function insert_row(string $table, array $attributes): int
{
    $cols = array_keys($attributes);
    $sql = 'INSERT INTO ' . qi($table) . ' (' . implode(', ', array_map('qi', $cols)) . ') VALUES ('
        . implode(', ', array_fill(0, count($cols), '?')) . ')';
    db()->prepare($sql)->execute(array_map('db_value', array_values($attributes)));
    return (int) db()->lastInsertId();
}

/** @param array<string, mixed> $attributes */
function update_row(string $table, int|string $id, array $attributes): void
{
    $sets = implode(', ', array_map(static fn (string $c): string => qi($c) . ' = ?', array_keys($attributes)));
    $params = array_map('db_value', array_values($attributes));
    $params[] = $id;
    db()->prepare('UPDATE ' . qi($table) . ' SET ' . $sets . ' WHERE `id` = ?')->execute($params);
}

/** Whether a model attribute changed (numeric strings compare by value, as the ORM does). */
function attribute_changed(mixed $new, mixed $old): bool
{
    if ($new === $old) {
        return false;
    }
    if ($new === null || $old === null) {
        return true;
    }
    if (is_numeric($new) && is_numeric($old) && !is_bool($new)) {
        return (string) $new !== (string) $old && (float) $new != (float) $old;
    }
    if (is_bool($new) || is_bool($old)) {
        return true;
    }
    return (string) $new !== (string) $old;
}

/**
 * Update a model: write only what changed (plus updated_at), audit it, and return the changes.
 *
 * @param array<string, mixed> $row current row
 * @param array<string, mixed> $attributes new values
 * @return array{0: array<string, mixed>, 1: array<string, mixed>, 2: ?string} [old, new, updated_at]
 */
function save_changes(Request $request, array $def, array $row, array $attributes, bool $auditable = true): array
{
    $old = [];
    $new = [];
    foreach ($attributes as $k => $v) {
        $kind = $def['attributes'][$k] ?? null;
        if (($kind === 'date' || $kind === 'datetime') && array_key_exists($k, $row)
            && to_storage_datetime($v) === to_storage_datetime($row[$k])) {
            continue;
        }
        if (!array_key_exists($k, $row) || attribute_changed($v, $row[$k])) {
            $old[$k] = $row[$k] ?? null;
            $new[$k] = $v;
        }
    }
    if ($new === []) {
        return [[], [], null];
    }
    $now = now_db();
    update_row($def['table'], $row['id'], $new + ['updated_at' => $now]);
    if ($auditable) {
        audit($request, 'updated', $def['class'], $row['id'], $old, $new);
    }
    return [$old, $new, $now];
}

/** @param list<string> $permissions */
function api_store(Request $request, array $def, array $permissions): Response
{
    $data = $request->all();
    foreach ($def['defaults'] ?? [] as $k => $v) {
        if (!array_key_exists($k, $data)) {
            $data[$k] = $v;
        }
    }
    api_authorize($permissions, $def['permission'] . '.create');
    $validated = validate($data, ($def['create_rules'])($request, $data));
    $attributes = [];
    foreach ($validated as $k => $v) {
        $attributes[$k] = storage_value($def, $k, $v);
    }
    if (isset($def['saving'])) {
        $attributes = ($def['saving'])($request, $attributes, null);
    }
    $extra = isset($def['creating']) ? ($def['creating'])($request, $attributes) : [];
    $now = now_db();
    $insert = $attributes + $extra + ['updated_at' => $now, 'created_at' => $now];
    $id = insert_row($def['table'], $insert);
    $insert['id'] = $id;
    audit($request, 'created', $def['class'], $id, [], $insert);
    $row = array_fill_keys(array_keys($def['attributes']), null);
    $row = $insert + $row;
    foreach ($validated as $k => $v) {
        if (!in_array($def['attributes'][$k] ?? null, ['datetime', 'date'], true) && $k !== 'password') {
            $row[$k] = $v;
        }
    }
    $raw = array_fill_keys(array_keys($attributes), true);
    if (isset($def['created'])) {
        ($def['created'])($request, $insert);
    }
    $model = new Model($def['type'], $row, $raw);
    load_relations([$model], $def['type'], include_tree($request), false);
    return single_document($model, $request, 201);
}

/** @param list<string> $permissions */
function api_update(Request $request, array $def, array $permissions, array $row): Response
{
    $data = $request->all();
    api_authorize($permissions, $def['permission'] . '.update');
    $validated = validate($data, ($def['update_rules'])($request, $data, $row));
    $attributes = [];
    foreach ($validated as $k => $v) {
        $attributes[$k] = storage_value($def, $k, $v);
    }
    if (isset($def['saving'])) {
        $attributes = ($def['saving'])($request, $attributes, $row);
    }
    $extra = isset($def['updating']) ? ($def['updating'])($request, $attributes, $row) : [];
    [$old, $new, $updatedAt] = save_changes($request, $def, $row, $attributes + $extra);
    $fresh = $attributes + $extra + $row;
    foreach ($validated as $k => $v) {
        if (!in_array($def['attributes'][$k] ?? null, ['datetime', 'date'], true) && $k !== 'password') {
            $fresh[$k] = $v;
        }
    }
    if ($updatedAt !== null) {
        $fresh['updated_at'] = $updatedAt;
    }
    if ($new !== [] && isset($def['updated'])) {
        ($def['updated'])($request, $fresh, $old, $new);
    }
    $model = new Model($def['type'], $fresh, array_fill_keys(array_keys($attributes), true));
    load_relations([$model], $def['type'], include_tree($request), false);
    return single_document($model, $request, 200);
}

/** @param list<string> $permissions */
function api_destroy(Request $request, array $def, array $permissions, array $row): Response
{
    api_authorize($permissions, $def['permission'] . '.delete');
    db()->prepare('DELETE FROM ' . qi($def['table']) . ' WHERE `id` = ?')->execute([$row['id']]);
    audit($request, 'deleted', $def['class'], $row['id'], $row, []);
    return new Response(204);
}
