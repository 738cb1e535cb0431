<?php

declare(strict_types=1);

/**
 * Global settings (rows of `settings` without a settingable owner), typed by their `type`
 * column, loaded once per request.
 *
 * @return array<string, mixed>
 */
function settings_all(bool $reload = false): array
{
    static $cache = null;
    if ($cache !== null && !$reload) {
        return $cache;
    }
    $cache = [];
    $stmt = db()->query('SELECT `key`, `value`, `type`, `encrypted` FROM `settings` WHERE `settingable_type` IS NULL');
    foreach ($stmt->fetchAll(PDO::FETCH_ASSOC) as $row) {
        if ((int) ($row['encrypted'] ?? 0) === 1) {
            continue;
        }
        $cache[(string) $row['key']] = setting_cast($row['value'], (string) ($row['type'] ?? 'string'));
    }
    return $cache;
}

function setting_cast(mixed $value, string $type): mixed
{
    if ($value === null) {
        return null;
    }
    $value = (string) $value;
    return match ($type) {
        'boolean', 'bool' => in_array(strtolower($value), ['1', 'true', 'on', 'yes'], true),
        'integer', 'int' => (int) $value,
        'float', 'double' => (float) $value,
        'array', 'json' => json_decode($value, true) ?? [],
        default => $value,
    };
}

function setting(string $key, mixed $default = null): mixed
{
    $all = settings_all();
    return array_key_exists($key, $all) && $all[$key] !== null ? $all[$key] : $default;
}

/** The application timezone: the `timezone` setting, UTC by default. */
function app_timezone(): DateTimeZone
{
    static $tz = null;
    if ($tz === null) {
        $name = setting('timezone', 'UTC');
        $tz = new DateTimeZone(is_string($name) && $name !== '' ? $name : 'UTC');
        date_default_timezone_set($tz->getName());
    }
    return $tz;
}
