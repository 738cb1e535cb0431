<?php

declare(strict_types=1);

/*
 * Simple pagination: no total count, fetch one row more than a page to know whether a next
 * page exists. `per_page` keeps the type it arrived with (a string from the query string).
 */

final class Page
{
    /**
     * @param list<array<string, mixed>> $rows
     */
    public function __construct(
        public array $rows,
        public int $currentPage,
        public mixed $perPage,
        public bool $hasMore,
        public string $path,
    ) {
    }

    public function url(int $page): string
    {
        if ($page <= 0) {
            $page = 1;
        }
        return $this->path . (str_contains($this->path, '?') ? '&' : '?') . http_build_query(['page' => $page], '', '&', PHP_QUERY_RFC3986);
    }

    /** @return array{links: array<string, string>, meta: array<string, mixed>} */
    public function info(): array
    {
        $count = count($this->rows);
        $from = $count > 0 ? ($this->currentPage - 1) * $this->perPage + 1 : null;
        $to = $count > 0 ? $from + $count - 1 : null;
        $links = ['first' => $this->url(1)];
        if ($this->currentPage > 1) {
            $links['prev'] = $this->url($this->currentPage - 1);
        }
        if ($this->hasMore) {
            $links['next'] = $this->url($this->currentPage + 1);
        }
        return [
            'links' => $links,
            'meta' => [
                'current_page' => $this->currentPage,
                'current_page_url' => $this->url($this->currentPage),
                'from' => $from,
                'path' => $this->path,
                'per_page' => $this->perPage,
                'to' => $to,
            ],
        ];
    }
}

function current_page(Request $request): int
{
    $page = $request->input('page');
    if (!is_array($page) && filter_var($page, FILTER_VALIDATE_INT) !== false && (int) $page >= 1) {
        return (int) $page;
    }
    return 1;
}

/** `per_page` as given (default 15; falsy values such as "0" fall back to 15). */
function requested_per_page(Request $request): mixed
{
    $perPage = $request->input('per_page');
    if ($perPage === null) {
        $perPage = 15;
    }
    return $perPage ?: 15;
}

/**
 * Run a paginated SELECT. `$sql` must not contain LIMIT/OFFSET.
 *
 * @param list<mixed> $params
 */
function simple_paginate(Request $request, string $sql, array $params): Page
{
    $page = current_page($request);
    $perPage = requested_per_page($request);
    // The same arithmetic as the framework: a non-numeric per_page fails here (500).
    $offset = max(0, (int) (($page - 1) * $perPage));
    $limit = $perPage + 1;
    if ($limit >= 0) {
        $sql .= ' LIMIT ' . (int) $limit;
        if ($offset > 0) {
            $sql .= ' OFFSET ' . $offset;
        }
    } elseif ($offset > 0) {
        $sql .= db_driver() === 'sqlite' ? ' LIMIT -1 OFFSET ' . $offset : ' LIMIT 18446744073709551615 OFFSET ' . $offset;
    }
    $stmt = db()->prepare($sql);
    $stmt->execute($params);
    $rows = $stmt->fetchAll(PDO::FETCH_ASSOC);
    $hasMore = count($rows) > $perPage;
    $rows = array_slice($rows, 0, (int) $perPage);
    return new Page($rows, $page, $perPage, $hasMore, $request->url());
}
