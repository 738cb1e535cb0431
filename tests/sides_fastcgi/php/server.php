<?php
// Echoes what PHP received: $_SERVER, the request headers and the body's length and hash, as
// JSON, and the pid of the worker that ran it.
$body = file_get_contents('php://input');
header('Content-Type: application/json');
echo json_encode([
    'server' => $_SERVER,
    'headers' => getallheaders(),
    'body_length' => strlen($body),
    'body_sha256' => hash('sha256', $body),
    'pid' => getmypid(),
], JSON_UNESCAPED_SLASHES | JSON_INVALID_UTF8_SUBSTITUTE);
