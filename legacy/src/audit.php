<?php

declare(strict_types=1);

/**
 * One row in `audits` for a create, update or delete of an auditable model. Timestamps are not
 * audited; the values keep the types the model held (raw client input on writes).
 *
 * @param array<string, mixed> $old
 * @param array<string, mixed> $new
 */
function audit(Request $request, string $event, string $class, int|string $id, array $old, array $new): void
{
    foreach (['created_at', 'updated_at'] as $ts) {
        unset($old[$ts], $new[$ts]);
    }
    $now = now_db();
    $ua = $request->header('user-agent');
    $url = $request->fullUrl();
    // Changes made through an admin URL (the admin API included) are tagged "admin".
    $tags = str_contains($url, '/admin') ? 'admin' : null;
    $stmt = db()->prepare(
        'INSERT INTO `audits` (`user_type`, `user_id`, `event`, `auditable_type`, `auditable_id`, `old_values`, '
        . '`new_values`, `url`, `ip_address`, `user_agent`, `tags`, `created_at`, `updated_at`) '
        . 'VALUES (NULL, NULL, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)'
    );
    $stmt->execute([
        $event,
        $class,
        $id,
        json_encode($old === [] ? [] : $old, JSON_THROW_ON_ERROR),
        json_encode($new === [] ? [] : $new, JSON_THROW_ON_ERROR),
        $url,
        $request->ip(),
        $ua === null ? null : mb_substr($ua, 0, 1023),
        $tags,
        $now,
        $now,
    ]);
}
