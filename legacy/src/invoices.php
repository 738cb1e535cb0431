<?php

declare(strict_types=1);

/**
 * Take the next invoice number: the `invoice_number` setting is locked (SELECT … FOR UPDATE on
 * MariaDB, an immediate write transaction on SQLite), incremented, and formatted with
 * `invoice_number_padding` and `invoice_number_format`.
 */
function next_invoice_number(Request $request): string
{
    $pdo = db();
    $sqlite = db_driver() === 'sqlite';
    if ($sqlite) {
        $pdo->exec('BEGIN IMMEDIATE');
    } else {
        $pdo->beginTransaction();
    }
    try {
        $stmt = $pdo->prepare('SELECT `id`, `value` FROM `settings` WHERE `key` = ? LIMIT 1' . ($sqlite ? '' : ' FOR UPDATE'));
        $stmt->execute(['invoice_number']);
        $setting = $stmt->fetch(PDO::FETCH_ASSOC);
        $stmt->closeCursor();
        $number = (int) (($setting === false ? null : $setting['value']) ?? 0);
        $number++;
        $now = now_db();
        if ($setting !== false) {
            if ((string) $setting['value'] !== (string) $number) {
                $pdo->prepare('UPDATE `settings` SET `value` = ?, `updated_at` = ? WHERE `id` = ?')
                    ->execute([(string) $number, $now, $setting['id']]);
                audit($request, 'updated', 'App\\Models\\Setting', $setting['id'], ['value' => $setting['value']], ['value' => $number]);
            }
        } else {
            $pdo->prepare('INSERT INTO `settings` (`key`, `value`, `created_at`, `updated_at`) VALUES (?, ?, ?, ?)')
                ->execute(['invoice_number', (string) $number, $now, $now]);
            $id = (int) $pdo->lastInsertId();
            audit($request, 'created', 'App\\Models\\Setting', $id, [], ['key' => 'invoice_number', 'value' => $number, 'id' => $id]);
        }
        if ($sqlite) {
            $pdo->exec('COMMIT');
        } else {
            $pdo->commit();
        }
    } catch (Throwable $e) {
        if ($sqlite) {
            $pdo->exec('ROLLBACK');
        } elseif ($pdo->inTransaction()) {
            $pdo->rollBack();
        }
        throw $e;
    }
    $padding = (int) setting('invoice_number_padding', 1);
    $formatted = (string) setting('invoice_number_format', '{number}');
    $now = new DateTimeImmutable('now', app_timezone());
    return str_replace(
        ['{number}', '{year}', '{month}', '{day}'],
        [str_pad((string) $number, max(0, $padding), '0', STR_PAD_LEFT), $now->format('Y'), $now->format('m'), $now->format('d')],
        $formatted
    );
}

/**
 * Renew a service paid through an invoice: the next due date is one billing period after the
 * current expiry (or after now when it has none or is not active); free and one-time plans have
 * none. The service becomes active.
 */
function renew_service(Request $request, array $service): void
{
    $stmt = db()->prepare('SELECT * FROM `plans` WHERE `id` = ?');
    $stmt->execute([$service['plan_id']]);
    $plan = $stmt->fetch(PDO::FETCH_ASSOC);
    $stmt->closeCursor();
    if ($plan === false) {
        throw new RuntimeException('Attempt to read property "type" on null');
    }
    $expires = null;
    if (!in_array($plan['type'], ['one-time', 'free'], true)) {
        $tz = app_timezone();
        $base = ($service['expires_at'] === null || $service['status'] !== 'active')
            ? new DateTimeImmutable('now', $tz)
            : parse_datetime($service['expires_at'])->setTime(0, 0, 0);
        $unit = (string) $plan['billing_unit'];
        $period = (int) $plan['billing_period'];
        $expires = $base->modify('+' . $period . ' ' . $unit)->format('Y-m-d H:i:s');
    }
    save_changes($request, services_resource(), $service, ['expires_at' => $expires, 'status' => 'active']);
}

/**
 * A paid invoice: Service items renew their service; Credit items add their price to the user's
 * credit in the invoice currency.
 */
function process_paid_invoice(Request $request, array $invoice): void
{
    $stmt = db()->prepare('SELECT * FROM `invoice_items` WHERE `invoice_id` = ? ORDER BY `id` ASC');
    $stmt->execute([$invoice['id']]);
    foreach ($stmt->fetchAll(PDO::FETCH_ASSOC) as $item) {
        if (($item['reference_type'] ?? null) === 'App\\Models\\Service') {
            $find = db()->prepare('SELECT * FROM `services` WHERE `id` = ?');
            $find->execute([$item['reference_id']]);
            $service = $find->fetch(PDO::FETCH_ASSOC);
            $find->closeCursor();
            if ($service !== false) {
                renew_service($request, $service);
            }
            continue;
        }
        if (($item['reference_type'] ?? null) !== 'App\\Models\\Credit') {
            continue;
        }
        $price = decimal_str($item['price']);
        $find = db()->prepare('SELECT * FROM `credits` WHERE `user_id` = ? AND `currency_code` = ? ORDER BY `id` ASC LIMIT 1');
        $find->execute([$invoice['user_id'], $invoice['currency_code']]);
        $credit = $find->fetch(PDO::FETCH_ASSOC);
        $find->closeCursor();
        if ($credit !== false) {
            $amount = (float) $credit['amount'] + (float) $price;
            save_changes($request, credits_resource(), $credit, ['amount' => $amount]);
        } else {
            $now = now_db();
            $attrs = ['currency_code' => $invoice['currency_code'], 'amount' => $price, 'user_id' => $invoice['user_id']];
            $id = insert_row('credits', $attrs + ['updated_at' => $now, 'created_at' => $now]);
            audit($request, 'created', 'App\\Models\\Credit', $id, [], $attrs + ['id' => $id]);
        }
    }
}

function invoices_resource(): array
{
    return [
        'type' => 'invoices',
        'table' => 'invoices',
        'class' => 'App\\Models\\Invoice',
        'route' => 'invoices',
        'permission' => 'invoices',
        'actions' => ['index', 'show', 'store', 'update', 'destroy'],
        'attributes' => [
            'id' => 'int',
            'status' => 'string',
            'currency_code' => 'string',
            'due_at' => 'date',
            'updated_at' => 'datetime',
            'created_at' => 'datetime',
        ],
        'relationships' => [
            'user' => ['kind' => 'belongs_to', 'type' => 'users', 'foreign_key' => 'user_id'],
            'items' => ['kind' => 'has_many', 'type' => 'invoiceItems', 'foreign_key' => 'invoice_id'],
        ],
        'filters' => ['id', 'currency_code', 'user_id', 'status'],
        'sorts' => ['id', 'created_at', 'updated_at', 'currency_code'],
        'includes' => ['items', 'user'],
        'defaults' => ['status' => 'pending'],
        'create_rules' => static fn (Request $r, array $data): array => [
            'user_id' => ['required', 'exists:users,id'],
            'currency_code' => ['required', 'string', 'exists:currencies,code'],
            'due_at' => ['nullable', 'date'],
            'status' => ['required', 'string', 'in:pending,paid,cancelled'],
        ],
        'update_rules' => static fn (Request $r, array $data, array $row): array => [
            'user_id' => ['sometimes', 'required', 'exists:users,id'],
            'currency_code' => ['sometimes', 'required', 'string', 'exists:currencies,code'],
            'due_at' => ['sometimes', 'nullable', 'date'],
            'status' => ['sometimes', 'required', 'string', 'in:pending,paid,cancelled'],
        ],
        'creating' => static function (Request $r, array $attributes): array {
            if (setting('invoice_proforma', false)) {
                return [];
            }
            return ['number' => next_invoice_number($r)];
        },
        'updating' => static function (Request $r, array $attributes, array $row): array {
            $becomesPaid = array_key_exists('status', $attributes) && $attributes['status'] === 'paid'
                && $row['status'] !== 'paid';
            if ($becomesPaid && ($row['number'] === null || $row['number'] === '')) {
                return ['number' => next_invoice_number($r)];
            }
            return [];
        },
        'updated' => static function (Request $r, array $invoice, array $old, array $new): void {
            if (array_key_exists('status', $new) && $new['status'] === 'paid') {
                process_paid_invoice($r, $invoice);
            }
        },
    ];
}
