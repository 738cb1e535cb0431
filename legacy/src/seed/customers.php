<?php

declare(strict_types=1);

/**
 * One customer at a time: the user, credits, orders and services, invoices with items and
 * transactions, service upgrades, tickets with messages and attachments, and properties.
 * Part of Seeder (see seeder.php), which owns the random source, the writers and the ids.
 */
trait SeedsCustomers
{
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
