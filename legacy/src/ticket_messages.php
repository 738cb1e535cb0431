<?php

declare(strict_types=1);

/** A new message re-opens the ticket when its owner writes, and marks it replied otherwise. */
function flip_ticket_status(Request $request, array $message): void
{
    $stmt = db()->prepare('SELECT * FROM `tickets` WHERE `id` = ? LIMIT 1');
    $stmt->execute([$message['ticket_id']]);
    $ticket = $stmt->fetch(PDO::FETCH_ASSOC);
    $stmt->closeCursor();
    if ($ticket === false) {
        return;
    }
    $status = ((int) $ticket['user_id'] !== (int) $message['user_id']) ? 'replied' : 'open';
    save_changes($request, tickets_resource(), $ticket, ['status' => $status]);
}

function ticket_messages_resource(): array
{
    return [
        'type' => 'ticketMessages',
        'table' => 'ticket_messages',
        'class' => 'App\\Models\\TicketMessage',
        'route' => 'ticket-messages',
        'permission' => 'ticket_messages',
        // No update: PUT/PATCH reach a controller without that method.
        'actions' => ['index', 'show', 'store', 'destroy'],
        'attributes' => [
            'id' => 'int',
            'message' => 'string',
            'updated_at' => 'datetime',
            'created_at' => 'datetime',
        ],
        'relationships' => [
            'user' => ['kind' => 'belongs_to', 'type' => 'users', 'foreign_key' => 'user_id'],
            'ticket' => ['kind' => 'belongs_to', 'type' => 'tickets', 'foreign_key' => 'ticket_id'],
            'attachments' => ['kind' => 'has_many', 'type' => 'ticketMessageAttachments', 'foreign_key' => 'ticket_message_id'],
        ],
        'filters' => ['id', 'currency_code'],
        'sorts' => ['id', 'created_at', 'updated_at', 'currency_code'],
        'includes' => ['user', 'ticket', 'attachments'],
        'create_rules' => static fn (Request $r, array $data): array => [
            'message' => ['required', 'string', 'max:5000'],
            'user_id' => ['required', 'exists:users,id'],
            'ticket_id' => ['required', 'exists:tickets,id'],
        ],
        'created' => static function (Request $r, array $message): void {
            flip_ticket_status($r, $message);
        },
    ];
}

function ticket_attachments_resource(): array
{
    return [
        'type' => 'ticketMessageAttachments',
        'table' => 'ticket_message_attachments',
        'class' => 'App\\Models\\TicketMessageAttachment',
        'attributes' => [
            'id' => 'int',
            'uuid' => 'string',
            'filename' => 'string',
            'path' => 'string',
            'filesize' => 'int',
            'mime_type' => 'string',
            'created_at' => 'datetime',
            'updated_at' => 'datetime',
        ],
        'relationships' => [
            'message' => ['kind' => 'belongs_to', 'type' => 'ticketMessages', 'foreign_key' => 'ticket_message_id'],
        ],
    ];
}
