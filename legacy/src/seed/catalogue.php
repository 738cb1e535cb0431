<?php

declare(strict_types=1);

/**
 * The catalogue and the application's configuration: currencies, categories, products with
 * their plans and prices, coupons, roles, API keys, custom properties and settings.
 * Part of Seeder (see seeder.php), which owns the random source, the writers and the ids.
 */
trait SeedsCatalogue
{
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
                $c === 0 || $c === 4 ? 'WELCOME10' : sprintf('PROMO%03d', $c), // codes are not unique
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
}
