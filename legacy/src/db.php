<?php

declare(strict_types=1);

/*
 * The database connection, shared by every request handler and by bin/seed.php.
 *
 * It is chosen by the environment:
 *   DB_DSN       a PDO DSN, e.g. "mysql:host=127.0.0.1;port=3306;dbname=paymenter;charset=utf8mb4"
 *                or "sqlite:/path/to/paymenter.sqlite" (default: sqlite:<legacy>/var/paymenter.sqlite)
 *   DB_USER      user name (MariaDB / MySQL only)
 *   DB_PASSWORD  password (MariaDB / MySQL only)
 *
 * Both drivers return the same PHP types for the same column:
 *   ids, integers, booleans (TINYINT(1))  int      (native prepares, no stringified fetches)
 *   DECIMAL(17,2) money                   string   "12.50" (SQLite stores it as that text)
 *   TIMESTAMP / DATETIME / DATE           string   "2025-06-01 14:03:22" / "2025-06-01"
 *   JSON, VARCHAR, TEXT                   string
 *   NULL                                  null
 * Prepared statements are real server-side ones on MySQL (ATTR_EMULATE_PREPARES off), so use
 * positional "?" placeholders, or each named placeholder only once per statement.
 */

function db_dsn(): string
{
    $dsn = getenv('DB_DSN');
    if ($dsn === false || trim($dsn) === '') {
        return 'sqlite:' . dirname(__DIR__) . '/var/paymenter.sqlite';
    }
    return trim($dsn);
}

/** Opens a new connection to the configured database (db() keeps one per process). */
function db_connect(?string $dsn = null): PDO
{
    $dsn ??= db_dsn();
    $user = getenv('DB_USER');
    $password = getenv('DB_PASSWORD');
    $pdo = new PDO(
        $dsn,
        $user === false || $user === '' ? null : $user,
        $password === false || $password === '' ? null : $password,
        [
            PDO::ATTR_ERRMODE => PDO::ERRMODE_EXCEPTION,
            PDO::ATTR_DEFAULT_FETCH_MODE => PDO::FETCH_ASSOC,
            PDO::ATTR_EMULATE_PREPARES => false,
            PDO::ATTR_STRINGIFY_FETCHES => false,
        ]
    );
    if ($pdo->getAttribute(PDO::ATTR_DRIVER_NAME) === 'sqlite') {
        // Wait for a competing writer instead of failing with "database is locked".
        $pdo->setAttribute(PDO::ATTR_TIMEOUT, 5);
        $pdo->exec('PRAGMA busy_timeout = 5000');
        // Cascades and SET NULL only happen with foreign keys on, and it is per connection.
        $pdo->exec('PRAGMA foreign_keys = ON');
        // Readers do not block the writer (php-fpm children, the Python handlers).
        $pdo->query('PRAGMA journal_mode = WAL')->fetchAll();
    } elseif (!str_contains(strtolower($dsn), 'charset=')) {
        $pdo->exec('SET NAMES utf8mb4');
    }
    // No session time_zone is set: TIMESTAMP columns round-trip through the server's default,
    // as they do under Paymenter.
    return $pdo;
}

function db(): PDO
{
    static $pdo = null;
    if ($pdo === null) {
        $pdo = db_connect();
    }
    return $pdo;
}

/** 'mysql' (MariaDB or MySQL) or 'sqlite'. */
function db_driver(): string
{
    return db()->getAttribute(PDO::ATTR_DRIVER_NAME) === 'mysql' ? 'mysql' : 'sqlite';
}
