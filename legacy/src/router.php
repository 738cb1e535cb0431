<?php

declare(strict_types=1);

/** The verbs in the order the framework lists them in a 405 message. */
const ROUTER_VERBS = ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS'];

/**
 * Every route: [methods, regex on the decoded path, handler(Request, list<string> $args)].
 *
 * @return list<array{0: list<string>, 1: string, 2: callable}>
 */
function route_table(): array
{
    $routes = [
        [['GET', 'HEAD'], '#^/$#', static fn (Request $r): Response => redirect_response($r->schemeAndHost() . '/admin')],
        [['GET', 'HEAD'], '#^/login$#', 'login_form'],
        [['POST'], '#^/login$#', 'login_submit'],
        [['GET', 'HEAD', 'POST'], '#^/logout$#', 'logout'],
        [['GET', 'HEAD'], '#^/admin$#', 'admin_page'],
        [['GET', 'HEAD'], '#^/health$#', 'health'],
    ];
    foreach (resource_definitions() as $def) {
        if (!isset($def['route'])) {
            continue;
        }
        $base = '/api/v1/admin/' . preg_quote($def['route'], '#');
        $type = $def['type'];
        $call = static fn (string $action): Closure => static function (Request $r, array $args) use ($type, $action): Response {
            return api_dispatch($r, resource_def($type), $action, $args[0] ?? null);
        };
        $routes[] = [['GET', 'HEAD'], '#^' . $base . '$#', $call('index')];
        $routes[] = [['POST'], '#^' . $base . '$#', $call('store')];
        $routes[] = [['GET', 'HEAD'], '#^' . $base . '/([^/]+)$#', $call('show')];
        $routes[] = [['PUT', 'PATCH'], '#^' . $base . '/([^/]+)$#', $call('update')];
        $routes[] = [['DELETE'], '#^' . $base . '/([^/]+)$#', $call('destroy')];
    }
    return $routes;
}

/** CORS preflight on api/* (framework defaults: every origin, method and header; max age 0). */
function cors_preflight(Request $request): ?Response
{
    $method = $request->header('access-control-request-method');
    if ($request->method !== 'OPTIONS' || $request->header('origin') === null || $method === null
        || !str_starts_with($request->path, '/api/')) {
        return null;
    }
    $headers = [
        'Access-Control-Allow-Origin' => '*',
        'Access-Control-Allow-Methods' => strtoupper($method),
        'Access-Control-Max-Age' => '0',
        'Vary' => 'Access-Control-Request-Method, Access-Control-Request-Headers',
    ];
    $requested = $request->header('access-control-request-headers');
    if ($requested !== null) {
        $headers['Access-Control-Allow-Headers'] = $requested;
    }
    return new Response(204, '', $headers);
}

function route_request(Request $request): Response
{
    $preflight = cors_preflight($request);
    if ($preflight !== null) {
        return $preflight;
    }
    $path = rtrim($request->path, '/');
    if ($path === '') {
        $path = '/';
    }
    $method = $request->method === 'HEAD' ? 'HEAD' : $request->method;
    $candidates = [];
    foreach (route_table() as [$methods, $regex, $handler]) {
        if (preg_match($regex, $path, $m)) {
            $candidates[] = [$methods, $handler, array_slice($m, 1)];
        }
    }
    if ($candidates === []) {
        throw new HttpError(404, 'The route ' . $request->routePath() . ' could not be found.');
    }
    foreach ($candidates as [$methods, $handler, $args]) {
        if (in_array($method, $methods, true)) {
            return $handler($request, $args);
        }
    }
    $supported = [];
    foreach ($candidates as [$methods]) {
        $supported = array_merge($supported, $methods);
    }
    $others = array_values(array_filter(ROUTER_VERBS, static fn (string $v): bool => $v !== $method && in_array($v, $supported, true)));
    if ($method === 'OPTIONS') {
        return new Response(200, '', ['Allow' => implode(',', $others)]);
    }
    throw new HttpError(
        405,
        sprintf('The %s method is not supported for route %s. Supported methods: %s.', $method, $request->routePath(), implode(', ', $others)),
        ['Allow' => implode(', ', $others)]
    );
}

function send_response(Response $response, ?Request $request): void
{
    http_response_code($response->status);
    $headers = $response->headers;
    if ($response->status === 204 || $response->status === 304) {
        unset($headers['Content-Type']);
        $response->body = '';
    }
    $headers += ['Cache-Control' => 'no-cache, private'];
    if ($request !== null && $request->header('origin') !== null && str_starts_with($request->path, '/api/')) {
        $headers['Access-Control-Allow-Origin'] = '*';
    }
    header_remove('X-Powered-By');
    foreach ($headers as $name => $value) {
        foreach ((array) $value as $i => $v) {
            header($name . ': ' . $v, $i === 0);
        }
    }
    if (!isset($headers['Content-Type'])) {
        header_remove('Content-Type');
    }
    if ($request !== null && $request->method === 'HEAD') {
        return;
    }
    echo $response->body;
}
