<?php

declare(strict_types=1);

/** Start the PHP session with an HttpOnly, SameSite=Lax cookie. */
function web_session(Request $request): void
{
    if (session_status() === PHP_SESSION_ACTIVE) {
        return;
    }
    session_name('PHPSESSID');
    session_set_cookie_params([
        'lifetime' => 0,
        'path' => '/',
        'secure' => $request->scheme() === 'https',
        'httponly' => true,
        'samesite' => 'Lax',
    ]);
    ini_set('session.use_strict_mode', '1');
    session_start();
    if (!isset($_SESSION['_token']) || !is_string($_SESSION['_token'])) {
        $_SESSION['_token'] = bin2hex(random_bytes(20));
    }
}

function e(mixed $value): string
{
    return htmlspecialchars((string) $value, ENT_QUOTES, 'UTF-8');
}

function html_page(string $title, string $body, int $status = 200): Response
{
    $html = "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n<title>" . e($title)
        . "</title>\n<style>body{font-family:system-ui,sans-serif;margin:2rem;color:#1f2937}"
        . "table{border-collapse:collapse}td,th{border:1px solid #d1d5db;padding:.3rem .6rem;text-align:left}"
        . ".flash{color:#b91c1c}</style>\n</head>\n<body>\n" . $body . "\n</body>\n</html>\n";
    return new Response($status, $html, ['Content-Type' => 'text/html; charset=UTF-8']);
}

function login_form(Request $request): Response
{
    web_session($request);
    $flash = $_SESSION['_flash'] ?? null;
    unset($_SESSION['_flash']);
    $old = $_SESSION['_old_email'] ?? '';
    unset($_SESSION['_old_email']);
    $body = '<h1>Sign in</h1>'
        . ($flash !== null ? '<p class="flash" role="alert">' . e($flash) . '</p>' : '')
        . '<form method="POST" action="/login">'
        . '<input type="hidden" name="_token" value="' . e($_SESSION['_token']) . '">'
        . '<p><label>Email <input type="email" name="email" value="' . e($old) . '" required></label></p>'
        . '<p><label>Password <input type="password" name="password" required></label></p>'
        . '<p><button type="submit">Sign in</button></p>'
        . '</form>';
    return html_page('Sign in', $body);
}

function login_submit(Request $request): Response
{
    web_session($request);
    $token = $request->body['_token'] ?? ($request->header('x-csrf-token') ?? null);
    if (!is_string($token) || !hash_equals((string) $_SESSION['_token'], $token)) {
        return html_error_page(419);
    }
    $email = $request->body['email'] ?? null;
    $password = $request->body['password'] ?? null;
    $user = false;
    if (is_string($email) && is_string($password)) {
        $stmt = db()->prepare('SELECT `id`, `password` FROM `users` WHERE `email` = ? LIMIT 1');
        $stmt->execute([$email]);
        $user = $stmt->fetch(PDO::FETCH_ASSOC);
        $stmt->closeCursor();
    }
    $base = $request->schemeAndHost();
    if ($user === false || !password_verify((string) $password, (string) $user['password'])) {
        $_SESSION['_flash'] = 'These credentials do not match our records.';
        $_SESSION['_old_email'] = is_string($email) ? $email : '';
        return redirect_response($base . '/login');
    }
    session_regenerate_id(true);
    $_SESSION['user_id'] = (int) $user['id'];
    $_SESSION['_token'] = bin2hex(random_bytes(20));
    return redirect_response($base . '/admin');
}

function logout(Request $request): Response
{
    web_session($request);
    $_SESSION = [];
    session_regenerate_id(true);
    session_destroy();
    return redirect_response($request->schemeAndHost() . '/login');
}
