<?php

declare(strict_types=1);

/** The admin landing page: the 20 most recent invoices. Requires a signed-in session. */
function admin_page(Request $request): Response
{
    web_session($request);
    $userId = $_SESSION['user_id'] ?? null;
    if (!is_int($userId)) {
        return redirect_response($request->schemeAndHost() . '/login');
    }
    $stmt = db()->prepare('SELECT `email` FROM `users` WHERE `id` = ?');
    $stmt->execute([$userId]);
    $me = $stmt->fetchColumn();
    if ($me === false) {
        $_SESSION = [];
        return redirect_response($request->schemeAndHost() . '/login');
    }
    $rows = db()->query(
        'SELECT `invoices`.`id`, `invoices`.`number`, `invoices`.`status`, `invoices`.`due_at`, `invoices`.`currency_code`, '
        . '`users`.`email` FROM `invoices` LEFT JOIN `users` ON `users`.`id` = `invoices`.`user_id` '
        . 'ORDER BY `invoices`.`created_at` DESC, `invoices`.`id` DESC LIMIT 20'
    )->fetchAll(PDO::FETCH_ASSOC);
    $trs = '';
    foreach ($rows as $row) {
        $due = $row['due_at'] === null ? '' : substr((string) $row['due_at'], 0, 10);
        $trs .= '<tr data-invoice-id="' . e($row['id']) . '"><td>' . e($row['number'] ?? '') . '</td><td>'
            . e($row['email'] ?? '') . '</td><td>' . e($row['status']) . '</td><td>' . e($due) . '</td></tr>';
    }
    $body = '<h1>Recent invoices</h1><p>Signed in as ' . e($me)
        . ' · <form method="POST" action="/logout" style="display:inline"><button type="submit">Sign out</button></form></p>'
        . '<table><thead><tr><th>Number</th><th>User</th><th>Status</th><th>Due</th></tr></thead><tbody>'
        . $trs . '</tbody></table>';
    return html_page('Admin', $body);
}

function health(Request $request): Response
{
    try {
        db()->query('SELECT 1')->fetchColumn();
    } catch (Throwable $e) {
        log_exception($e);
        return json_response(['status' => 'error'], 503);
    }
    return json_response(['status' => 'ok']);
}
