<?php

declare(strict_types=1);

/**
 * The incoming HTTP request, normalised the way the framework's global middleware leaves it:
 * strings trimmed (except passwords) and empty strings turned into null, in the query string
 * and in the body alike.
 */
final class Request
{
    public string $method;
    /** Raw (still percent-encoded) path, e.g. "/api/v1/admin/users/1". */
    public string $rawPath;
    /** Decoded path used for routing. */
    public string $path;
    /** @var array<string, mixed> */
    public array $query;
    /** @var array<string, mixed> */
    public array $body;
    /** @var array<string, string> lower-case header name => value */
    public array $headers;
    public string $rawBody;
    /** @var array<string, string> route parameters */
    public array $params = [];

    private const TRIM_EXCEPT = ['password', 'password_confirmation', 'current_password'];

    public static function fromGlobals(): self
    {
        $r = new self();
        $r->method = strtoupper((string) ($_SERVER['REQUEST_METHOD'] ?? 'GET'));
        $uri = (string) ($_SERVER['REQUEST_URI'] ?? '/');
        $q = strpos($uri, '?');
        $r->rawPath = $q === false ? $uri : substr($uri, 0, $q);
        if ($r->rawPath === '' || $r->rawPath[0] !== '/') {
            $r->rawPath = '/' . $r->rawPath;
        }
        $r->path = rawurldecode($r->rawPath);
        $r->headers = self::readHeaders();
        $r->rawBody = (string) file_get_contents('php://input');
        $r->query = self::clean($_GET);
        $r->body = self::clean($r->parseBody());
        return $r;
    }

    /** @return array<string, string> */
    private static function readHeaders(): array
    {
        $headers = [];
        foreach ($_SERVER as $key => $value) {
            if (!is_string($value)) {
                continue;
            }
            if (str_starts_with($key, 'HTTP_')) {
                $headers[strtolower(str_replace('_', '-', substr($key, 5)))] = $value;
            } elseif ($key === 'CONTENT_TYPE' || $key === 'CONTENT_LENGTH') {
                $headers[strtolower(str_replace('_', '-', $key))] = $value;
            }
        }
        if (!isset($headers['authorization'])) {
            if (isset($_SERVER['REDIRECT_HTTP_AUTHORIZATION']) && is_string($_SERVER['REDIRECT_HTTP_AUTHORIZATION'])) {
                $headers['authorization'] = $_SERVER['REDIRECT_HTTP_AUTHORIZATION'];
            } elseif (function_exists('getallheaders')) {
                foreach ((array) getallheaders() as $name => $value) {
                    if (strtolower((string) $name) === 'authorization') {
                        $headers['authorization'] = (string) $value;
                    }
                }
            }
        }
        return $headers;
    }

    public function isJson(): bool
    {
        $type = strtolower($this->header('content-type') ?? '');
        return str_contains($type, '/json') || str_contains($type, '+json');
    }

    /** @return array<mixed> */
    private function parseBody(): array
    {
        if ($this->isJson()) {
            if ($this->rawBody === '') {
                return [];
            }
            $decoded = json_decode($this->rawBody, true);
            return is_array($decoded) ? $decoded : ($decoded === null ? [] : [$decoded]);
        }
        if ($this->method === 'POST') {
            return $_POST;
        }
        $type = strtolower($this->header('content-type') ?? '');
        if (in_array($this->method, ['PUT', 'PATCH', 'DELETE'], true)
            && str_starts_with($type, 'application/x-www-form-urlencoded')) {
            $data = [];
            parse_str($this->rawBody, $data);
            return $data;
        }
        return [];
    }

    /**
     * @param array<mixed> $data
     * @return array<mixed>
     */
    private static function clean(array $data, string $prefix = ''): array
    {
        $out = [];
        foreach ($data as $key => $value) {
            $full = $prefix === '' ? (string) $key : $prefix . '.' . $key;
            if (is_array($value)) {
                $out[$key] = self::clean($value, $full);
                continue;
            }
            if (is_string($value)) {
                if (!in_array($full, self::TRIM_EXCEPT, true)) {
                    $trimmed = preg_replace('~^[\s\x{FEFF}\x{200B}\x{200E}]+|[\s\x{FEFF}\x{200B}\x{200E}]+$~u', '', $value);
                    $value = $trimmed ?? trim($value);
                }
                if ($value === '') {
                    $value = null;
                }
            }
            $out[$key] = $value;
        }
        return $out;
    }

    public function header(string $name): ?string
    {
        return $this->headers[strtolower($name)] ?? null;
    }

    /**
     * Everything the client sent: the body wins over the query string (as `$request->all()`).
     *
     * @return array<mixed>
     */
    public function all(): array
    {
        if ($this->isJson() || !in_array($this->method, ['GET', 'HEAD'], true)) {
            return $this->body + $this->query;
        }
        return $this->query;
    }

    public function has(string $key): bool
    {
        return array_key_exists($key, $this->all());
    }

    public function input(string $key, mixed $default = null): mixed
    {
        $all = $this->all();
        return array_key_exists($key, $all) ? $all[$key] : $default;
    }

    public function bearerToken(): ?string
    {
        $header = $this->header('authorization') ?? '';
        $position = strripos($header, 'Bearer ');
        if ($position === false) {
            return null;
        }
        $token = substr($header, $position + 7);
        return str_contains($token, ',') ? (string) strstr($token, ',', true) : $token;
    }

    /** @return list<string> accepted media types, best first */
    public function acceptableContentTypes(): array
    {
        $accept = $this->header('accept');
        if ($accept === null || trim($accept) === '') {
            return [];
        }
        $items = [];
        $index = 0;
        foreach (explode(',', $accept) as $part) {
            $part = trim($part);
            if ($part === '') {
                continue;
            }
            $bits = array_map('trim', explode(';', $part));
            $type = array_shift($bits);
            $q = 1.0;
            foreach ($bits as $bit) {
                if (preg_match('/^q\s*=\s*([0-9.]+)$/i', $bit, $m)) {
                    $q = (float) $m[1];
                }
            }
            $items[] = [$type, $q, $index++];
        }
        usort($items, static fn (array $a, array $b): int => $b[1] <=> $a[1] ?: $a[2] <=> $b[2]);
        return array_map(static fn (array $i): string => (string) $i[0], $items);
    }

    public function expectsJson(): bool
    {
        $types = $this->acceptableContentTypes();
        $ajax = strtolower($this->header('x-requested-with') ?? '') === 'xmlhttprequest';
        $pjax = $this->header('x-pjax') !== null;
        $acceptsAny = $types === [] || $types[0] === '*/*' || $types[0] === '*';
        if ($ajax && !$pjax && $acceptsAny) {
            return true;
        }
        if ($types === []) {
            return false;
        }
        $first = strtolower($types[0]);
        return str_contains($first, '/json') || str_contains($first, '+json');
    }

    private function trustedProxy(): bool
    {
        $proxies = setting('trusted_proxies', []);
        if (!is_array($proxies) || $proxies === []) {
            return false;
        }
        $remote = (string) ($_SERVER['REMOTE_ADDR'] ?? '');
        return in_array('*', $proxies, true) || in_array($remote, $proxies, true);
    }

    public function ip(): string
    {
        $remote = (string) ($_SERVER['REMOTE_ADDR'] ?? '127.0.0.1');
        if ($this->trustedProxy() && ($xff = $this->header('x-forwarded-for')) !== null) {
            $ips = array_values(array_filter(array_map('trim', explode(',', $xff)), 'strlen'));
            if ($ips !== []) {
                return $ips[count($ips) - 1];
            }
        }
        return $remote;
    }

    public function scheme(): string
    {
        if ($this->trustedProxy() && ($proto = $this->header('x-forwarded-proto')) !== null) {
            return strtolower(trim(explode(',', $proto)[0])) === 'https' ? 'https' : 'http';
        }
        $https = $_SERVER['HTTPS'] ?? '';
        return ($https !== '' && strtolower((string) $https) !== 'off') ? 'https' : 'http';
    }

    /** scheme://host[:port] as the framework builds it from the request. */
    public function schemeAndHost(): string
    {
        $scheme = $this->scheme();
        $host = null;
        if ($this->trustedProxy() && ($fh = $this->header('x-forwarded-host')) !== null) {
            $host = trim(explode(',', $fh)[0]);
        }
        $host ??= $this->header('host');
        if ($host === null || $host === '') {
            $name = (string) ($_SERVER['SERVER_NAME'] ?? 'localhost');
            $port = (int) ($_SERVER['SERVER_PORT'] ?? 80);
        } else {
            $port = null;
            if (preg_match('/^(\[[^\]]+\]|[^:]+)(?::(\d+))?$/', $host, $m)) {
                $name = $m[1];
                if (isset($m[2]) && $m[2] !== '') {
                    $port = (int) $m[2];
                }
            } else {
                $name = $host;
            }
            $port ??= $scheme === 'https' ? 443 : 80;
        }
        $name = strtolower($name);
        if (($scheme === 'http' && $port === 80) || ($scheme === 'https' && $port === 443)) {
            return $scheme . '://' . $name;
        }
        return $scheme . '://' . $name . ':' . $port;
    }

    /** The URL without query string and without a trailing slash. */
    public function url(): string
    {
        return rtrim($this->schemeAndHost() . $this->rawPath, '/');
    }

    public function fullUrl(): string
    {
        $qs = (string) ($_SERVER['QUERY_STRING'] ?? '');
        if ($qs === '') {
            return $this->url();
        }
        $parts = [];
        foreach (explode('&', $qs) as $part) {
            if ($part !== '') {
                $parts[] = $part;
            }
        }
        sort($parts);
        return $this->url() . ($this->rawPath === '/' ? '/?' : '?') . implode('&', $parts);
    }

    /** The path without leading/trailing slashes, as used in routing messages. */
    public function routePath(): string
    {
        $p = trim($this->path, '/');
        return $p === '' ? '/' : $p;
    }
}
