<?php

declare(strict_types=1);

/*
 * A validator with the framework's semantics and English messages: rules run in order, a failed
 * `required` stops the attribute, `sometimes` skips absent attributes, `nullable` skips null
 * values for the other rules, and every failure message is collected.
 *
 * Rules are strings ("required", "max:255", "exists:users,id", ...) or closures
 * `fn (string $attribute, mixed $value, callable $fail): void`.
 */

const IMPLICIT_RULES = ['required'];
const NUMERIC_RULES = ['numeric', 'integer', 'decimal'];

function humanize_attribute(string $attribute): string
{
    return str_replace('_', ' ', $attribute);
}

/**
 * @param array<string, mixed> $data
 * @param array<string, list<string|Closure>> $rules
 * @return array<string, mixed> the validated data (rule keys present in the data)
 */
function validate(array $data, array $rules): array
{
    $errors = [];
    foreach ($rules as $attribute => $attributeRules) {
        $names = [];
        foreach ($attributeRules as $rule) {
            if (is_string($rule)) {
                $names[] = explode(':', $rule, 2)[0];
            }
        }
        $present = array_key_exists($attribute, $data);
        $value = $present ? $data[$attribute] : null;
        if (in_array('sometimes', $names, true) && !$present) {
            continue;
        }
        $nullable = in_array('nullable', $names, true);
        $numeric = array_intersect($names, NUMERIC_RULES) !== [];
        foreach ($attributeRules as $rule) {
            if ($rule instanceof Closure) {
                if (!$present || ($nullable && $value === null) || (is_string($value) && trim($value) === '')) {
                    continue;
                }
                $rule($attribute, $value, static function (string $message) use (&$errors, $attribute): void {
                    $errors[$attribute][] = $message;
                });
                continue;
            }
            [$name, $params] = array_pad(explode(':', $rule, 2), 2, null);
            $params = $params === null ? [] : str_getcsv($params, ',', '"', '\\');
            if (in_array($name, ['sometimes', 'nullable', 'bail'], true)) {
                continue;
            }
            $implicit = in_array($name, IMPLICIT_RULES, true);
            if (!$implicit) {
                if (is_string($value) && trim($value) === '') {
                    continue;
                }
                if (!$present) {
                    continue;
                }
                if ($nullable && $value === null) {
                    continue;
                }
            }
            $message = check_rule($name, $params, $attribute, $value, $data, $numeric);
            if ($message !== null) {
                $errors[$attribute][] = $message;
                if ($implicit) {
                    break;
                }
            }
        }
    }
    if ($errors !== []) {
        throw new ValidationFailed($errors);
    }
    $validated = [];
    foreach ($rules as $attribute => $_) {
        if (array_key_exists($attribute, $data)) {
            $validated[$attribute] = $data[$attribute];
        }
    }
    return $validated;
}

function value_size(mixed $value, bool $numeric): int|float
{
    if ($numeric && is_numeric($value)) {
        return is_string($value) ? (float) trim($value) + 0 : $value;
    }
    if (is_array($value)) {
        return count($value);
    }
    if (is_bool($value)) {
        return $value ? 1 : 0;
    }
    return mb_strlen((string) ($value ?? ''));
}

function valid_email(mixed $value): bool
{
    if (!is_string($value)) {
        return false;
    }
    if (!preg_match('/^([^@\s]+)@([^@\s]+)$/u', $value, $m)) {
        return false;
    }
    [$local, $domain] = [$m[1], $m[2]];
    if (str_starts_with($local, '.') || str_ends_with($local, '.') || str_contains($local, '..')) {
        return false;
    }
    if (str_starts_with($domain, '.') || str_ends_with($domain, '.') || str_contains($domain, '..')
        || str_starts_with($domain, '-')) {
        return false;
    }
    return !preg_match('/[()<>\[\]:;,\\\\"]/', $local . $domain);
}

function valid_date(mixed $value): bool
{
    if ($value instanceof DateTimeInterface) {
        return true;
    }
    if ((!is_string($value) && !is_numeric($value)) || strtotime((string) $value) === false) {
        return false;
    }
    $date = date_parse((string) $value);
    return is_int($date['month']) && is_int($date['day']) && is_int($date['year'])
        && checkdate($date['month'], $date['day'], $date['year']);
}

/**
 * @param list<string|null> $params
 * @param array<string, mixed> $data
 */
function check_rule(string $name, array $params, string $attribute, mixed $value, array $data, bool $numeric): ?string
{
    $a = humanize_attribute($attribute);
    switch ($name) {
        case 'required':
            $ok = !($value === null || (is_string($value) && trim($value) === '') || (is_array($value) && $value === []));
            return $ok ? null : "The {$a} field is required.";
        case 'string':
            return is_string($value) ? null : "The {$a} field must be a string.";
        case 'integer':
            return (!is_array($value) && filter_var($value, FILTER_VALIDATE_INT) !== false) ? null : "The {$a} field must be an integer.";
        case 'numeric':
            return is_numeric($value) ? null : "The {$a} field must be a number.";
        case 'email':
            return valid_email($value) ? null : "The {$a} field must be a valid email address.";
        case 'date':
            return valid_date($value) ? null : "The {$a} field must be a valid date.";
        case 'after_or_equal':
            $target = (string) $params[0];
            $ok = (is_string($value) || is_numeric($value)) && valid_date($value)
                && ($d = parse_datetime($value)) !== null
                && $d->getTimestamp() >= (new DateTimeImmutable($target, app_timezone()))->getTimestamp();
            return $ok ? null : "The {$a} field must be a date after or equal to {$target}.";
        case 'max':
            $max = (float) $params[0];
            if (value_size($value, $numeric) <= $max) {
                return null;
            }
            return $numeric ? "The {$a} field must not be greater than {$params[0]}."
                : (is_array($value) ? "The {$a} field must not have more than {$params[0]} items."
                    : "The {$a} field must not be greater than {$params[0]} characters.");
        case 'min':
            $min = (float) $params[0];
            if (value_size($value, $numeric) >= $min) {
                return null;
            }
            return $numeric ? "The {$a} field must be at least {$params[0]}."
                : (is_array($value) ? "The {$a} field must have at least {$params[0]} items."
                    : "The {$a} field must be at least {$params[0]} characters.");
        case 'in':
            $ok = !is_array($value) && in_array(is_bool($value) ? ($value ? '1' : '') : (string) $value, array_map('strval', $params), true);
            return $ok ? null : "The selected {$a} is invalid.";
        case 'exists':
            [$table, $column] = [(string) $params[0], (string) ($params[1] ?? $attribute)];
            if (is_array($value)) {
                return "The selected {$a} is invalid.";
            }
            $stmt = db()->prepare('SELECT COUNT(*) FROM ' . qi($table) . ' WHERE ' . qi($column) . ' = ?');
            $stmt->execute([is_bool($value) ? (int) $value : $value]);
            return ((int) $stmt->fetchColumn()) > 0 ? null : "The selected {$a} is invalid.";
        case 'unique':
            $table = (string) $params[0];
            $column = (string) ($params[1] ?? $attribute);
            $sql = 'SELECT COUNT(*) FROM ' . qi($table) . ' WHERE ' . qi($column) . ' = ?';
            $bind = [is_bool($value) ? (int) $value : $value];
            $ignore = $params[2] ?? null;
            if ($ignore !== null && $ignore !== '' && $ignore !== 'NULL') {
                $sql .= ' AND ' . qi((string) ($params[3] ?? 'id')) . ' <> ?';
                $bind[] = $ignore;
            }
            for ($i = 4; isset($params[$i]) && $params[$i] !== ''; $i += 2) {
                $extraValue = $params[$i + 1] ?? '';
                if ($extraValue === 'NULL') {
                    $sql .= ' AND ' . qi((string) $params[$i]) . ' IS NULL';
                } elseif ($extraValue === 'NOT_NULL') {
                    $sql .= ' AND ' . qi((string) $params[$i]) . ' IS NOT NULL';
                } else {
                    $sql .= ' AND ' . qi((string) $params[$i]) . ' = ?';
                    $bind[] = $extraValue;
                }
            }
            $stmt = db()->prepare($sql);
            $stmt->execute($bind);
            return ((int) $stmt->fetchColumn()) === 0 ? null : "The {$a} has already been taken.";
    }
    throw new LogicException("Unknown validation rule {$name}");
}
