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
    case 'sleep':
        sleep((int) $_GET['s']);
        echo 'awake';
        break;
    case 'sink':
        // the body read in 1 MiB pieces: its length and hash, whatever its size
        $in = fopen('php://input', 'rb');
        $hash = hash_init('sha256');
        $length = 0;
        while (!feof($in)) {
            $piece = fread($in, 1024 * 1024);
            $length += strlen($piece);
            hash_update($hash, $piece);
        }
        header('Content-Type: application/json');
        echo json_encode(['length' => $length, 'sha256' => hash_final($hash)]);
        break;
    case 'upload':
        // multipart: each file's name, size and hash, and the other fields
        $files = [];
        foreach ($_FILES as $field => $file) {
            $files[$field] = [
                'name' => $file['name'],
                'size' => $file['size'],
                'error' => $file['error'],
                'sha256' => $file['error'] === 0 ? hash_file('sha256', $file['tmp_name']) : '',
            ];
        }
        header('Content-Type: application/json');
        echo json_encode(['files' => $files, 'post' => $_POST]);
        break;
    case 'moved':
        header('Location: https://example.test/new?from=php', true, 301);
        break;
    default:
        http_response_code(400);
        echo 'unknown case';
}
