<?php

declare(strict_types=1);

/**
 * Buffers the rows of one table and writes them with multi-row prepared INSERTs.
 *
 * A writer flushes the writers it depends on first, so a child row never reaches the database
 * before its parent and the foreign keys stay checked while seeding.
 */
final class TableWriter
{
    /** @var list<mixed> */
    private array $values = [];
    private int $buffered = 0;
    private int $written = 0;
    private readonly int $batch;
    /** @var array<int, PDOStatement> */
    private array $statements = [];
    /** @var list<TableWriter> */
    private array $parents = [];

    /** @param list<string> $columns */
    public function __construct(
        private readonly PDO $pdo,
        public readonly string $table,
        private readonly array $columns,
    ) {
        // SQLite allows 32766 bound parameters per statement, MariaDB 65535.
        $this->batch = max(1, min(500, intdiv(30_000, count($columns))));
    }

    public function dependsOn(TableWriter ...$parents): self
    {
        array_push($this->parents, ...$parents);
        return $this;
    }

    /** @param list<mixed> $row values in column order */
    public function add(array $row): void
    {
        if (count($row) !== count($this->columns)) {
            throw new LogicException(sprintf(
                '%s: %d values for %d columns',
                $this->table,
                count($row),
                count($this->columns)
            ));
        }
        array_push($this->values, ...$row);
        $this->buffered++;
        if ($this->buffered >= $this->batch) {
            $this->flush();
        }
    }

    public function flush(): void
    {
        foreach ($this->parents as $parent) {
            $parent->flush();
        }
        if ($this->buffered === 0) {
            return;
        }
        // A part-filled buffer goes out in power-of-two chunks (300 rows = 256 + 32 + 8 + 4), so
        // a table needs at most a dozen prepared statements however often its children flush it.
        $width = count($this->columns);
        $offset = 0;
        $left = $this->buffered;
        while ($left > 0) {
            $rows = $this->batch;
            if ($left < $this->batch) {
                for ($rows = 1; $rows * 2 <= $left; $rows *= 2) {
                    // the largest power of two that fits
                }
            }
            $chunk = $offset === 0 && $rows === $this->buffered
                ? $this->values
                : array_slice($this->values, $offset * $width, $rows * $width);
            $this->statement($rows)->execute($chunk);
            $offset += $rows;
            $left -= $rows;
        }
        $this->written += $this->buffered;
        $this->values = [];
        $this->buffered = 0;
    }

    public function count(): int
    {
        return $this->written + $this->buffered;
    }

    private function statement(int $rows): PDOStatement
    {
        if (!isset($this->statements[$rows])) {
            $tuple = '(' . implode(', ', array_fill(0, count($this->columns), '?')) . ')';
            $sql = 'INSERT INTO `' . $this->table . '` (`' . implode('`, `', $this->columns) . '`) VALUES '
                . implode(', ', array_fill(0, $rows, $tuple));
            $this->statements[$rows] = $this->pdo->prepare($sql);
        }
        return $this->statements[$rows];
    }
}
