<?php

declare(strict_types=1);

require_once __DIR__ . '/random.php';
require_once __DIR__ . '/writer.php';
require_once __DIR__ . '/pools.php';

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
            $this->pdo->exec('PRAGMA synchronous = OFF');
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

    // -- catalogue ---------------------------------------------------------------------------

    private function seedCatalogue(): void
    {
        foreach (SEED_CURRENCIES as [$code, $name, $prefix, $suffix, $format]) {
            $this->w['currencies']->add([$code, $name, $prefix, $suffix, $format]);
        }

        $categories = SEED_CATEGORIES;
        for ($k = 1; $k <= intdiv($this->scale, 2000); $k++) {
            $categories[] = ["region-{$k}", "Region {$k}", 'vps'];
        }
        $bySlug = [];
        $categoryIds = [];
        foreach ($categories as $i => [$slug, $name, $parent]) {
            $id = $this->nextId('categories');
            $full = $parent === null ? $slug : $bySlug[$parent]['full'] . '/' . $slug;
            $bySlug[$slug] = ['id' => $id, 'full' => $full];
            $categoryIds[] = $id;
            $created = $this->between(self::START, self::START + 30 * self::DAY);
            $this->w['categories']->add([
                $id, $slug, $name,
                $i % 3 === 0 ? null : $this->text($this->rnd->int(20, 400)),
                $i % 4 === 1 ? "categories/{$slug}.png" : null,
                $parent === null ? null : $bySlug[$parent]['id'],
                $full,
                $i % 5 === 2 ? null : ($i === 3 ? 255 : $i),
                self::at($created), self::at($this->touched($created)),
            ]);
        }

        $count = min(400, 14 + intdiv($this->scale, 400));
        $allowQuantity = ['disabled', 'separated', 'combined'];
        for ($p = 0; $p < $count; $p++) {
            $id = $this->nextId('products');
            $category = $categoryIds[$p % count($categoryIds)];
            $name = SEED_PRODUCT_NAMES[$p % count(SEED_PRODUCT_NAMES)]
                . ($p >= count(SEED_PRODUCT_NAMES) ? ' ' . (intdiv($p, count(SEED_PRODUCT_NAMES)) + 1) : '');
            if ($p === 10) {
                $name = 'Enterprise Dedicated Cluster';
            }
            $slug = match (true) {
                $p % 9 === 4 => null,
                $p === 7 => 'starter', // not unique: products.slug has no UNIQUE key
                default => strtolower(preg_replace('/[^A-Za-z0-9]+/', '-', $name) ?? '') . "-{$id}",
            };
            $descriptionRoll = $this->rnd->int(1, 100);
            $description = match (true) {
                $descriptionRoll <= 15 || $p % 7 === 6 => null,
                $descriptionRoll <= 65 => $this->text($this->rnd->int(30, 200)),
                default => "<h2>{$name}</h2>\n\n" . $this->text($this->rnd->int(1000, 4000)),
            };
            $stockRoll = $this->rnd->int(1, 10);
            $stock = $stockRoll <= 5 ? null : ($stockRoll === 6 ? 0 : $this->rnd->int(1, 500));
            $created = $this->between(self::START, self::START + 200 * self::DAY);
            $this->w['products']->add([
                $id, $category, $name,
                $p % 3 === 0 ? "products/{$id}.webp" : null,
                $slug, $description, $stock,
                $this->rnd->chance(0.7) ? null : $this->rnd->pick([1, 3, 5]),
                $this->rnd->chance(0.3) ? null : ($p === 5 ? 255 : $this->rnd->int(0, 20)),
                $allowQuantity[$p % 3],
                $this->rnd->chance(0.4) ? null : $this->rnd->int(1, 12),
                $this->rnd->chance(0.85) ? null : "Welcome to {$name}! Your service is ready.",
                self::at($created), self::at($this->touched($created)),
                $p % 5 === 3 ? 1 : 0,
            ]);
            $this->products[] = ['id' => $id, 'name' => $name, 'plans' => $this->seedPlans($id, $p)];
        }

        $coupons = min(1000, 6 + intdiv($this->scale, 100));
        for ($c = 0; $c < $coupons; $c++) {
            $id = $this->nextId('coupons');
            $type = $c % 3 === 2 ? 'fixed' : 'percentage';
            $created = $this->between(self::START, self::END - 60 * self::DAY);
            $starts = $this->rnd->chance(0.5) ? null : $created;
            $this->w['coupons']->add([
                $id, $type, $this->rnd->pick(['all', 'all', 'price', 'setup_fee']),
                $this->rnd->pick([null, null, 0, 1, 3, 12]),
                $c === 4 ? 'WELCOME10' : ($c === 0 ? 'WELCOME10' : sprintf('PROMO%03d', $c)), // codes are not unique
                $c === 5 ? null : ($type === 'percentage' ? self::money($this->rnd->int(5, 100) * 100) : self::money($this->amount(100, 5000))),
                $this->rnd->chance(0.5) ? null : $this->rnd->int(1, 1000),
                $this->rnd->chance(0.6) ? null : $this->rnd->int(1, 3),
                $starts === null ? null : self::at($starts),
                $this->rnd->chance(0.5) ? null : self::at($this->between($created, self::END + 365 * self::DAY)),
                self::at($created), self::at($this->touched($created)),
            ]);
            $this->couponIds[] = $id;
        }
    }

    /** @return list<array{id: int, type: string, period: ?int, unit: ?string, prices: array<string, ?int>}> */
    private function seedPlans(int $productId, int $p): array
    {
        $kinds = match ($p % 7) {
            0 => ['free'],
            1 => ['one-time'],
            default => array_fill(0, $this->rnd->int(1, 3), 'recurring'),
        };
        $billing = $this->rnd->sample(SEED_BILLING, count($kinds));
        $plans = [];
        foreach ($kinds as $i => $type) {
            $id = $this->nextId('plans');
            [$name, $period, $unit] = $type === 'recurring' ? $billing[$i] : [ucfirst($type), null, null];
            $this->w['plans']->add([
                $id, $this->rnd->chance(0.1) ? null : $name, self::PRODUCT, $productId, $type, $period, $unit,
                $this->rnd->chance(0.3) ? null : $i,
            ]);
            $currencies = ['USD', ...$this->rnd->sample(array_slice(array_column(SEED_CURRENCIES, 0), 1), $this->rnd->int(0, 4))];
            $prices = [];
            foreach ($currencies as $code) {
                $cents = match (true) {
                    $type === 'free' => 0,
                    $p === 10 => 99_999_999_999,
                    default => $this->rnd->int(1, 400) * ($code === 'JPY' ? 10_000 : 100) - ($this->rnd->chance(0.5) ? 1 : 0),
                };
                $price = $this->rnd->chance(0.03) && $type !== 'free' ? null : $cents;
                $setupRoll = $this->rnd->int(1, 10);
                $setup = $setupRoll <= 6 ? null : ($setupRoll <= 8 ? 0 : $this->rnd->int(100, 5000));
                $this->w['prices']->add([
                    $this->nextId('prices'),
                    $price === null ? null : self::money($price),
                    $setup === null ? null : self::money($setup),
                    $code, $id,
                ]);
                $prices[$code] = $price;
            }
            $plans[] = ['id' => $id, 'type' => $type, 'period' => $period, 'unit' => $unit, 'prices' => $prices];
        }
        return $plans;
    }

    // -- roles, API keys, settings -----------------------------------------------------------

    private function seedAccess(): void
    {
        $stamp = self::at(self::START);
        $roles = [
            ['admin', ['*']],
            ['Support', ['admin.tickets.view', 'admin.tickets.update', 'admin.ticket_messages.create']],
            ['Billing', ['admin.invoices.view', 'admin.invoices.update', 'admin.credits.view']],
        ];
        foreach ($roles as [$name, $permissions]) {
            $this->w['roles']->add([$this->nextId('roles'), $name, json_encode($permissions), $stamp, $stamp]);
        }

        $all = json_encode(self::allPermissions());
        $keys = [
            // name, permissions, type, ip addresses, enabled
            'admin' => [$all, 'admin', null, 1],
            'restricted' => [json_encode(self::RESTRICTED_PERMISSIONS), 'admin', '[]', 1],
            'disabled' => [$all, 'admin', null, 0],
            'wrong_type' => [$all, 'user', null, 1],
            'ip_locked' => [$all, 'admin', json_encode(['10.9.9.9']), 1],
        ];
        foreach (self::tokens($this->seed) as $name => $plain) {
            [$permissions, $type, $ips, $enabled] = $keys[$name];
            $this->w['api_keys']->add([
                $this->nextId('api_keys'), $name, $permissions, hash('sha256', $plain), null, $type, $ips, null,
                $enabled, $stamp, $stamp,
            ]);
        }

        foreach (SEED_CUSTOM_PROPERTIES as $i => [$key, $name, $type, $validation, $allowed, $required, $onInvoice]) {
            $this->w['custom_properties']->add([
                $this->nextId('custom_properties'), $name, $i % 2 === 0 ? "The customer's {$name}" : null, $key,
                $type, self::USER, $validation, $allowed === null ? null : json_encode($allowed),
                $key === 'country' ? 1 : 0, $required, $onInvoice,
            ]);
        }
    }

    private function seedSettings(): void
    {
        $stamp = self::at(self::START);
        $rows = [
            ['timezone', $this->timezone, 'string', 0],
            ['invoice_number', (string) $this->invoiceNumber, 'integer', 0],
            ['invoice_number_padding', '1', 'integer', 0],
            ['invoice_number_format', '{number}', 'string', 0],
            ['invoice_proforma', '0', 'boolean', 0],
            ['ticket_departments', json_encode(self::DEPARTMENTS), 'array', 0],
            ['company_name', 'Paymenter Demo Hosting', 'string', 0],
            ['default_currency', 'USD', 'string', 0],
            ['mail_password', 'eyJpdiI6IkR1bW15IiwidmFsdWUiOiJzZWNyZXQifQ==', 'string', 1],
        ];
        foreach ($rows as [$key, $value, $type, $encrypted]) {
            $this->w['settings']->add([$this->nextId('settings'), $key, $value, $type, $encrypted, null, null, $stamp, $stamp]);
        }
        // Per-product settings share the table; global reads must skip them.
        foreach (array_slice($this->products, 0, 3) as $product) {
            $this->w['settings']->add([
                $this->nextId('settings'), 'server_ram', (string) (1024 * $product['id']), 'integer', 0,
                self::PRODUCT, $product['id'], $stamp, $stamp,
            ]);
        }
    }

    // -- customers ---------------------------------------------------------------------------

    private function seedCustomer(int $user): void
    {
        $created = $this->between(self::START, self::START + (int) ((self::END - self::START) * 0.85));
        [$first, $firstAscii] = $this->rnd->pick(SEED_FIRST_NAMES);
        [$last, $lastAscii] = $this->rnd->pick(SEED_LAST_NAMES);
        // Besides chance, fixed positions guarantee the awkward cases at any scale.
        $firstName = $this->rnd->chance(0.07) || $user % 13 === 6 ? null : $first;
        $lastName = $this->rnd->chance(0.07) || $user % 13 === 8 ? null : $last;
        if ($user % 10 === 4) {
            $firstName = '🚀 Rocket';
        } elseif ($user % 10 === 6) {
            $lastName = '山田';
        }
        $domain = $this->rnd->pick(SEED_EMAIL_DOMAINS);
        $email = match (true) {
            $user % 41 === 9 => "{$firstAscii}%{$user}@example.org",
            $user % 23 === 5 => "{$firstAscii}_{$lastAscii}{$user}@{$domain}",
            $user % 17 === 3 => ucfirst($firstAscii) . '.' . ucfirst($lastAscii) . "{$user}@{$domain}",
            default => "{$firstAscii}.{$lastAscii}{$user}@{$domain}",
        };
        $role = match (true) {
            $user <= 3 => 1,
            $user === 7 => 99, // role_id has no foreign key: a role that does not exist
            $this->rnd->chance(0.02) => $this->rnd->pick([2, 3]),
            default => null,
        };
        if ($role === 1) {
            $this->staff[] = $user;
        }
        $this->w['users']->add([
            $user, $firstName, $lastName, $email, $role,
            $this->rnd->chance(0.25) ? null : self::at($this->between($created, $created + 3 * self::DAY)),
            $this->passwordHash,
            $this->rnd->chance(0.03) ? 'eyJpdiI6I' . $this->rnd->hex(24) . '==' : null,
            self::at($created), self::at($this->touched($created)),
        ]);
        $this->nextId('users');

        $home = (string) $this->rnd->weighted(SEED_CURRENCY_WEIGHTS);
        $credits = $this->seedCredits($user, $home, $created);
        $services = $this->seedOrders($user, $home, $created);
        $invoices = $this->seedInvoices($user, $home, $created, $services, $credits);
        $this->seedUpgrades($services, $invoices);
        $this->seedTickets($user, $created, $services);
        $this->seedProperties($user, $created, $services);
    }

    /** @return list<array{id: int, currency: string}> */
    private function seedCredits(int $user, string $home, int $since): array
    {
        $count = (int) $this->rnd->weighted([0 => 8, 1 => 50, 2 => 27, 3 => 15]);
        $others = array_values(array_diff(array_keys(SEED_CURRENCY_WEIGHTS), [$home]));
        $currencies = [$home, ...$this->rnd->sample($others, 2)];
        $out = [];
        for ($i = 0; $i < $count; $i++) {
            $id = $this->nextId('credits');
            $created = $this->between($since, self::END);
            $amount = $this->amount(100, 20_000);
            $amount = match ($id % 25) {
                4 => 0,
                9 => 250_000_000,
                default => $amount,
            };
            $this->w['credits']->add([
                $id, $user, $currencies[$i], self::money($amount),
                self::at($created), self::at($this->touched($created)),
            ]);
            $out[] = ['id' => $id, 'currency' => $currencies[$i]];
        }
        return $out;
    }

    /** @return list<array{id: int, price: int, quantity: int, currency: string, product: ?array, plan: ?array, created: int}> */
    private function seedOrders(int $user, string $home, int $since): array
    {
        $services = [];
        $orders = (int) $this->rnd->weighted([0 => 5, 1 => 40, 2 => 35, 3 => 20]);
        for ($o = 0; $o < $orders; $o++) {
            $order = $this->nextId('orders');
            $currency = $this->rnd->chance(0.85) ? $home : (string) $this->rnd->weighted(SEED_CURRENCY_WEIGHTS);
            $created = $this->between($since, self::END);
            $this->w['orders']->add([$order, $user, $currency, self::at($created), self::at($this->touched($created))]);
            $count = (int) $this->rnd->weighted([0 => 5, 1 => 70, 2 => 25]);
            for ($s = 0; $s < $count; $s++) {
                $services[] = $this->seedService($user, $order, $currency, $created + $s);
            }
        }
        if ($this->rnd->chance(0.05) || $user % 20 === 2) {
            $services[] = $this->seedService($user, null, $home, $this->between($since, self::END));
        }
        return $services;
    }

    /** @return array{id: int, price: int, quantity: int, currency: string, product: ?array, plan: ?array, created: int} */
    private function seedService(int $user, ?int $order, string $currency, int $created): array
    {
        $id = $this->nextId('services');
        $product = $this->rnd->chance(0.03) ? null : $this->rnd->pick($this->products);
        $plan = $product === null || $this->rnd->chance(0.05) ? null : $this->rnd->pick($product['plans']);
        $cents = $plan['prices'][$currency] ?? $plan['prices']['USD'] ?? null;
        $cents ??= $this->amount(100, 20_000);
        $quantity = $this->rnd->chance(0.85) ? 1 : $this->rnd->int(2, 10);
        $status = (string) $this->rnd->weighted(['active' => 55, 'pending' => 15, 'suspended' => 10, 'cancelled' => 20]);
        $expires = null;
        if (($plan === null || $plan['type'] === 'recurring') && $status !== 'pending' && !$this->rnd->chance(0.15)) {
            $expires = self::at($this->between($created + self::DAY, $created + 400 * self::DAY));
        }
        $this->w['services']->add([
            $id, $status, $order, $product['id'] ?? null, $user, $currency, $quantity, self::money($cents),
            $plan['id'] ?? null,
            $this->rnd->chance(0.1) ? $this->rnd->pick($this->couponIds) : null,
            $expires,
            $this->rnd->chance(0.15) ? 'sub_' . $this->rnd->hex(8) : null,
            self::at($created), self::at($this->touched($created)),
            null,
            $this->rnd->chance(0.1) ? $this->rnd->pick(['My server', 'Café 🍰 site', 'Production', 'staging-01']) : null,
        ]);
        return [
            'id' => $id, 'price' => $cents, 'quantity' => $quantity, 'currency' => $currency,
            'product' => $product, 'plan' => $plan, 'created' => $created,
        ];
    }

    /**
     * @param list<array{id: int, price: int, quantity: int, currency: string, product: ?array, plan: ?array, created: int}> $services
     * @param list<array{id: int, currency: string}> $credits
     * @return list<int> invoice ids
     */
    private function seedInvoices(int $user, string $home, int $since, array $services, array $credits): array
    {
        $ids = [];
        $count = (int) $this->rnd->weighted([0 => 5, 1 => 40, 2 => 35, 3 => 20]);
        for ($i = 0; $i < $count; $i++) {
            $id = $this->nextId('invoices');
            $status = (string) $this->rnd->weighted(['paid' => 55, 'pending' => 30, 'cancelled' => 15]);
            // Invoice 2 has no number, so numbers run one behind ids from there on: the invoice
            // numbered "2" is invoice 3, which is what /invoices/2 finds first.
            $number = null;
            if ($id !== 2 && !($status === 'pending' && $this->rnd->chance(0.15))) {
                $number = (string) ++$this->invoiceNumber;
            }
            $created = $this->between($since, self::END);
            $this->w['invoices']->add([
                $id, $number, $status,
                $this->rnd->chance(0.15) ? null : gmdate('Y-m-d', $created + $this->rnd->int(0, 30) * self::DAY),
                $home, $user, self::at($created), self::at($this->touched($created)),
            ]);
            $total = $this->seedItems($id, $created, $services, $credits);
            $this->seedTransactions($id, $status, $total, $created);
            $ids[] = $id;
        }
        return $ids;
    }

    /**
     * @param list<array{id: int, price: int, quantity: int, currency: string, product: ?array, plan: ?array, created: int}> $services
     * @param list<array{id: int, currency: string}> $credits
     * @return int the invoice total in cents
     */
    private function seedItems(int $invoice, int $created, array $services, array $credits): int
    {
        $total = 0;
        $count = (int) $this->rnd->weighted([1 => 35, 2 => 30, 3 => 20, 4 => 15]);
        for ($k = 0; $k < $count; $k++) {
            $roll = $this->rnd->int(1, 100);
            if ($services !== [] && $roll <= 60) {
                $service = $this->rnd->pick($services);
                $price = $service['price'];
                $quantity = $service['quantity'];
                $from = gmdate('Y-m-d', $created);
                $name = $service['product']['name'] ?? 'Service';
                $description = "{$name} ({$from} - " . gmdate('Y-m-d', $created + 30 * self::DAY) . ')';
                [$type, $ref] = [self::SERVICE, $service['id']];
            } elseif ($credits !== [] && $roll <= 75) {
                $credit = $this->rnd->pick($credits);
                $price = $this->amount(500, 10_000);
                $quantity = 1;
                $description = 'Credit deposit';
                [$type, $ref] = [self::CREDIT, $credit['id']];
            } else {
                $price = $this->amount(100, 15_000);
                $quantity = $this->rnd->chance(0.8) ? 1 : $this->rnd->int(2, 5);
                $description = match ($this->rnd->int(1, 20)) {
                    1 => null,
                    2 => mb_substr('Custom work: ' . $this->text(300), 0, 255),
                    default => $this->rnd->pick(['Setup fee', 'Late fee', 'Migration — one-off', 'Extra IPv4 address', 'Lizenzgebühr (Jahr)', '追加ストレージ 100 GB']),
                };
                [$type, $ref] = [null, null];
            }
            $id = $this->nextId('invoice_items');
            if ($id % 40 === 7) {
                $description = null;
            } elseif ($id % 40 === 11) {
                $price = 0;
            }
            $total += $price * $quantity;
            $this->w['invoice_items']->add([
                $id, $invoice, self::money($price), $quantity, $description, $type, $ref,
                self::at($created), self::at($created),
            ]);
        }
        return $total;
    }

    private function seedTransactions(int $invoice, string $status, int $total, int $created): void
    {
        $rows = [];
        if ($status === 'paid') {
            $rows[] = ['succeeded', $total];
        } elseif ($status === 'pending' && $this->rnd->chance(0.25)) {
            $rows[] = [$this->rnd->pick(['failed', 'processing']), $total];
        }
        foreach ($rows as [$txStatus, $amount]) {
            $credit = $this->rnd->chance(0.1);
            $at = $this->between($created, min(self::END, $created + 20 * self::DAY));
            $this->w['invoice_transactions']->add([
                $this->nextId('invoice_transactions'), $invoice,
                $credit ? null : $this->rnd->int(1, 3),
                self::money($amount),
                $credit || $this->rnd->chance(0.4) ? null : self::money(intdiv($amount * 29, 1000) + 30),
                $credit ? null : 'txn_' . $this->rnd->hex(10),
                $txStatus, $credit ? 1 : 0, self::at($at), self::at($at),
            ]);
        }
    }

    /**
     * @param list<array{id: int, price: int, quantity: int, currency: string, product: ?array, plan: ?array, created: int}> $services
     * @param list<int> $invoices
     */
    private function seedUpgrades(array $services, array $invoices): void
    {
        if ($invoices === []) {
            return;
        }
        foreach ($services as $service) {
            if ($service['product'] === null || count($service['product']['plans']) < 2 || !$this->rnd->chance(0.05)) {
                continue;
            }
            $plan = $this->rnd->pick($service['product']['plans']);
            $at = $this->between($service['created'], self::END);
            $this->w['service_upgrades']->add([
                $this->nextId('service_upgrades'), $service['id'], $plan['id'], $service['product']['id'],
                $this->rnd->pick($invoices), $this->rnd->pick(['pending', 'completed']), 'product',
                self::at($at), self::at($at),
            ]);
        }
    }

    /** @param list<array{id: int, price: int, quantity: int, currency: string, product: ?array, plan: ?array, created: int}> $services */
    private function seedTickets(int $user, int $since, array $services): void
    {
        $count = (int) $this->rnd->weighted([0 => 40, 1 => 35, 2 => 25]);
        for ($t = 0; $t < $count; $t++) {
            $id = $this->nextId('tickets');
            $created = $this->between($since, self::END - 10 * self::DAY);
            $messages = $this->rnd->int(1, 5);
            $at = $created;
            $rows = [];
            for ($m = 0; $m < $messages; $m++) {
                $author = $m === 0 || $this->staff === [] || $this->rnd->chance(0.5) ? $user : $this->rnd->pick($this->staff);
                $rows[] = [$author, $at];
                $at += $this->rnd->int(60, 2 * self::DAY);
            }
            $last = min(self::END, $rows[count($rows) - 1][1]);
            $subject = $this->rnd->pick(SEED_TICKET_SUBJECTS);
            $this->w['tickets']->add([
                $id,
                $this->rnd->chance(0.2) ? "{$subject} (#{$id})" : $subject,
                $this->rnd->weighted(['open' => 40, 'replied' => 30, 'closed' => 30]),
                $this->rnd->pick(['low', 'medium', 'high']),
                $this->rnd->chance(0.15) || $id % 10 === 3 ? null : $this->rnd->pick(self::DEPARTMENTS),
                $user,
                $this->staff === [] || $this->rnd->chance(0.5) ? null : $this->rnd->pick($this->staff),
                $services === [] || $this->rnd->chance(0.6) ? null : $this->rnd->pick($services)['id'],
                self::at($created), self::at($last),
            ]);
            foreach ($rows as [$author, $when]) {
                $this->seedMessage($id, $author, min(self::END, $when));
            }
        }
    }

    private function seedMessage(int $ticket, int $author, int $at): void
    {
        $id = $this->nextId('ticket_messages');
        $length = match (true) {
            $id === 1 => 5000, // the longest message the API accepts
            default => match ((int) $this->rnd->weighted([0 => 70, 1 => 20, 2 => 10])) {
                0 => $this->rnd->int(5, 300),
                1 => $this->rnd->int(300, 1500),
                default => $this->rnd->int(1500, 5000),
            },
        };
        $message = $this->text($length);
        if ($id === 1) {
            $message = str_pad($message, 5000, '.');
        }
        $this->w['ticket_messages']->add([$id, $ticket, $author, $message, null, self::at($at), self::at($at)]);
        if ($this->rnd->chance(0.05) || $id % 30 === 5) {
            for ($a = $this->rnd->int(1, 2); $a > 0; $a--) {
                [$filename, $extension, $mime] = $this->rnd->pick(SEED_ATTACHMENTS);
                $uuid = $this->rnd->uuid();
                $this->w['ticket_message_attachments']->add([
                    $this->nextId('ticket_message_attachments'), $uuid, $filename,
                    "tickets/uploads/{$uuid}.{$extension}", $this->rnd->int(0, 25_000_000), $mime, $id,
                    self::at($at), self::at($at),
                ]);
            }
        }
    }

    /** @param list<array{id: int, price: int, quantity: int, currency: string, product: ?array, plan: ?array, created: int}> $services */
    private function seedProperties(int $user, int $since, array $services): void
    {
        if ($this->rnd->chance(0.5)) {
            $keys = $this->rnd->sample(array_keys(SEED_CUSTOM_PROPERTIES), $this->rnd->int(1, count(SEED_CUSTOM_PROPERTIES)));
            sort($keys);
            foreach ($keys as $index) {
                [$key, $name] = SEED_CUSTOM_PROPERTIES[$index];
                $at = $this->between($since, self::END);
                $this->w['properties']->add([
                    $this->nextId('properties'), $index + 1, $name, $key, $this->rnd->pick(SEED_PROPERTY_VALUES[$key]),
                    self::USER, $user, self::at($at), self::at($this->touched($at)),
                ]);
            }
        }
        foreach ($services as $service) {
            if (!$this->rnd->chance(0.1)) {
                continue;
            }
            $at = $service['created'];
            $this->w['properties']->add([
                $this->nextId('properties'), null, 'Hostname', 'hostname', "srv{$service['id']}.example.net",
                self::SERVICE, $service['id'], self::at($at), self::at($at),
            ]);
            if ($this->rnd->chance(0.5)) {
                $this->w['properties']->add([
                    $this->nextId('properties'), null, 'IP address', 'ip_address',
                    '203.0.113.' . $this->rnd->int(1, 254), self::SERVICE, $service['id'], self::at($at), self::at($at),
                ]);
            }
        }
    }
}
