<?php

declare(strict_types=1);

/*
 * JSON:API documents: resource objects (string id, camelCase type, attributes in declared order,
 * relationships only for requested includes), `included` de-duplicated by (type, id), sparse
 * fieldsets through `fields[type]=a,b`, and relation loading in one query per relation.
 */

/** A row of a resource, with the relations loaded for the requested includes. */
final class Model
{
    /**
     * @param array<string, mixed> $row
     * @param array<string, true> $raw attributes holding the client's raw input (write echoes)
     * @param array<string, Model|list<Model>|null> $rels
     */
    public function __construct(
        public string $type,
        public array $row,
        public array $raw = [],
        public array $rels = [],
    ) {
    }
}

/** @return array<string, mixed> the definition of a resource type */
function resource_def(string $type): array
{
    static $defs = null;
    if ($defs === null) {
        $defs = [];
        foreach (resource_definitions() as $def) {
            $defs[$def['type']] = $def;
        }
    }
    if (!isset($defs[$type])) {
        throw new LogicException("Unknown resource type {$type}");
    }
    return $defs[$type];
}

/** @return list<array<string, mixed>> */
function resource_definitions(): array
{
    return [
        users_resource(), properties_resource(), roles_resource(),
        services_resource(), coupons_resource(), service_upgrades_resource(),
        orders_resource(), invoices_resource(), invoice_items_resource(),
        tickets_resource(), ticket_messages_resource(), ticket_attachments_resource(),
        credits_resource(), products_resource(), plans_resource(), prices_resource(),
        currencies_resource(), categories_resource(),
    ];
}

/** Attribute types that go through a model cast even in write echoes. */
const CAST_TYPES = ['datetime', 'date', 'decimal_cast', 'json', 'int_cast'];

function attribute_value(string $kind, mixed $value, bool $raw): mixed
{
    if ($raw && !in_array($kind, CAST_TYPES, true)) {
        return $value;
    }
    if ($kind === 'null') {
        return null;
    }
    if ($value === null) {
        return null;
    }
    return match ($kind) {
        'int', 'int_cast' => is_numeric($value) ? (int) $value : $value,
        'string' => is_string($value) ? $value : (is_float($value) || is_int($value) ? (string) $value : $value),
        'decimal', 'decimal_cast' => decimal_str($value),
        'datetime' => format_datetime($value),
        'date' => format_date($value),
        'json' => is_string($value) ? json_decode($value, true) : $value,
        default => $value,
    };
}

// ---------------------------------------------------------------------------------------------
// Include trees and sparse fieldsets (as the resource layer reads them: query string only).

/** @return array<string, array<mixed>> nested include tree */
function include_tree(Request $request): array
{
    $include = $request->query['include'] ?? null;
    if (is_array($include)) {
        throw new HttpError(400, 'The include parameter must be a comma seperated list of relationship paths.');
    }
    $tree = [];
    foreach (explode(',', (string) $include) as $path) {
        if ($path === '') {
            continue;
        }
        $node = &$tree;
        foreach (explode('.', $path) as $segment) {
            $node[$segment] ??= [];
            $node = &$node[$segment];
        }
        unset($node);
    }
    return $tree;
}

/** @return list<string>|null attributes requested for a type, or null for all */
function sparse_fields(Request $request, string $type): ?array
{
    $fields = $request->query['fields'] ?? [];
    if (is_string($fields)) {
        throw new HttpError(400, 'The fields parameter must be an array of resource types.');
    }
    if (!is_array($fields) || !array_key_exists($type, $fields)) {
        return null;
    }
    $list = $fields[$type] ?? '';
    if (!is_string($list)) {
        throw new HttpError(400, 'The fields parameter value must be a comma seperated list of attributes.');
    }
    return array_values(array_filter(explode(',', $list), static fn (string $v): bool => $v !== ''));
}

// ---------------------------------------------------------------------------------------------
// Relation loading.

/**
 * @param list<mixed> $values
 * @return list<array<string, mixed>>
 */
function fetch_where_in(string $table, string $column, array $values, string $extraWhere = '', array $extraParams = [], string $order = '`id` ASC'): array
{
    $values = array_values(array_unique(array_filter($values, static fn ($v): bool => $v !== null), SORT_REGULAR));
    if ($values === []) {
        return [];
    }
    $rows = [];
    foreach (array_chunk($values, 500) as $chunk) {
        $sql = 'SELECT * FROM ' . qi($table) . ' WHERE ' . qi($column) . ' IN (' . implode(',', array_fill(0, count($chunk), '?')) . ')'
            . ($extraWhere !== '' ? ' AND ' . $extraWhere : '') . ' ORDER BY ' . $order;
        $stmt = db()->prepare($sql);
        $stmt->execute(array_merge($chunk, $extraParams));
        foreach ($stmt->fetchAll(PDO::FETCH_ASSOC) as $row) {
            $rows[] = $row;
        }
    }
    return $rows;
}

/**
 * Load the requested relations of `$models` (all of one type), recursively.
 *
 * @param list<Model> $models
 * @param array<string, array<mixed>> $tree
 * @param bool $eager true when the query builder eager-loads (index/show)
 */
function load_relations(array $models, string $type, array $tree, bool $eager = true): void
{
    if ($models === [] || $tree === []) {
        return;
    }
    $def = resource_def($type);
    foreach ($def['relationships'] as $name => $rel) {
        if (!array_key_exists($name, $tree)) {
            continue;
        }
        $related = load_relation($models, $rel, $name, $eager);
        $byType = [];
        foreach ($related as $m) {
            $byType[$m->type][spl_object_id($m)] = $m;
        }
        foreach ($byType as $relType => $list) {
            load_relations(array_values($list), $relType, $tree[$name], $eager);
        }
    }
}

/**
 * @param list<Model> $models
 * @param array<string, mixed> $rel
 * @return list<Model> every related model loaded
 */
function load_relation(array $models, array $rel, string $name, bool $eager): array
{
    $kind = $rel['kind'];
    $all = [];
    switch ($kind) {
        case 'belongs_to':
            $target = resource_def($rel['type']);
            $ownerKey = $rel['owner_key'] ?? 'id';
            $rows = fetch_where_in($target['table'], $ownerKey, array_map(static fn (Model $m) => $m->row[$rel['foreign_key']] ?? null, $models), '', [], qi($ownerKey) . ' ASC');
            $index = [];
            foreach ($rows as $row) {
                $index[(string) $row[$ownerKey]] = new Model($rel['type'], $row);
            }
            foreach ($models as $m) {
                $fk = $m->row[$rel['foreign_key']] ?? null;
                $m->rels[$name] = $fk === null ? null : ($index[(string) $fk] ?? null);
            }
            return array_values($index);
        case 'has_many':
        case 'morph_many':
            $target = resource_def($rel['type']);
            $extra = '';
            $params = [];
            if ($kind === 'morph_many') {
                $extra = qi($rel['morph'] . '_type') . ' = ?';
                $params[] = $rel['class'];
                $fkCol = $rel['morph'] . '_id';
            } else {
                $fkCol = $rel['foreign_key'];
            }
            $rows = fetch_where_in($target['table'], $fkCol, array_map(static fn (Model $m) => $m->row['id'], $models), $extra, $params, $rel['order'] ?? '`id` ASC');
            $groups = [];
            foreach ($rows as $row) {
                $child = new Model($rel['type'], $row);
                $groups[(string) $row[$fkCol]][] = $child;
                $all[] = $child;
            }
            foreach ($models as $m) {
                $m->rels[$name] = $groups[(string) $m->row['id']] ?? [];
            }
            return $all;
        case 'service_invoices':
            $ids = array_values(array_unique(array_map(static fn (Model $m) => $m->row['id'], $models)));
            $groups = [];
            foreach (array_chunk($ids, 500) as $chunk) {
                $sql = 'SELECT `invoices`.*, `invoice_items`.`reference_id` AS `__through_key` FROM `invoices`'
                    . ' INNER JOIN `invoice_items` ON `invoice_items`.`invoice_id` = `invoices`.`id`'
                    . ' WHERE `invoice_items`.`reference_id` IN (' . implode(',', array_fill(0, count($chunk), '?')) . ')'
                    . ' AND `invoice_items`.`reference_type` = ? ORDER BY `invoice_items`.`id` ASC';
                $stmt = db()->prepare($sql);
                $stmt->execute(array_merge($chunk, ['App\\Models\\Service']));
                foreach ($stmt->fetchAll(PDO::FETCH_ASSOC) as $row) {
                    $key = (string) $row['__through_key'];
                    unset($row['__through_key']);
                    $child = new Model('invoices', $row);
                    $groups[$key][] = $child;
                    $all[] = $child;
                }
            }
            foreach ($models as $m) {
                $m->rels[$name] = $groups[(string) $m->row['id']] ?? [];
            }
            return $all;
        case 'reference':
            $classes = [
                'App\\Models\\Service' => 'services',
                'App\\Models\\Credit' => 'credits',
                'App\\Models\\ServiceUpgrade' => 'serviceUpgrades',
            ];
            $wanted = [];
            foreach ($models as $m) {
                $class = $m->row['reference_type'] ?? null;
                if ($class === null || $class === '') {
                    continue;
                }
                if (!isset($classes[$class])) {
                    throw new RuntimeException("Class \"{$class}\" not found");
                }
                $wanted[$class][] = $m->row['reference_id'] ?? null;
            }
            $loaded = [];
            foreach ($wanted as $class => $ids) {
                $relType = $classes[$class];
                foreach (fetch_where_in(resource_def($relType)['table'], 'id', $ids) as $row) {
                    $loaded[$class][(string) $row['id']] = new Model($relType, $row);
                }
            }
            foreach ($models as $m) {
                $class = $m->row['reference_type'] ?? null;
                $id = $m->row['reference_id'] ?? null;
                $m->rels[$name] = ($class !== null && $id !== null) ? ($loaded[$class][(string) $id] ?? null) : null;
                if ($m->rels[$name] !== null) {
                    $all[] = $m->rels[$name];
                }
            }
            return $all;
        case 'missing':
            // The relation is not defined on the model: eager loading it fails; reading it later
            // from a freshly written model finds a plain column value instead.
            if ($eager) {
                throw new RuntimeException("Call to undefined relationship [{$name}].");
            }
            foreach ($models as $m) {
                if (($m->row[$name] ?? null) !== null) {
                    throw new RuntimeException('Unable to determine the id of a non-model resource.');
                }
                $m->rels[$name] = null;
            }
            return [];
    }
    throw new LogicException("Unknown relation kind {$kind}");
}

// ---------------------------------------------------------------------------------------------
// Serialisation.

/** @return array<string, mixed> */
function resource_object(Model $m, Request $request): array
{
    $def = resource_def($m->type);
    $key = $def['key'] ?? 'id';
    $out = ['id' => (string) $m->row[$key], 'type' => $def['type']];
    $fields = sparse_fields($request, $def['type']);
    $attributes = [];
    foreach ($def['attributes'] as $name => $kind) {
        if ($fields !== null && !in_array($name, $fields, true)) {
            continue;
        }
        $attributes[$name] = attribute_value($kind, $m->row[$name] ?? null, isset($m->raw[$name]));
    }
    // Always an object, even when a sparse fieldset selects nothing.
    $out['attributes'] = $attributes === [] ? new stdClass() : $attributes;
    $relationships = [];
    foreach ($def['relationships'] as $name => $rel) {
        if (!array_key_exists($name, $m->rels)) {
            continue;
        }
        $value = $m->rels[$name];
        if (is_array($value)) {
            $ids = [];
            $seen = [];
            foreach ($value as $child) {
                $ident = identifier($child);
                $k = $ident['type'] . "\0" . $ident['id'];
                if (!isset($seen[$k])) {
                    $seen[$k] = true;
                    $ids[] = $ident;
                }
            }
            $relationships[$name] = ['data' => $ids];
        } else {
            $relationships[$name] = ['data' => $value === null ? null : identifier($value)];
        }
    }
    if ($relationships !== []) {
        $out['relationships'] = $relationships;
    }
    if (isset($def['meta'])) {
        $meta = ($def['meta'])($m);
        if ($meta !== []) {
            $out['meta'] = $meta;
        }
    }
    return $out;
}

/** @return array{type: string, id: string} */
function identifier(Model $m): array
{
    $def = resource_def($m->type);
    return ['type' => $def['type'], 'id' => (string) $m->row[$def['key'] ?? 'id']];
}

/** @return list<Model> direct related resources first, then theirs, recursively */
function included_of(Model $m): array
{
    $direct = [];
    $nested = [];
    foreach ($m->rels as $value) {
        foreach (is_array($value) ? $value : [$value] as $child) {
            if ($child !== null) {
                $direct[] = $child;
            }
        }
    }
    foreach ($m->rels as $value) {
        foreach (is_array($value) ? $value : [$value] as $child) {
            if ($child !== null) {
                foreach (included_of($child) as $n) {
                    $nested[] = $n;
                }
            }
        }
    }
    return array_merge($direct, $nested);
}

/**
 * @param list<Model> $models
 * @return list<array<string, mixed>>
 */
function included_objects(array $models, Request $request): array
{
    $out = [];
    $seen = [];
    foreach ($models as $m) {
        foreach (included_of($m) as $inc) {
            $ident = identifier($inc);
            $k = $ident['type'] . "\0" . $ident['id'];
            if (isset($seen[$k])) {
                continue;
            }
            $seen[$k] = true;
            $out[] = resource_object($inc, $request);
        }
    }
    return $out;
}

function single_document(Model $m, Request $request, int $status = 200): Response
{
    $doc = ['data' => resource_object($m, $request)];
    $included = included_objects([$m], $request);
    if ($included !== []) {
        $doc['included'] = $included;
    }
    return json_response($doc, $status, 'application/vnd.api+json');
}

/** @param list<Model> $models */
function collection_document(array $models, Page $page, Request $request): Response
{
    $data = [];
    foreach ($models as $m) {
        $data[] = resource_object($m, $request);
    }
    $info = $page->info();
    $doc = ['data' => $data, 'links' => $info['links'], 'meta' => $info['meta']];
    $included = included_objects($models, $request);
    if ($included !== []) {
        $doc['included'] = $included;
    }
    return json_response($doc, 200, 'application/vnd.api+json');
}
