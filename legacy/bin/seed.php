<?php

declare(strict_types=1);

/*
 * Recreates the billing schema and fills it with deterministic demo data.
 *
 *   php bin/seed.php --scale N [--seed S] [--timezone TZ]
 *
 * The database comes from DB_DSN / DB_USER / DB_PASSWORD (see src/db.php). Every table is
 * dropped and created again. The same N and S always give the same rows, tokens and times.
 * Prints one JSON object on stdout:
 *   {"dsn": ..., "scale": N, "seed": S, "timezone": ..., "tokens": {name: plaintext, ...},
 *    "counts": {table: rows, ...}}
 * Errors go to stderr with a non-zero exit status.
 */

require_once __DIR__ . '/../src/db.php';
require_once __DIR__ . '/../src/seed/seeder.php';

const SEED_USAGE = <<<'TXT'
usage: php bin/seed.php --scale N [--seed S] [--timezone TZ]

  --scale N      number of customers (a positive integer); orders, services, invoices,
                 tickets and credits grow in proportion
  --seed S       seed of the data (a non-negative integer, default 1)
  --timezone TZ  the application's timezone setting (default UTC)

The database is DB_DSN (default sqlite:<legacy>/var/paymenter.sqlite), DB_USER, DB_PASSWORD.
TXT;

final class UsageError extends RuntimeException
{
}

/**
 * @param list<string> $argv
 * @return array{scale: int, seed: int, timezone: string}
 */
function seed_parse_args(array $argv): array
{
    $options = ['scale' => null, 'seed' => '1', 'timezone' => 'UTC'];
    for ($i = 1; $i < count($argv); $i++) {
        $arg = $argv[$i];
        if ($arg === '-h' || $arg === '--help') {
            fwrite(STDOUT, SEED_USAGE . "\n");
            exit(0);
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
    return ['scale' => (int) $options['scale'], 'seed' => (int) $options['seed'], 'timezone' => $options['timezone']];
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
