<?php

declare(strict_types=1);

/*
 * Bootstrap of the legacy billing application: loads the helpers and resources, turns PHP
 * warnings into exceptions (as the framework does), routes the request and renders errors.
 */

if (!function_exists('db')) {
    require_once __DIR__ . '/db.php';
}
require_once __DIR__ . '/errors.php';
require_once __DIR__ . '/request.php';
require_once __DIR__ . '/settings.php';
require_once __DIR__ . '/dates.php';
require_once __DIR__ . '/auth.php';
require_once __DIR__ . '/query.php';
require_once __DIR__ . '/pagination.php';
require_once __DIR__ . '/jsonapi.php';
require_once __DIR__ . '/validation.php';
require_once __DIR__ . '/audit.php';
require_once __DIR__ . '/api.php';
require_once __DIR__ . '/users.php';
require_once __DIR__ . '/services.php';
require_once __DIR__ . '/orders.php';
require_once __DIR__ . '/invoices.php';
require_once __DIR__ . '/invoice_items.php';
require_once __DIR__ . '/tickets.php';
require_once __DIR__ . '/ticket_messages.php';
require_once __DIR__ . '/credits.php';
require_once __DIR__ . '/products.php';
require_once __DIR__ . '/categories.php';
require_once __DIR__ . '/login.php';
require_once __DIR__ . '/admin.php';
require_once __DIR__ . '/router.php';

/** SQLite: wait for locks instead of failing at once, and enforce foreign keys (cascades). */
function db_tune(): void
{
    try {
        if (db_driver() === 'sqlite') {
            db()->setAttribute(PDO::ATTR_TIMEOUT, 30);
            db()->exec('PRAGMA foreign_keys = ON');
        }
    } catch (Throwable $e) {
        // An unreachable database is reported by the route that needs it (e.g. /health).
        log_exception($e);
    }
}

function app_run(): void
{
    ini_set('display_errors', '0');
    ini_set('default_mimetype', '');
    set_error_handler(static function (int $no, string $message, string $file, int $line): bool {
        if (($no & (E_DEPRECATED | E_USER_DEPRECATED)) !== 0) {
            return true;
        }
        throw new ErrorException($message, 0, $no, $file, $line);
    });
    $request = null;
    try {
        $request = Request::fromGlobals();
        db_tune();
        $response = route_request($request);
    } catch (Throwable $e) {
        try {
            $response = render_error($e, $request);
        } catch (Throwable $inner) {
            log_exception($inner);
            $response = new Response(500, 'Server Error', ['Content-Type' => 'text/plain; charset=utf-8']);
        }
    }
    send_response($response, $request);
}
