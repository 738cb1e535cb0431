<?php
// One behaviour of a PHP response per ?case=, for the FastCGI codec tests against PHP-FPM.
switch ($_GET['case'] ?? '') {
    case 'stderr':
        // error_log() reaches the web server as FastCGI STDERR ("PHP message: ...")
        error_log('stderr line from ' . ($_GET['tag'] ?? 'php'));
        echo 'logged';
        break;
    case 'status':
        header('Status: 404 Not Found');
        echo 'not here';
        break;
    case 'response-code':
        http_response_code(418);
        echo 'teapot';
        break;
    case 'location':
        // PHP adds "Status: 302" itself; resetting the code to 200 leaves Location alone
        header('Location: /elsewhere');
        http_response_code(200);
        break;
    case 'cookies':
        setcookie('first', '1');
        setcookie('second', '2', ['path' => '/app', 'httponly' => true]);
        header('Set-Cookie: third=3', false);
        echo 'three cookies';
        break;
    case 'fatal':
        undefined_function_called_here();
        break;
    case 'large':
        // $_GET['mb'] MiB of a repeating 64-byte line, written in 64 KiB pieces
        $line = str_repeat('0123456789abcdef', 4);
        $piece = str_repeat($line, 1024);
        header('Content-Type: application/octet-stream');
        for ($i = 0; $i < 16 * (int) $_GET['mb']; $i++) {
            echo $piece;
        }
        break;
    default:
        http_response_code(400);
        echo 'unknown case';
}
