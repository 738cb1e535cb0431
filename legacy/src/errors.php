<?php

declare(strict_types=1);

/** An error with an HTTP status: rendered as JSON or as an HTML page depending on Accept. */
class HttpError extends RuntimeException
{
    /** @param array<string, string> $headers */
    public function __construct(public int $status, string $message = '', public array $headers = [])
    {
        parent::__construct($message);
    }
}

/** Validation failure: 422 JSON for clients that expect JSON, otherwise a redirect back. */
final class ValidationFailed extends RuntimeException
{
    /** @param array<string, list<string>> $errors */
    public function __construct(public array $errors)
    {
        $all = [];
        foreach ($errors as $messages) {
            foreach ($messages as $m) {
                $all[] = $m;
            }
        }
        $message = 'The given data was invalid.';
        if ($all !== []) {
            $message = (string) array_shift($all);
            $count = count($all);
            if ($count > 0) {
                $message .= ' (and ' . $count . ' more ' . ($count === 1 ? 'error' : 'errors') . ')';
            }
        }
        parent::__construct($message);
    }
}

/** A response ready to be sent. */
final class Response
{
    /** @param array<string, string|list<string>> $headers */
    public function __construct(public int $status, public string $body = '', public array $headers = [])
    {
    }
}

function json_response(mixed $data, int $status = 200, string $type = 'application/json', int $flags = 0): Response
{
    $json = json_encode($data, $flags | JSON_THROW_ON_ERROR);
    return new Response($status, $json, ['Content-Type' => $type]);
}

function redirect_response(string $url, int $status = 302): Response
{
    $e = htmlspecialchars($url, ENT_QUOTES, 'UTF-8');
    $html = "<!DOCTYPE html>\n<html>\n    <head>\n        <meta charset=\"UTF-8\" />\n"
        . "        <meta http-equiv=\"refresh\" content=\"0;url='{$e}'\" />\n\n"
        . "        <title>Redirecting to {$e}</title>\n    </head>\n    <body>\n"
        . "        Redirecting to <a href=\"{$e}\">{$e}</a>.\n    </body>\n</html>";
    return new Response($status, $html, ['Location' => $url, 'Content-Type' => 'text/html; charset=UTF-8']);
}

const HTTP_TITLES = [
    400 => 'Bad Request',
    401 => 'Unauthorized',
    402 => 'Payment Required',
    403 => 'Forbidden',
    404 => 'Not Found',
    405 => 'Method Not Allowed',
    419 => 'Page Expired',
    422 => 'Unprocessable Content',
    429 => 'Too Many Requests',
    500 => 'Server Error',
    503 => 'Service Unavailable',
];

function html_error_page(int $status, string $message = ''): Response
{
    $title = HTTP_TITLES[$status] ?? 'Error';
    // The 403 page shows the reason; the other pages show the standard title only.
    $shown = ($status === 403 && $message !== '') ? $message : $title;
    $t = htmlspecialchars($title, ENT_QUOTES, 'UTF-8');
    $s = htmlspecialchars($shown, ENT_QUOTES, 'UTF-8');
    $html = <<<HTML
<!DOCTYPE html>
<html lang="en">
    <head>
        <meta charset="utf-8">
        <meta name="viewport" content="width=device-width, initial-scale=1">
        <title>{$t}</title>
        <style>
            body { font-family: ui-sans-serif, system-ui, sans-serif; background: #f3f4f6; color: #374151; }
            .box { display: flex; align-items: center; justify-content: center; min-height: 100vh; }
            .code { padding: 0 1rem; border-right: 1px solid #9ca3af; font-size: 1.125rem; }
            .msg { margin-left: 1rem; font-size: 1.125rem; text-transform: uppercase; }
        </style>
    </head>
    <body>
        <div class="box">
            <div class="code">{$status}</div>
            <div class="msg">{$s}</div>
        </div>
    </body>
</html>
HTML;
    return new Response($status, $html, ['Content-Type' => 'text/html; charset=UTF-8']);
}

/** Turn any throwable into the response the framework's exception handler would give. */
function render_error(Throwable $e, ?Request $request): Response
{
    $wantsJson = $request !== null && $request->expectsJson();
    if ($e instanceof ValidationFailed) {
        if ($wantsJson) {
            return json_response(['message' => $e->getMessage(), 'errors' => $e->errors], 422);
        }
        $back = $request?->header('referer');
        $target = ($back !== null && $back !== '') ? $back : ($request !== null ? $request->schemeAndHost() : '/');
        return redirect_response($target);
    }
    if ($e instanceof HttpError) {
        $status = $e->status;
        $message = $e->getMessage();
        $headers = $e->headers;
    } else {
        log_exception($e);
        $status = 500;
        $message = 'Server Error';
        $headers = [];
    }
    if ($wantsJson) {
        $r = json_response(['message' => $message], $status, 'application/json', JSON_PRETTY_PRINT | JSON_UNESCAPED_SLASHES);
    } else {
        $r = html_error_page($status, $message);
    }
    $r->headers = $headers + $r->headers;
    return $r;
}

function log_exception(Throwable $e): void
{
    error_log(sprintf(
        '[legacy] %s: %s in %s:%d',
        $e::class,
        $e->getMessage(),
        $e->getFile(),
        $e->getLine()
    ));
}
