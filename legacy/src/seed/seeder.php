<?php

declare(strict_types=1);

require_once __DIR__ . '/random.php';
require_once __DIR__ . '/writer.php';
require_once __DIR__ . '/pools.php';
require_once __DIR__ . '/catalogue.php';
require_once __DIR__ . '/customers.php';

/**
 * Recreates the schema and fills it with deterministic demo data: the catalogue (currencies,
 * categories, products, plans, prices, coupons), settings, roles and API keys, then, customer by
 * customer, credits, orders, services, invoices with items and transactions, tickets with
 * messages and attachments, and properties.
 *
 * Ids are assigned here, not by AUTO_INCREMENT, so both databases hold the same rows. Times are
 * drawn from 2024-01-01 .. 2025-12-31 (naive, second precision); the clock is never read.
 */
final class Seeder
{
    use SeedsCatalogue;
    use SeedsCustomers;

    /** Every table of the schema, parents before children (the order of the counts). */
    public const TABLES = [
        'users', 'roles', 'api_keys', 'settings', 'audits', 'currencies', 'categories', 'products',
        'plans', 'prices', 'coupons', 'orders', 'services', 'invoices', 'invoice_items',
        'invoice_transactions', 'tickets', 'ticket_messages', 'ticket_message_attachments', 'credits',
        'custom_properties', 'properties', 'service_upgrades',
    ];

    public const DEPARTMENTS = ['Sales', 'Support', 'Billing'];
    public const RESTRICTED_PERMISSIONS = [
        'admin.users.view', 'admin.invoices.view', 'admin.tickets.view', 'admin.ticket_messages.view',
    ];

    private const START = 1704067200; // 2024-01-01 00:00:00
    private const END = 1767225599;   // 2025-12-31 23:59:59
    private const DAY = 86400;
    private const PASSWORD = 'password';
    private const SERVICE = 'App\\Models\\Service';
    private const CREDIT = 'App\\Models\\Credit';
    private const USER = 'App\\Models\\User';
    private const PRODUCT = 'App\\Models\\Product';
    /** Customers written per transaction (keeps MariaDB's undo log small at large scales). */
    private const USERS_PER_COMMIT = 2000;

    private readonly SeedRandom $rnd;
    /** @var array<string, TableWriter> */
    private array $w = [];
    /** @var array<string, int> next id per table */
    private array $ids = [];
    private string $passwordHash = '';
    /** @var list<int> users who answer tickets */
    private array $staff = [];
    /** @var list<array{id: int, name: string, plans: list<array{id: int, type: string, period: ?int, unit: ?string, prices: array<string, ?int>}>}> */
    private array $products = [];
    /** @var list<int> */
    private array $couponIds = [];
    private int $invoiceNumber = 0;

    public function __construct(
        private readonly PDO $pdo,
        private readonly int $scale,
        private readonly int $seed,
        private readonly string $timezone,
    ) {
        $this->rnd = new SeedRandom($seed);
    }

    /** @return array<string, string> API key name => plaintext token */
    public static function tokens(int $seed): array
    {
        $tokens = [];
        foreach (['admin', 'restricted', 'disabled', 'wrong_type', 'ip_locked'] as $name) {
            $tokens[$name] = 'PAYM' . hash('sha256', "paymenter-seed:{$seed}:api-key:{$name}");
        }
        return $tokens;
    }

    /** Every API permission (admin.<resource>.<ability>), in Paymenter's config order. */
    public static function allPermissions(): array
    {
        $abilities = [
            'users' => ['create', 'update', 'view', 'delete', 'impersonate'],
            'invoices' => ['create', 'update', 'view', 'delete'],
            'invoice_items' => ['create', 'update', 'view', 'delete'],
            'tickets' => ['create', 'update', 'view', 'delete'],
            'orders' => ['create', 'update', 'view', 'delete'],
            'services' => ['create', 'update', 'view', 'delete'],
            'coupons' => ['create', 'update', 'view', 'delete'],
            'credits' => ['create', 'update', 'view', 'delete'],
            'ticket_messages' => ['create', 'view', 'delete'],
            'products' => ['view'],
            'categories' => ['view'],
            'properties' => ['view'],
            'roles' => ['view'],
        ];
        $out = [];
        foreach ($abilities as $resource => $list) {
            foreach ($list as $ability) {
                $out[] = "admin.{$resource}.{$ability}";
            }
        }
        return $out;
    }

    /** @return array<string, int> rows written per table */
    public function run(): array
    {
        $this->createSchema();
        $this->openWriters();
        // One bcrypt hash (cost 12, salt from the seed) for every customer: hashing per row
        // would take hours at scale 100,000. Everyone's password is "password".
        $salt = substr(strtr(base64_encode(hash('sha256', "salt:{$this->seed}", true)), '+', '.'), 0, 22);
        $this->passwordHash = crypt(self::PASSWORD, '$2y$12$' . $salt);

        $this->pdo->beginTransaction();
        $this->seedCatalogue();
        $this->seedAccess();
        for ($user = 1; $user <= $this->scale; $user++) {
            $this->seedCustomer($user);
            if ($user % self::USERS_PER_COMMIT === 0) {
                $this->flushAll();
                $this->pdo->commit();
                $this->pdo->beginTransaction();
            }
        }
        $this->seedSettings();
        $this->flushAll();
        $this->pdo->commit();

        $counts = [];
        foreach (self::TABLES as $table) {
            $counts[$table] = isset($this->w[$table]) ? $this->w[$table]->count() : 0;
        }
        return $counts;
    }

    // -- schema ------------------------------------------------------------------------------

    private function createSchema(): void
    {
        $driver = $this->pdo->getAttribute(PDO::ATTR_DRIVER_NAME);
        $file = __DIR__ . '/../../schema/' . ($driver === 'mysql' ? 'mysql.sql' : 'sqlite.sql');
        $sql = file_get_contents($file);
        if ($sql === false) {
            throw new RuntimeException("cannot read {$file}");
        }
        if ($driver === 'sqlite') {
            // sqlite3_exec runs the whole script, trigger bodies included.
            $this->pdo->exec($sql);
            // A bulk load: no fsync per commit, and a 64 MB page cache so that the indexes on
            // random dates do not thrash (this connection only; the file stays in WAL mode).
            $this->pdo->exec('PRAGMA synchronous = OFF');
            $this->pdo->exec('PRAGMA cache_size = -65536');
            return;
        }
        $sql = preg_replace('/^\s*--.*$/m', '', $sql) ?? $sql;
        foreach (preg_split('/;\s*$/m', $sql) ?: [] as $statement) {
            if (trim($statement) !== '') {
                $this->pdo->exec($statement);
            }
        }
    }

    private function openWriters(): void
    {
        $columns = [
            'roles' => ['id', 'name', 'permissions', 'created_at', 'updated_at'],
            'users' => ['id', 'first_name', 'last_name', 'email', 'role_id', 'email_verified_at', 'password',
                'tfa_secret', 'created_at', 'updated_at'],
            'api_keys' => ['id', 'name', 'permissions', 'token', 'user_id', 'type', 'ip_addresses', 'last_used_at',
                'enabled', 'created_at', 'updated_at'],
            'settings' => ['id', 'key', 'value', 'type', 'encrypted', 'settingable_type', 'settingable_id',
                'created_at', 'updated_at'],
            'currencies' => ['code', 'name', 'prefix', 'suffix', 'format'],
            'categories' => ['id', 'slug', 'name', 'description', 'image', 'parent_id', 'full_slug', 'sort',
                'created_at', 'updated_at'],
            'products' => ['id', 'category_id', 'name', 'image', 'slug', 'description', 'stock', 'per_user_limit',
                'sort', 'allow_quantity', 'server_id', 'email_template', 'created_at', 'updated_at', 'hidden'],
            'plans' => ['id', 'name', 'priceable_type', 'priceable_id', 'type', 'billing_period', 'billing_unit',
                'sort'],
            'prices' => ['id', 'price', 'setup_fee', 'currency_code', 'plan_id'],
            'coupons' => ['id', 'type', 'applies_to', 'recurring', 'code', 'value', 'max_uses',
                'max_uses_per_user', 'starts_at', 'expires_at', 'created_at', 'updated_at'],
            'orders' => ['id', 'user_id', 'currency_code', 'created_at', 'updated_at'],
            'services' => ['id', 'status', 'order_id', 'product_id', 'user_id', 'currency_code', 'quantity',
                'price', 'plan_id', 'coupon_id', 'expires_at', 'subscription_id', 'created_at', 'updated_at',
                'billing_agreement_id', 'label'],
            'invoices' => ['id', 'number', 'status', 'due_at', 'currency_code', 'user_id', 'created_at',
                'updated_at'],
            'invoice_items' => ['id', 'invoice_id', 'price', 'quantity', 'description', 'reference_type',
                'reference_id', 'created_at', 'updated_at'],
            'invoice_transactions' => ['id', 'invoice_id', 'gateway_id', 'amount', 'fee', 'transaction_id',
                'status', 'is_credit_transaction', 'created_at', 'updated_at'],
            'tickets' => ['id', 'subject', 'status', 'priority', 'department', 'user_id', 'assigned_to',
                'service_id', 'created_at', 'updated_at'],
            'ticket_messages' => ['id', 'ticket_id', 'user_id', 'message', 'ticket_mail_log_id', 'created_at',
                'updated_at'],
            'ticket_message_attachments' => ['id', 'uuid', 'filename', 'path', 'filesize', 'mime_type',
                'ticket_message_id', 'created_at', 'updated_at'],
            'credits' => ['id', 'user_id', 'currency_code', 'amount', 'created_at', 'updated_at'],
            'custom_properties' => ['id', 'name', 'description', 'key', 'type', 'model', 'validation',
                'allowed_values', 'non_editable', 'required', 'show_on_invoice'],
            'properties' => ['id', 'custom_property_id', 'name', 'key', 'value', 'model_type', 'model_id',
                'created_at', 'updated_at'],
            'service_upgrades' => ['id', 'service_id', 'plan_id', 'product_id', 'invoice_id', 'status', 'type',
                'created_at', 'updated_at'],
        ];
        foreach ($columns as $table => $cols) {
            $this->w[$table] = new TableWriter($this->pdo, $table, $cols);
            $this->ids[$table] = 1;
        }
        $w = $this->w;
        $w['products']->dependsOn($w['categories']);
        $w['orders']->dependsOn($w['users']);
        $w['services']->dependsOn($w['orders'], $w['products'], $w['plans'], $w['coupons'], $w['users']);
        $w['invoices']->dependsOn($w['users']);
        $w['invoice_items']->dependsOn($w['invoices']);
        $w['invoice_transactions']->dependsOn($w['invoices']);
        $w['tickets']->dependsOn($w['users'], $w['services']);
        $w['ticket_messages']->dependsOn($w['tickets'], $w['users']);
        $w['ticket_message_attachments']->dependsOn($w['ticket_messages']);
        $w['credits']->dependsOn($w['users']);
        $w['properties']->dependsOn($w['custom_properties']);
        $w['service_upgrades']->dependsOn($w['services'], $w['plans'], $w['products'], $w['invoices']);
        $w['api_keys']->dependsOn($w['users']);
    }

    private function flushAll(): void
    {
        foreach ($this->w as $writer) {
            $writer->flush();
        }
    }

    private function nextId(string $table): int
    {
        return $this->ids[$table]++;
    }

    // -- values ------------------------------------------------------------------------------

    /**
     * 'Y-m-d H:i:s' of a naive time. Times in the spring-forward hour (02:xx on a Sunday in
     * March) move one hour on, so that a MariaDB server in a European or American zone stores
     * every TIMESTAMP unchanged.
     */
    private static function at(int $t): string
    {
        if (gmdate('n w G', $t) === '3 0 2') {
            $t += 3600;
        }
        return gmdate('Y-m-d H:i:s', $t);
    }

    private function between(int $from, int $to): int
    {
        return $to <= $from ? $from : $this->rnd->int($from, $to);
    }

    /** An updated_at for a row created at $created: often the same second, else later. */
    private function touched(int $created): int
    {
        return $this->rnd->chance(0.5) ? $created : $this->between($created, min(self::END, $created + 120 * self::DAY));
    }

    private static function money(int $cents): string
    {
        $sign = $cents < 0 ? '-' : '';
        $cents = abs($cents);
        return sprintf('%s%d.%02d', $sign, intdiv($cents, 100), $cents % 100);
    }

    /** An amount in cents: mostly ordinary, sometimes zero, sometimes very large. */
    private function amount(int $min = 100, int $max = 50_000): int
    {
        $roll = $this->rnd->int(1, 100);
        if ($roll <= 6) {
            return 0;
        }
        if ($roll <= 9) {
            return $this->rnd->int(10_000_000, 99_999_999_999); // up to 999,999,999.99
        }
        return $this->rnd->int($min, $max);
    }

    /** Text of about $length characters (never more), words from every script in the pool. */
    private function text(int $length): string
    {
        $out = '';
        $chars = 0;
        $sentence = 0;
        while ($chars < $length) {
            $word = $this->rnd->pick(SEED_WORDS);
            if ($sentence === 0) {
                $word = mb_strtoupper(mb_substr($word, 0, 1)) . mb_substr($word, 1);
            }
            $sentence++;
            $end = $this->rnd->int(1, 12) === 1 ? ($this->rnd->chance(0.2) ? ".\n\n" : '. ') : ' ';
            if ($end !== ' ') {
                $sentence = 0;
            }
            $piece = $word . $end;
            $out .= $piece;
            $chars += mb_strlen($piece);
        }
        return rtrim(mb_substr($out, 0, $length));
    }
}
