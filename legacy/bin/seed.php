<?php

declare(strict_types=1);

/*
 * Recreates the billing schema and fills it with deterministic demo data.
 *
 *   php bin/seed.php --scale N [--seed S] [--timezone TZ] [--if-empty]
 *
 * The database comes from DB_DSN / DB_USER / DB_PASSWORD (see src/db.php). Every table is
 * dropped and created again. The same N and S always give the same rows, tokens and times.
 * Prints one JSON object on stdout:
 *   {"dsn": ..., "scale": N, "seed": S, "timezone": ..., "tokens": {name: plaintext, ...},
 *    "counts": {table: rows, ...}}
 * With --if-empty, a database that a seed has already filled (its settings, written last, are
 * there) is kept as it is, so that a container's start can run the seeder every time. The
 * object printed then says so:
 *   {"dsn": ..., "skipped": reason, "users": n[, "seed": S, "tokens": {...}]}
 * with the tokens only when they are the ones stored (the database was seeded with S).
 * Errors go to stderr with a non-zero exit status.
 */

require_once __DIR__ . '/../src/db.php';
require_once __DIR__ . '/../src/seed/seeder.php';

const SEED_USAGE = <<<'TXT'
usage: php bin/seed.php --scale N [--seed S] [--timezone TZ] [--if-empty]

  --scale N      number of customers (a positive integer); orders, services, invoices,
                 tickets and credits grow in proportion
  --seed S       seed of the data (a non-negative integer, default 1)
  --timezone TZ  the application's timezone setting (default UTC)
  --if-empty     keep a database a seed has already filled; without it, every table is
                 dropped and seeded again

The database is DB_DSN (default sqlite:<legacy>/var/paymenter.sqlite), DB_USER, DB_PASSWORD.
TXT;

final class UsageError extends RuntimeException
{
}

/**
 * @param list<string> $argv
 * @return array{scale: int, seed: int, timezone: string, if_empty: bool}
 */
function seed_parse_args(array $argv): array
{
    $options = ['scale' => null, 'seed' => '1', 'timezone' => 'UTC'];
    $ifEmpty = false;
    for ($i = 1; $i < count($argv); $i++) {
        $arg = $argv[$i];
        if ($arg === '-h' || $arg === '--help') {
            fwrite(STDOUT, SEED_USAGE . "\n");
            exit(0);
        }
        if ($arg === '--if-empty') {
            $ifEmpty = true;
            continue;
        }
        if (!preg_match('/^--([a-z]+)(?:=(.*))?$/s', $arg, $m) || !array_key_exists($m[1], $options)) {
            throw new UsageError("unknown argument: {$arg}");
        }
        if (isset($m[2])) {
            $options[$m[1]] = $m[2];
        } elseif ($i + 1 < count($argv)) {
            $options[$m[1]] = $argv[++$i];
        } else {
            throw new UsageError("--{$m[1]} needs a value");
        }
    }
    if ($options['scale'] === null) {
        throw new UsageError('--scale is required');
    }
    if (!preg_match('/^[0-9]+$/', $options['scale']) || (int) $options['scale'] < 1 || strlen($options['scale']) > 9) {
        throw new UsageError("--scale must be a positive integer, not '{$options['scale']}'");
    }
    if (!preg_match('/^[0-9]{1,9}$/', $options['seed'])) {
        throw new UsageError("--seed must be a non-negative integer, not '{$options['seed']}'");
    }
    if (!in_array($options['timezone'], DateTimeZone::listIdentifiers(), true)) {
        throw new UsageError("--timezone must be a timezone name such as UTC or Europe/Amsterdam, not '{$options['timezone']}'");
    }
    return [
        'scale' => (int) $options['scale'],
        'seed' => (int) $options['seed'],
        'timezone' => $options['timezone'],
        'if_empty' => $ifEmpty,
    ];
}

/** A count of a table's rows; null when the table is not there (a database never seeded). */
function seed_count(PDO $pdo, string $table): ?int
{
    try {
        return (int) $pdo->query("SELECT COUNT(*) FROM {$table}")->fetchColumn();
    } catch (PDOException) {
        return null;
    }
}

/**
 * What --if-empty prints instead of seeding a database a seed has already filled, or null to
 * seed it. The settings are written last, so a seed that was cut short is seeded again.
 *
 * @return array<string, mixed>|null
 */
function seed_kept(PDO $pdo, string $dsn, int $seed): ?array
{
    if ((seed_count($pdo, 'settings') ?? 0) === 0) {
        return null;
    }
    $users = seed_count($pdo, 'users') ?? 0;
    $report = [
        'dsn' => $dsn,
        'skipped' => "the database is seeded already ({$users} users): kept as it is "
            . '(without --if-empty every table is dropped and seeded again)',
        'users' => $users,
    ];
    $tokens = Seeder::tokens($seed);
    $stored = $pdo->prepare('SELECT COUNT(*) FROM api_keys WHERE token = ?');
    $stored->execute([hash('sha256', $tokens['admin'])]);
    if ((int) $stored->fetchColumn() > 0) {
        $report['seed'] = $seed;
        $report['tokens'] = $tokens;
    }
    return $report;
}

function seed_main(array $argv): int
{
    try {
        $args = seed_parse_args($argv);
    } catch (UsageError $e) {
        fwrite(STDERR, 'seed: ' . $e->getMessage() . "\n\n" . SEED_USAGE . "\n");
        return 2;
    }
    $dsn = db_dsn();
    try {
        $pdo = db_connect($dsn);
    } catch (PDOException $e) {
        fwrite(STDERR, "seed: cannot connect to {$dsn}: " . $e->getMessage() . "\n");
        return 1;
    }
    if ($args['if_empty']) {
        $kept = seed_kept($pdo, $dsn, $args['seed']);
        if ($kept !== null) {
            fwrite(STDOUT, json_encode($kept, JSON_UNESCAPED_SLASHES | JSON_THROW_ON_ERROR) . "\n");
            return 0;
        }
    }
    try {
        $counts = (new Seeder($pdo, $args['scale'], $args['seed'], $args['timezone']))->run();
    } catch (Throwable $e) {
        if ($pdo->inTransaction()) {
            $pdo->rollBack();
        }
        fwrite(STDERR, 'seed: failed: ' . $e->getMessage() . ' (' . basename($e->getFile()) . ':' . $e->getLine() . ")\n");
        return 1;
    }
    $report = [
        'dsn' => $dsn,
        'scale' => $args['scale'],
        'seed' => $args['seed'],
        'timezone' => $args['timezone'],
        'tokens' => Seeder::tokens($args['seed']),
        'counts' => $counts,
    ];
    fwrite(STDOUT, json_encode($report, JSON_UNESCAPED_SLASHES | JSON_THROW_ON_ERROR) . "\n");
    return 0;
}

exit(seed_main($argv));
