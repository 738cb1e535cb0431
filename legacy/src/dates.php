<?php

declare(strict_types=1);

/** Current time in the application timezone, as stored in the database. */
function now_db(): string
{
    return (new DateTimeImmutable('now', app_timezone()))->format('Y-m-d H:i:s');
}

/** Parse a stored or client-sent date/time, interpreting naive values in the app timezone. */
function parse_datetime(mixed $value): ?DateTimeImmutable
{
    if ($value === null) {
        return null;
    }
    if ($value instanceof DateTimeImmutable) {
        return $value;
    }
    $tz = app_timezone();
    if (is_int($value) || is_float($value)) {
        return (new DateTimeImmutable('@' . (int) $value))->setTimezone($tz);
    }
    $s = (string) $value;
    if (preg_match('/^\d{4}-\d{1,2}-\d{1,2}$/', $s)) {
        $d = DateTimeImmutable::createFromFormat('!Y-n-j', $s, $tz);
        return $d === false ? null : $d;
    }
    $d = DateTimeImmutable::createFromFormat('!Y-m-d H:i:s', $s, $tz);
    if ($d !== false) {
        return $d;
    }
    try {
        return new DateTimeImmutable($s, $tz);
    } catch (Exception) {
        return null;
    }
}

/** Serialize like Carbon's JSON form: UTC, six-digit microseconds, "Z". */
function iso_utc(?DateTimeImmutable $d): ?string
{
    if ($d === null) {
        return null;
    }
    return $d->setTimezone(new DateTimeZone('UTC'))->format('Y-m-d\TH:i:s.u\Z');
}

function format_datetime(mixed $value): ?string
{
    return iso_utc(parse_datetime($value));
}

/** `date` cast: start of day in the app timezone, then UTC. */
function format_date(mixed $value): ?string
{
    $d = parse_datetime($value);
    if ($d === null) {
        return null;
    }
    return iso_utc($d->setTimezone(app_timezone())->setTime(0, 0, 0));
}

/** The storage form of a client-sent date (what a datetime-cast attribute holds after set). */
function to_storage_datetime(mixed $value): mixed
{
    if ($value === null) {
        return null;
    }
    $d = parse_datetime($value);
    return $d === null ? $value : $d->format('Y-m-d H:i:s');
}

/** A decimal column as a two-place string, without going through floats where avoidable. */
function decimal_str(mixed $value): ?string
{
    if ($value === null) {
        return null;
    }
    if (is_int($value)) {
        return $value . '.00';
    }
    if (is_float($value)) {
        return sprintf('%.2f', $value);
    }
    $s = trim((string) $value);
    if (preg_match('/^(-?)(\d*)(?:\.(\d*))?$/', $s, $m)) {
        $int = $m[2] === '' ? '0' : $m[2];
        $frac = $m[3] ?? '';
        if (strlen($frac) <= 2) {
            return $m[1] . $int . '.' . str_pad($frac, 2, '0');
        }
    }
    return number_format((float) $s, 2, '.', '');
}
