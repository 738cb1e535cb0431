<?php

declare(strict_types=1);

/**
 * The seed data's only source of chance: Mersenne Twister seeded once, so that the same
 * --seed always gives the same data (PHP's mt_rand sequence is stable since 7.1).
 * Nothing here reads the clock.
 */
final class SeedRandom
{
    public function __construct(int $seed)
    {
        mt_srand($seed, MT_RAND_MT19937);
    }

    public function int(int $min, int $max): int
    {
        return mt_rand($min, $max);
    }

    /** True with probability $p (0..1). */
    public function chance(float $p): bool
    {
        return mt_rand(0, 999_999) < (int) round($p * 1_000_000);
    }

    /**
     * @template T
     * @param list<T> $items
     * @return T
     */
    public function pick(array $items): mixed
    {
        return $items[mt_rand(0, count($items) - 1)];
    }

    /**
     * A key of $weights, drawn in proportion to its weight.
     *
     * @param array<int|string, int> $weights
     */
    public function weighted(array $weights): int|string
    {
        $roll = mt_rand(1, array_sum($weights));
        foreach ($weights as $value => $weight) {
            $roll -= $weight;
            if ($roll <= 0) {
                return $value;
            }
        }
        throw new LogicException('unreachable');
    }

    /**
     * $count distinct items of $items, in a random order.
     *
     * @template T
     * @param list<T> $items
     * @return list<T>
     */
    public function sample(array $items, int $count): array
    {
        $pool = $items;
        $out = [];
        $count = min($count, count($pool));
        for ($i = 0; $i < $count; $i++) {
            $j = mt_rand($i, count($pool) - 1);
            [$pool[$i], $pool[$j]] = [$pool[$j], $pool[$i]];
            $out[] = $pool[$i];
        }
        return $out;
    }

    /** Lower-case hex of $bytes random bytes. */
    public function hex(int $bytes): string
    {
        $out = '';
        for ($i = 0; $i < $bytes; $i++) {
            $out .= sprintf('%02x', mt_rand(0, 255));
        }
        return $out;
    }

    /** A version-4 UUID drawn from this generator. */
    public function uuid(): string
    {
        $h = $this->hex(16);
        $h[12] = '4';
        $h[16] = '89ab'[mt_rand(0, 3)];
        return substr($h, 0, 8) . '-' . substr($h, 8, 4) . '-' . substr($h, 12, 4) . '-'
            . substr($h, 16, 4) . '-' . substr($h, 20, 12);
    }
}
