<?php

declare(strict_types=1);

/** The model classes a reference may name, and their tables. */
const REFERENCE_TABLES = [
    'App\\Models\\Service' => 'services',
    'App\\Models\\Credit' => 'credits',
    'App\\Models\\ServiceUpgrade' => 'service_upgrades',
    'App\\Models\\User' => 'users',
    'App\\Models\\Order' => 'orders',
    'App\\Models\\Invoice' => 'invoices',
    'App\\Models\\InvoiceItem' => 'invoice_items',
    'App\\Models\\Ticket' => 'tickets',
    'App\\Models\\TicketMessage' => 'ticket_messages',
    'App\\Models\\Product' => 'products',
    'App\\Models\\Category' => 'categories',
    'App\\Models\\Plan' => 'plans',
    'App\\Models\\Price' => 'prices',
    'App\\Models\\Coupon' => 'coupons',
    'App\\Models\\Property' => 'properties',
    'App\\Models\\Role' => 'roles',
];

function reference_rule(Request $r): Closure
{
    return static function (string $attribute, mixed $value, callable $fail) use ($r): void {
        $type = $r->input('reference_type');
        if ($type && !$value) {
            $fail('The reference_id field is required when reference_type is provided.');
        }
        if ($type && $value) {
            $table = is_string($type) ? (REFERENCE_TABLES[ltrim($type, '\\')] ?? null) : null;
            if ($table === null) {
                $fail('The reference_type must be a valid class name.');
            } else {
                $stmt = db()->prepare('SELECT COUNT(*) FROM ' . qi($table) . ' WHERE `id` = ?');
                $stmt->execute([$value]);
                if ((int) $stmt->fetchColumn() === 0) {
                    $fail('The selected reference_id is invalid for the given reference_type.');
                }
            }
        }
    };
}

function invoice_items_resource(): array
{
    return [
        'type' => 'invoiceItems',
        'table' => 'invoice_items',
        'class' => 'App\\Models\\InvoiceItem',
        'route' => 'invoice-items',
        'permission' => 'invoice_items',
        'actions' => ['index', 'show', 'store', 'update', 'destroy'],
        'attributes' => [
            'id' => 'int',
            'description' => 'string',
            'quantity' => 'int',
            'price' => 'decimal_cast',
            'reference_type' => 'string',
            'reference_id' => 'int',
            'updated_at' => 'datetime',
            'created_at' => 'datetime',
        ],
        'relationships' => [
            'reference' => ['kind' => 'reference'],
            'invoice' => ['kind' => 'belongs_to', 'type' => 'invoices', 'foreign_key' => 'invoice_id'],
        ],
        'filters' => ['id', 'quantity', 'price', 'reference_type', 'reference_id'],
        'sorts' => ['id', 'created_at', 'updated_at', 'quantity', 'price'],
        'includes' => ['gateway', 'reference', 'invoice'],
        // A default status is merged before validation and then dropped (no such rule).
        'defaults' => ['status' => 'pending'],
        'create_rules' => static fn (Request $r, array $data): array => [
            'invoice_id' => ['required', 'exists:invoices,id'],
            'description' => ['required', 'string', 'max:255'],
            'price' => ['required', 'numeric', 'min:0'],
            'quantity' => ['required', 'integer', 'min:1'],
            'reference_type' => ['nullable', 'string', 'max:255'],
            'reference_id' => ['nullable', 'integer', reference_rule($r)],
        ],
        // invoice_id has no rule on update, so it cannot be changed.
        'update_rules' => static fn (Request $r, array $data, array $row): array => [
            'description' => ['sometimes', 'string', 'max:255'],
            'quantity' => ['sometimes', 'integer', 'min:1'],
            'price' => ['sometimes', 'numeric', 'min:0'],
            'reference_type' => ['sometimes', 'string', 'max:100'],
            'reference_id' => ['sometimes', 'integer', reference_rule($r)],
        ],
    ];
}
