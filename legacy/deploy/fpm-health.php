<?php

declare(strict_types=1);

// A health check of PHP-FPM with no web server in front of it: one FastCGI request, sent the way
// the gateway sends it, for PATH through the front controller (../public/index.php, beside this
// file); exit 0 when PHP answers 200, 1 otherwise.
//
//   php fpm-health.php tcp://127.0.0.1:9000 /health
//   php fpm-health.php unix:///run/php/php-fpm.sock /health
//
// docker-compose.yml's legacy service runs it as its healthcheck.

[$self, $address, $path] = $argv + [null, 'tcp://127.0.0.1:9000', '/health'];
$script = realpath(__DIR__ . '/../public/index.php');

function record(int $type, string $content): string
{
    $padding = (8 - strlen($content) % 8) % 8;
    return pack('CCnnCx', 1, $type, 1, strlen($content), $padding) . $content . str_repeat("\0", $padding);
}

function pair(string $name, string $value): string
{
    $length = fn (string $s): string => strlen($s) < 128 ? chr(strlen($s)) : pack('N', strlen($s) | 0x80000000);
    return $length($name) . $length($value) . $name . $value;
}

$params = [
    'SCRIPT_FILENAME' => $script, 'SCRIPT_NAME' => '/index.php', 'DOCUMENT_URI' => '/index.php',
    'DOCUMENT_ROOT' => dirname($script), 'REQUEST_URI' => $path, 'QUERY_STRING' => '',
    'REQUEST_METHOD' => 'GET', 'SERVER_PROTOCOL' => 'HTTP/1.1', 'GATEWAY_INTERFACE' => 'CGI/1.1',
    'REMOTE_ADDR' => '127.0.0.1', 'SERVER_NAME' => 'localhost', 'REDIRECT_STATUS' => '200',
];
$encoded = implode('', array_map('pair', array_keys($params), $params));
$request = record(1, pack('nCx5', 1, 0)) . record(4, $encoded) . record(4, '') . record(5, '');

$socket = @stream_socket_client($address, $errno, $error, 3.0);
if ($socket === false) {
    fwrite(STDERR, "fpm-health: cannot reach $address: $error\n");
    exit(1);
}
stream_set_timeout($socket, 5);
fwrite($socket, $request);
$stdout = '';
while (($header = fread($socket, 8)) !== false && strlen($header) === 8) {
    $head = unpack('Cversion/Ctype/nid/nlength/Cpadding', $header);
    $content = $head['length'] + $head['padding'] > 0 ? stream_get_contents($socket, $head['length'] + $head['padding']) : '';
    if ($head['type'] === 6) {
        $stdout .= substr($content, 0, $head['length']);
    } elseif ($head['type'] === 3) {
        break;
    }
}
fclose($socket);
$end = strpos($stdout, "\r\n\r\n");
$status = preg_match('/^Status: (\d{3})/mi', $end === false ? '' : substr($stdout, 0, $end), $m) ? (int) $m[1] : 200;
if ($end === false || $status !== 200) {
    fwrite(STDERR, "fpm-health: $path answered " . ($end === false ? 'no CGI head' : $status) . "\n");
    exit(1);
}
exit(0);
