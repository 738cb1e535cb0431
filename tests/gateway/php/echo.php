<?php
// Router script for `php -S`: reports what the request looked like on arrival, and answers with
// whatever the query asks for, so tests can compare both ends of the gateway point by point.
//
//   status=N            answer with status N (204 and 304 send no body)
//   header[]=Name:value add a response header (repeatable; same names kept)
//   cookies=N           N Set-Cookie headers: c0=v0 ... c{N-1}=v{N-1}
//   redirect=PATH       302 to http://<this server's own address>PATH (absolute, at itself)
//   redirect_host=PATH  302 to http://<the Host it was sent>PATH
//   stream_mb=N         N MiB of "0123456789abcdef" repeated, flushed 64 KiB at a time (chunked)
//   gzip=1              the report gzip-encoded, Content-Encoding: gzip
//   sleep=S             wait S seconds (float) before answering
//   hop=1               add hop-by-hop response headers that must not reach the client

$q = $_GET;
if (isset($q['sleep'])) {
    usleep((int) ((float) $q['sleep'] * 1000000));
}
$status = isset($q['status']) ? (int) $q['status'] : 200;
http_response_code($status);
foreach ((array) ($q['header'] ?? []) as $line) {
    header($line, false);
}
for ($i = 0; $i < (int) ($q['cookies'] ?? 0); $i++) {
    header("Set-Cookie: c$i=v$i; Path=/; HttpOnly", false);
}
if (!empty($q['hop'])) {
    header('Connection: X-Custom-Hop');
    header('X-Custom-Hop: dropped');
    header('Keep-Alive: timeout=5');
    header('Proxy-Agent: php');
    header('Trailer: X-Checksum');
}
if (isset($q['redirect'])) {
    header('Location: http://127.0.0.1:' . $_SERVER['SERVER_PORT'] . $q['redirect'], true, 302);
    exit;
}
if (isset($q['redirect_host'])) {
    header('Location: http://' . $_SERVER['HTTP_HOST'] . $q['redirect_host'], true, 302);
    exit;
}
if ($status === 204 || $status === 304) {
    exit;
}
if (isset($q['stream_mb'])) {
    header('Content-Type: application/octet-stream');
    $block = str_repeat('0123456789abcdef', 4096);  // 64 KiB
    $blocks = (int) $q['stream_mb'] * 16;
    for ($i = 0; $i < $blocks; $i++) {
        echo $block;
        flush();
    }
    exit;
}

// the request body, streamed through a hash so a large upload costs no memory here either
$hash = hash_init('sha256');
$length = 0;
$in = fopen('php://input', 'rb');
while (!feof($in)) {
    $chunk = fread($in, 65536);
    if ($chunk === false || $chunk === '') {
        break;
    }
    hash_update($hash, $chunk);
    $length += strlen($chunk);
}
$headers = [];
foreach (getallheaders() as $name => $value) {
    $headers[] = [$name, $value];
}
$files = [];
foreach ($_FILES as $field => $file) {
    $files[$field] = [
        'name' => $file['name'],
        'size' => $file['size'],
        'sha256' => hash_file('sha256', $file['tmp_name']),
    ];
}
$report = json_encode([
    'method' => $_SERVER['REQUEST_METHOD'],
    'uri' => $_SERVER['REQUEST_URI'],
    'query' => $_SERVER['QUERY_STRING'] ?? '',
    'headers' => $headers,
    'body_sha256' => hash_final($hash),
    'body_length' => $length,
    'post' => $_POST,
    'files' => $files,
    'server_port' => $_SERVER['SERVER_PORT'],
], JSON_UNESCAPED_SLASHES);
header('Content-Type: application/json');
if (!empty($q['gzip'])) {
    header('Content-Encoding: gzip');
    echo gzencode($report);
} else {
    echo $report;
}
