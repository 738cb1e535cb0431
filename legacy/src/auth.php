<?php

declare(strict_types=1);

/**
 * Admin API key authentication: bearer token → sha256 → enabled `api_keys` row, admin type,
 * optional IP allow-list. Returns the key's permission list.
 *
 * @return list<string>|Response a Response for the missing-bearer case (always JSON)
 */
function api_authenticate(Request $request): array|Response
{
    $token = $request->bearerToken();
    if ($token === null || $token === '') {
        return json_response(['error' => 'The request is missing a valid bearer token.'], 401);
    }
    $stmt = db()->prepare('SELECT * FROM `api_keys` WHERE `token` = ? AND `enabled` = ? LIMIT 1');
    $stmt->execute([hash('sha256', $token), 1]);
    $key = $stmt->fetch(PDO::FETCH_ASSOC);
    $stmt->closeCursor();
    if ($key === false) {
        throw new HttpError(401, 'The provided API key is invalid or has been disabled.');
    }
    $ips = $key['ip_addresses'] === null ? null : json_decode((string) $key['ip_addresses'], true);
    if ($key['type'] !== 'admin' || (!empty($ips) && !in_array($request->ip(), (array) $ips, true))) {
        throw new HttpError(403, 'You do not have permission to access this resource.');
    }
    // Quiet save: no audit row, no events; the timestamps still move.
    $now = now_db();
    db()->prepare('UPDATE `api_keys` SET `last_used_at` = ?, `updated_at` = ? WHERE `id` = ?')
        ->execute([$now, $now, $key['id']]);
    $perms = $key['permissions'] === null ? [] : json_decode((string) $key['permissions'], true);
    return array_values(array_filter(is_array($perms) ? $perms : [], 'is_string'));
}

/** FormRequest authorisation: the exact permission string, no wildcards. */
function api_authorize(array $permissions, string $permission): void
{
    if (!in_array('admin.' . $permission, $permissions, true)) {
        throw new HttpError(403, 'This action is unauthorized.');
    }
}
