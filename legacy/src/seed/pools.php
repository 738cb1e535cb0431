<?php

declare(strict_types=1);

/*
 * Word pools of the seed data. Names come in pairs [display, ascii] so that e-mail addresses
 * stay ASCII while names carry accents, CJK, Cyrillic, Greek, Arabic and emoji.
 */

const SEED_FIRST_NAMES = [
    ['Anna', 'anna'], ['José', 'jose'], ['Zoë', 'zoe'], ['Łukasz', 'lukasz'], ['François', 'francois'],
    ['Søren', 'soren'], ['Ängela', 'angela'], ['Mário', 'mario'], ['Björk', 'bjork'], ['Chloé', 'chloe'],
    ['Núria', 'nuria'], ['太郎', 'taro'], ['美咲', 'misaki'], ['민준', 'minjun'], ['Алексей', 'aleksei'],
    ['Σοφία', 'sofia'], ['محمد', 'mohammed'], ['🚀 Rocket', 'rocket'], ['Emma', 'emma'], ['Liam', 'liam'],
    ['Noah', 'noah'], ['Olivia', 'olivia'], ['Mia', 'mia'], ['Ivan', 'ivan'], ['Siobhán', 'siobhan'],
    ['Dženana', 'dzenana'], ['Þórunn', 'thorunn'], ['Ngọc', 'ngoc'], ['Renée', 'renee'], ['Jean-Luc', 'jean-luc'],
    ['D\'Arcy', 'darcy'], ['Ayşe', 'ayse'], ['Priyā', 'priya'], ['Günther', 'gunther'], ['Eowyn', 'eowyn'],
];

const SEED_LAST_NAMES = [
    ['Müller', 'muller'], ['García', 'garcia'], ['Nguyễn', 'nguyen'], ['Østergaard', 'ostergaard'],
    ['Dvořák', 'dvorak'], ['Kowalski', 'kowalski'], ['O\'Brien', 'obrien'], ['van der Berg', 'vanderberg'],
    ['山田', 'yamada'], ['佐藤', 'sato'], ['김', 'kim'], ['Иванов', 'ivanov'], ['Παπαδόπουλος', 'papadopoulos'],
    ['Smith', 'smith'], ['Johnson', 'johnson'], ['🦄 Unicorn', 'unicorn'], ['Doe', 'doe'],
    ['Zürcher-Łaski', 'zurcher-laski'], ['Şahin', 'sahin'], ['Lefèvre', 'lefevre'], ['Brontë', 'bronte'],
    ['Fernández', 'fernandez'], ['Jørgensen', 'jorgensen'], ['Williams', 'williams'], ['Łęcka', 'lecka'],
    ['Ruiz', 'ruiz'], ['Al-Farsi', 'al-farsi'], ['Nakamura', 'nakamura'], ['Ferreira', 'ferreira'], ['Lee', 'lee'],
];

const SEED_EMAIL_DOMAINS = ['example.com', 'example.org', 'example.net', 'mail.test', 'Example.COM', 'xn--bcher-kva.example'];

const SEED_WORDS = [
    'server', 'invoice', 'billing', 'renewal', 'domain', 'backup', 'café', 'naïve', 'über', 'résumé',
    'latency', 'upgrade', 'kernel', 'cPanel', 'DNS', 'SSL', 'certificate', 'firewall', 'Minecraft',
    'Zürich', 'São Paulo', '東京', 'サーバー', '請求書', 'сервер', 'δίκτυο', '🔥', '✅', '💾', 'RAM',
    'bandwidth', 'reboot', 'migration', 'nginx', 'PHP', 'payment', 'refund', 'coupon', 'quota',
    '"quoted"', '<b>bold</b>', 'C:\\path\\to', '50%', 'under_score', 'a&b', 'hello', 'thanks', 'please',
];

const SEED_TICKET_SUBJECTS = [
    'Server is down', 'Cannot log in to the control panel', 'Invoice question', 'Refund request',
    'Upgrade my plan', 'DNS not resolving', 'SSL certificate expired', 'Billing address change',
    'Ma facture est incorrecte', 'Rechnung doppelt bezahlt', 'サーバーが応答しません', 'Проблема с оплатой',
    '🔥 Urgent: site offline 🔥', 'Question about "unlimited" bandwidth', 'Migration from another host',
    'Backup restore needed', 'Change of ownership', 'Minecraft server lagging', 'Cancel service #1',
    'Payment failed (card declined)',
];

const SEED_CUSTOM_PROPERTIES = [
    // key, name, type, validation, allowed values, required, show_on_invoice
    ['phone', 'Phone number', 'string', 'max:32', null, 0, 1],
    ['company_name', 'Company name', 'string', 'max:255', null, 0, 1],
    ['address', 'Address', 'string', null, null, 1, 1],
    ['address2', 'Address line 2', 'string', null, null, 0, 1],
    ['city', 'City', 'string', null, null, 1, 1],
    ['state', 'State', 'string', null, null, 0, 1],
    ['zip', 'Zip code', 'string', 'max:16', null, 1, 1],
    ['country', 'Country', 'select', null, ['NL', 'DE', 'US', 'GB', 'JP', 'FR', 'BR', 'CH', 'PL', 'SE'], 1, 1],
];

const SEED_PROPERTY_VALUES = [
    'phone' => ['+31 6 1234 5678', '+1 (555) 010-9999', '+81 3-1234-5678', '+44 20 7946 0958', '0612345678'],
    'company_name' => ['Ærø Hosting ApS', 'Acme Inc.', '株式会社サンプル', 'Müller & Söhne GmbH', 'O\'Reilly Ltd', '🚀 Launchpad'],
    'address' => ['Keizersgracht 123', '1600 Amphitheatre Pkwy', 'Bahnhofstraße 1', 'Rua Augusta 1500', '1-1 Chiyoda'],
    'address2' => ['Apt. 4B', 'Unit 12', '3e verdieping', 'c/o Reception'],
    'city' => ['Amsterdam', 'Zürich', '東京', 'São Paulo', 'Kraków', 'New York', 'Göteborg', 'Paris'],
    'state' => ['NH', 'CA', 'Bayern', 'SP', 'Małopolska', 'Tōkyō'],
    'zip' => ['1015 CJ', '94043', '8001', '01310-100', '100-0001', '31-000'],
    'country' => ['NL', 'DE', 'US', 'GB', 'JP', 'FR', 'BR', 'CH', 'PL', 'SE'],
];

const SEED_CURRENCIES = [
    // code, name, prefix, suffix, format
    ['USD', 'US Dollar', '$', null, '1,000.00'],
    ['EUR', 'Euro', '€', null, '1.000,00'],
    ['GBP', 'British Pound', '£', null, '1,000.00'],
    ['JPY', 'Japanese Yen', '¥', null, '1,000.00'],
    ['CAD', 'Canadian Dollar', 'CA$', null, '1,000.00'],
    ['AUD', 'Australian Dollar', 'A$', null, '1,000.00'],
    ['CHF', 'Swiss Franc', null, ' CHF', '1 000.00'],
    ['SEK', 'Swedish Krona', null, ' kr', '1 000,00'],
    ['PLN', 'Polish Złoty', null, ' zł', '1 000,00'],
    ['BRL', 'Brazilian Real', 'R$', null, '1.000,00'],
];

/** How often each currency is a customer's home currency. */
const SEED_CURRENCY_WEIGHTS = [
    'USD' => 40, 'EUR' => 25, 'GBP' => 10, 'JPY' => 5, 'CAD' => 5, 'AUD' => 4, 'CHF' => 4, 'SEK' => 3,
    'PLN' => 2, 'BRL' => 2,
];

const SEED_CATEGORIES = [
    // slug, name, parent slug
    ['web-hosting', 'Web Hosting', null],
    ['shared-hosting', 'Shared Hosting', 'web-hosting'],
    ['wordpress-hosting', 'WordPress Hosting', 'web-hosting'],
    ['vps', 'VPS', null],
    ['nvme-vps', 'NVMe VPS', 'vps'],
    ['game-servers', 'Game Servers', null],
    ['minecraft', 'Minecraft', 'game-servers'],
    ['modded-minecraft', 'Modded Minecraft', 'minecraft'],
    ['domains', 'Domains', null],
    ['licenses', 'Licences & Add-ons', null],
    ['unicode-zone', 'Ünïcødé 🎮 Zone', null],
    ['dedicated', 'Dedicated Servers', null],
];

const SEED_PRODUCT_NAMES = [
    'Starter', 'Basic', 'Pro', 'Business', 'Ultimate', 'Ryzen 9 • 64 GB', 'Café ☕ Bundle', 'Mini',
    'Plus', 'Premium', 'Enterprise', 'Ｆｕｌｌｗｉｄｔｈ', 'Lite', 'Turbo 🚀', 'Elite', 'Nano', 'Mega',
];

const SEED_BILLING = [
    // name, period, unit
    ['Monthly', 1, 'month'], ['Quarterly', 3, 'month'], ['Yearly', 1, 'year'], ['Biennial', 2, 'year'],
    ['Hourly', 1, 'hour'], ['Daily', 1, 'day'], ['Weekly', 1, 'week'], ['Semi-annual', 6, 'month'],
];

const SEED_ATTACHMENTS = [
    // filename, extension, mime type
    ['screenshot.png', 'png', 'image/png'], ['invoice 2024 (1).pdf', 'pdf', 'application/pdf'],
    ['日本語.txt', 'txt', 'text/plain'], ['error-log.log', 'log', 'text/plain'],
    ['photo.JPG', 'jpg', 'image/jpeg'], ['backup.tar.gz', 'gz', 'application/gzip'],
];
