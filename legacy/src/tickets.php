<?php

declare(strict_types=1);

/** The `in:` rule for departments: the `ticket_departments` setting (a JSON array). */
function department_rule(): string
{
    $departments = setting('ticket_departments', []);
    $list = is_array($departments) ? array_map('strval', $departments) : [];
    return 'in:' . implode(',', $list);
}

function tickets_resource(): array
{
    return [
        'type' => 'tickets',
        'table' => 'tickets',
        'class' => 'App\\Models\\Ticket',
        'route' => 'tickets',
        'permission' => 'tickets',
        'actions' => ['index', 'show', 'store', 'update', 'destroy'],
        'attributes' => [
            'id' => 'int',
            'subject' => 'string',
            'status' => 'string',
            'priority' => 'string',
            'assigned_to' => 'int',
            'user_id' => 'int',
            'department' => 'string',
            'updated_at' => 'datetime',
            'created_at' => 'datetime',
        ],
        'relationships' => [
            'messages' => ['kind' => 'has_many', 'type' => 'ticketMessages', 'foreign_key' => 'ticket_id'],
            'user' => ['kind' => 'belongs_to', 'type' => 'users', 'foreign_key' => 'user_id'],
            // The model's relation is assignedTo; loading "assigned_to" fails.
            'assigned_to' => ['kind' => 'missing'],
        ],
        'missing_relations' => ['assigned_to'],
        'filters' => ['id', 'currency_code', 'user_id', 'status', 'priority', 'department'],
        'sorts' => ['id', 'created_at', 'updated_at', 'currency_code', 'status', 'priority', 'department'],
        'includes' => ['messages', 'user', 'assigned_to'],
        'defaults' => ['priority' => 'medium', 'status' => 'open'],
        'create_rules' => static fn (Request $r, array $data): array => [
            'subject' => ['required', 'string', 'max:255'],
            'user_id' => ['required', 'exists:users,id'],
            'department' => ['nullable', 'string', department_rule()],
            'priority' => ['required', 'string', 'in:low,medium,high'],
            'status' => ['required', 'string', 'in:open,closed,replied'],
        ],
        'update_rules' => static fn (Request $r, array $data, array $row): array => [
            'subject' => ['sometimes', 'required', 'string', 'max:255'],
            'user_id' => ['sometimes', 'required', 'exists:users,id'],
            'department' => ['sometimes', 'nullable', 'string', department_rule()],
            'priority' => ['sometimes', 'required', 'string', 'in:low,medium,high'],
            'status' => ['sometimes', 'required', 'string', 'in:open,closed,replied'],
        ],
    ];
}
