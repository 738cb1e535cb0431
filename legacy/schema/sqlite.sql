-- Paymenter 1.x table layout, SQLite dialect. Same tables, columns (names and order),
-- nullability, defaults, UNIQUE keys, foreign keys and indexes as mysql.sql.
--
-- How MariaDB types map here, and why:
--
-- * BIGINT UNSIGNED ids: INTEGER PRIMARY KEY AUTOINCREMENT (ids are never reused, as with
--   InnoDB's counter); other integers and booleans: INTEGER. PDO returns PHP ints.
-- * DECIMAL(17,2) money: TEXT holding exactly two decimals ("12.50", "0.00"), so that PDO
--   returns the same string MariaDB returns, and LIKE filters see the same text. A NUMERIC
--   column would hand back floats (12.5) and lose the trailing zero. The *_money triggers
--   rewrite any other spelling a writer stores (12.5, "7") to the two-decimal form. The price
--   is: ORDER BY on a money column compares text; use CAST(col AS REAL) where order matters.
-- * TIMESTAMP / DATETIME: TEXT 'Y-m-d H:i:s'; DATE: TEXT 'Y-m-d' (PDO returns strings, as with
--   MariaDB).
-- * JSON: TEXT with a json_valid() check; ENUM: TEXT with a CHECK on the allowed values.
-- * VARCHAR / CHAR columns are COLLATE NOCASE, the nearest SQLite has to MariaDB's
--   case-insensitive collation (for ASCII): '=' comparisons, UNIQUE keys and sorts then ignore
--   case on both databases.
--
-- PRAGMA foreign_keys = ON is set per connection by src/db.php.

PRAGMA foreign_keys = OFF;

DROP TABLE IF EXISTS service_upgrades;
DROP TABLE IF EXISTS properties;
DROP TABLE IF EXISTS custom_properties;
DROP TABLE IF EXISTS credits;
DROP TABLE IF EXISTS ticket_message_attachments;
DROP TABLE IF EXISTS ticket_messages;
DROP TABLE IF EXISTS tickets;
DROP TABLE IF EXISTS invoice_transactions;
DROP TABLE IF EXISTS invoice_items;
DROP TABLE IF EXISTS invoices;
DROP TABLE IF EXISTS services;
DROP TABLE IF EXISTS orders;
DROP TABLE IF EXISTS coupons;
DROP TABLE IF EXISTS prices;
DROP TABLE IF EXISTS plans;
DROP TABLE IF EXISTS products;
DROP TABLE IF EXISTS categories;
DROP TABLE IF EXISTS currencies;
DROP TABLE IF EXISTS audits;
DROP TABLE IF EXISTS settings;
DROP TABLE IF EXISTS api_keys;
DROP TABLE IF EXISTS roles;
DROP TABLE IF EXISTS users;

PRAGMA foreign_keys = ON;

CREATE TABLE roles (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  name VARCHAR(255) COLLATE NOCASE NOT NULL,
  permissions TEXT NULL CHECK (permissions IS NULL OR json_valid(permissions)),
  created_at TEXT NULL,
  updated_at TEXT NULL,
  CONSTRAINT roles_name_unique UNIQUE (name)
);

CREATE TABLE users (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  first_name VARCHAR(255) COLLATE NOCASE NULL,
  last_name VARCHAR(255) COLLATE NOCASE NULL,
  email VARCHAR(255) COLLATE NOCASE NOT NULL,
  role_id INTEGER NULL,
  email_verified_at TEXT NULL,
  password VARCHAR(255) NOT NULL,
  tfa_secret TEXT NULL,
  created_at TEXT NULL,
  updated_at TEXT NULL,
  CONSTRAINT users_email_unique UNIQUE (email)
);
CREATE INDEX users_role_id_index ON users (role_id);
CREATE INDEX users_first_name_index ON users (first_name);
CREATE INDEX users_last_name_index ON users (last_name);
CREATE INDEX users_created_at_index ON users (created_at);

CREATE TABLE api_keys (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  name VARCHAR(255) COLLATE NOCASE NOT NULL,
  permissions TEXT NULL CHECK (permissions IS NULL OR json_valid(permissions)),
  token VARCHAR(255) COLLATE NOCASE NOT NULL,
  user_id INTEGER NULL REFERENCES users (id) ON DELETE CASCADE ON UPDATE CASCADE,
  type VARCHAR(255) COLLATE NOCASE NULL,
  ip_addresses TEXT NULL CHECK (ip_addresses IS NULL OR json_valid(ip_addresses)),
  last_used_at TEXT NULL,
  enabled INTEGER NOT NULL DEFAULT 1,
  created_at TEXT NULL,
  updated_at TEXT NULL,
  CONSTRAINT api_keys_token_unique UNIQUE (token)
);
CREATE INDEX api_keys_user_id_foreign ON api_keys (user_id);

CREATE TABLE settings (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  key VARCHAR(255) COLLATE NOCASE NOT NULL,
  value TEXT NULL,
  type VARCHAR(255) COLLATE NOCASE NOT NULL DEFAULT 'string',
  encrypted INTEGER NOT NULL DEFAULT 0,
  settingable_type VARCHAR(255) COLLATE NOCASE NULL,
  settingable_id INTEGER NULL,
  created_at TEXT NULL,
  updated_at TEXT NULL,
  CONSTRAINT settings_key_settingable_id_settingable_type_unique UNIQUE (key, settingable_id, settingable_type)
);
CREATE INDEX settings_settingable_type_settingable_id_index ON settings (settingable_type, settingable_id);

CREATE TABLE audits (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  user_type VARCHAR(255) COLLATE NOCASE NULL,
  user_id INTEGER NULL,
  event VARCHAR(255) COLLATE NOCASE NOT NULL,
  auditable_type VARCHAR(255) COLLATE NOCASE NOT NULL,
  auditable_id INTEGER NOT NULL,
  old_values TEXT NULL,
  new_values TEXT NULL,
  url TEXT NULL,
  ip_address VARCHAR(45) COLLATE NOCASE NULL,
  user_agent VARCHAR(1023) COLLATE NOCASE NULL,
  tags VARCHAR(255) COLLATE NOCASE NULL,
  created_at TEXT NULL,
  updated_at TEXT NULL
);
CREATE INDEX audits_auditable_type_auditable_id_index ON audits (auditable_type, auditable_id);
CREATE INDEX audits_user_id_user_type_index ON audits (user_id, user_type);

CREATE TABLE currencies (
  code VARCHAR(3) COLLATE NOCASE NOT NULL PRIMARY KEY,
  name VARCHAR(255) COLLATE NOCASE NOT NULL,
  prefix VARCHAR(255) COLLATE NOCASE NULL,
  suffix VARCHAR(255) COLLATE NOCASE NULL,
  format TEXT NOT NULL DEFAULT '1.000,00'
    CHECK (format IN ('1.000,00', '1,000.00', '1 000,00', '1 000.00'))
);

CREATE TABLE categories (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  slug VARCHAR(255) COLLATE NOCASE NOT NULL,
  name VARCHAR(255) COLLATE NOCASE NOT NULL,
  description TEXT NULL,
  image VARCHAR(255) COLLATE NOCASE NULL,
  parent_id INTEGER NULL REFERENCES categories (id),
  full_slug TEXT NULL,
  sort INTEGER NULL CHECK (sort BETWEEN 0 AND 255),
  created_at TEXT NULL,
  updated_at TEXT NULL,
  CONSTRAINT categories_slug_unique UNIQUE (slug)
);
CREATE INDEX categories_parent_id_foreign ON categories (parent_id);
CREATE INDEX categories_name_index ON categories (name);
CREATE INDEX categories_created_at_index ON categories (created_at);
CREATE INDEX categories_updated_at_index ON categories (updated_at);

CREATE TABLE products (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  category_id INTEGER NOT NULL REFERENCES categories (id),
  name VARCHAR(255) COLLATE NOCASE NOT NULL,
  image VARCHAR(255) COLLATE NOCASE NULL,
  slug VARCHAR(255) COLLATE NOCASE NULL,
  description TEXT NULL,
  stock INTEGER NULL,
  per_user_limit INTEGER NULL,
  sort INTEGER NULL CHECK (sort BETWEEN 0 AND 255),
  allow_quantity TEXT NOT NULL DEFAULT 'disabled'
    CHECK (allow_quantity IN ('disabled', 'separated', 'combined')),
  server_id INTEGER NULL,
  email_template TEXT NULL,
  created_at TEXT NULL,
  updated_at TEXT NULL,
  hidden INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX products_category_id_foreign ON products (category_id);
CREATE INDEX products_server_id_index ON products (server_id);
CREATE INDEX products_name_index ON products (name);
CREATE INDEX products_sort_index ON products (sort);
CREATE INDEX products_stock_index ON products (stock);
CREATE INDEX products_created_at_index ON products (created_at);
CREATE INDEX products_updated_at_index ON products (updated_at);

CREATE TABLE plans (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  name VARCHAR(255) COLLATE NOCASE NULL,
  priceable_type VARCHAR(255) COLLATE NOCASE NOT NULL,
  priceable_id INTEGER NOT NULL,
  type TEXT NOT NULL CHECK (type IN ('free', 'one-time', 'recurring')),
  billing_period INTEGER NULL,
  billing_unit TEXT NULL CHECK (billing_unit IN ('hour', 'day', 'week', 'month', 'year')),
  sort INTEGER NULL CHECK (sort BETWEEN 0 AND 255)
);
CREATE INDEX plans_priceable_type_priceable_id_index ON plans (priceable_type, priceable_id);

CREATE TABLE prices (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  price TEXT NULL,
  setup_fee TEXT NULL,
  currency_code VARCHAR(3) COLLATE NOCASE NOT NULL,
  plan_id INTEGER NULL
);
CREATE INDEX prices_plan_id_index ON prices (plan_id);
CREATE INDEX prices_currency_code_index ON prices (currency_code);

CREATE TABLE coupons (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  type VARCHAR(255) COLLATE NOCASE NOT NULL,
  applies_to VARCHAR(255) COLLATE NOCASE NOT NULL DEFAULT 'all',
  recurring INTEGER NULL,
  code VARCHAR(255) COLLATE NOCASE NOT NULL,
  value TEXT NULL,
  max_uses INTEGER NULL,
  max_uses_per_user INTEGER NULL,
  starts_at TEXT NULL,
  expires_at TEXT NULL,
  created_at TEXT NULL,
  updated_at TEXT NULL
);
CREATE INDEX coupons_code_index ON coupons (code);

CREATE TABLE orders (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  user_id INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
  currency_code CHAR(3) COLLATE NOCASE NOT NULL,
  created_at TEXT NULL,
  updated_at TEXT NULL
);
CREATE INDEX orders_user_id_foreign ON orders (user_id);
CREATE INDEX orders_currency_code_index ON orders (currency_code);
CREATE INDEX orders_created_at_index ON orders (created_at);
CREATE INDEX orders_updated_at_index ON orders (updated_at);

CREATE TABLE services (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  status VARCHAR(255) COLLATE NOCASE NOT NULL DEFAULT 'pending',
  order_id INTEGER NULL REFERENCES orders (id) ON DELETE CASCADE,
  product_id INTEGER NULL REFERENCES products (id) ON DELETE SET NULL,
  user_id INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
  currency_code VARCHAR(3) COLLATE NOCASE NOT NULL,
  quantity INTEGER NOT NULL DEFAULT 1,
  price TEXT NOT NULL,
  plan_id INTEGER NULL REFERENCES plans (id) ON DELETE SET NULL,
  coupon_id INTEGER NULL REFERENCES coupons (id) ON DELETE SET NULL,
  expires_at TEXT NULL,
  subscription_id VARCHAR(255) COLLATE NOCASE NULL,
  created_at TEXT NULL,
  updated_at TEXT NULL,
  billing_agreement_id INTEGER NULL,
  label VARCHAR(255) COLLATE NOCASE NULL
);
CREATE INDEX services_order_id_foreign ON services (order_id);
CREATE INDEX services_product_id_foreign ON services (product_id);
CREATE INDEX services_user_id_foreign ON services (user_id);
CREATE INDEX services_plan_id_foreign ON services (plan_id);
CREATE INDEX services_coupon_id_foreign ON services (coupon_id);
CREATE INDEX services_billing_agreement_id_index ON services (billing_agreement_id);
CREATE INDEX services_status_index ON services (status);
CREATE INDEX services_expires_at_index ON services (expires_at);
CREATE INDEX services_created_at_index ON services (created_at);
CREATE INDEX services_updated_at_index ON services (updated_at);

CREATE TABLE invoices (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  number VARCHAR(255) COLLATE NOCASE NULL,
  status VARCHAR(255) COLLATE NOCASE NOT NULL DEFAULT 'pending',
  due_at TEXT NULL,
  currency_code VARCHAR(3) COLLATE NOCASE NOT NULL,
  user_id INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
  created_at TEXT NULL,
  updated_at TEXT NULL,
  CONSTRAINT invoices_number_unique UNIQUE (number)
);
CREATE INDEX invoices_user_id_foreign ON invoices (user_id);
CREATE INDEX invoices_currency_code_index ON invoices (currency_code);
CREATE INDEX invoices_created_at_index ON invoices (created_at);
CREATE INDEX invoices_updated_at_index ON invoices (updated_at);

CREATE TABLE invoice_items (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  invoice_id INTEGER NOT NULL REFERENCES invoices (id) ON DELETE CASCADE,
  price TEXT NOT NULL,
  quantity INTEGER NOT NULL DEFAULT 1,
  description VARCHAR(255) COLLATE NOCASE NULL,
  reference_type VARCHAR(255) COLLATE NOCASE NULL,
  reference_id INTEGER NULL,
  created_at TEXT NULL,
  updated_at TEXT NULL
);
CREATE INDEX invoice_items_invoice_id_foreign ON invoice_items (invoice_id);
CREATE INDEX invoice_items_reference_type_reference_id_index ON invoice_items (reference_type, reference_id);
CREATE INDEX invoice_items_quantity_index ON invoice_items (quantity);
CREATE INDEX invoice_items_price_index ON invoice_items (price);
CREATE INDEX invoice_items_created_at_index ON invoice_items (created_at);
CREATE INDEX invoice_items_updated_at_index ON invoice_items (updated_at);

CREATE TABLE invoice_transactions (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  invoice_id INTEGER NOT NULL REFERENCES invoices (id) ON DELETE CASCADE,
  gateway_id INTEGER NULL,
  amount TEXT NOT NULL,
  fee TEXT NULL,
  transaction_id VARCHAR(255) COLLATE NOCASE NULL,
  status VARCHAR(255) COLLATE NOCASE NOT NULL DEFAULT 'succeeded',
  is_credit_transaction INTEGER NOT NULL DEFAULT 0,
  created_at TEXT NULL,
  updated_at TEXT NULL
);
CREATE INDEX invoice_transactions_invoice_id_foreign ON invoice_transactions (invoice_id);
CREATE INDEX invoice_transactions_gateway_id_index ON invoice_transactions (gateway_id);

CREATE TABLE tickets (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  subject VARCHAR(255) COLLATE NOCASE NOT NULL,
  status VARCHAR(255) COLLATE NOCASE NOT NULL DEFAULT 'open',
  priority VARCHAR(255) COLLATE NOCASE NOT NULL DEFAULT 'normal',
  department VARCHAR(255) COLLATE NOCASE NULL,
  user_id INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
  assigned_to INTEGER NULL REFERENCES users (id) ON DELETE SET NULL,
  service_id INTEGER NULL REFERENCES services (id) ON DELETE SET NULL,
  created_at TEXT NULL,
  updated_at TEXT NULL
);
CREATE INDEX tickets_user_id_foreign ON tickets (user_id);
CREATE INDEX tickets_assigned_to_foreign ON tickets (assigned_to);
CREATE INDEX tickets_service_id_foreign ON tickets (service_id);
CREATE INDEX tickets_status_index ON tickets (status);
CREATE INDEX tickets_priority_index ON tickets (priority);
CREATE INDEX tickets_department_index ON tickets (department);
CREATE INDEX tickets_created_at_index ON tickets (created_at);
CREATE INDEX tickets_updated_at_index ON tickets (updated_at);

-- ticket_mail_log_id refers to ticket_mail_logs (e-mail piping), which this application does
-- not have: the column is kept, indexed, without its constraint.
CREATE TABLE ticket_messages (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  ticket_id INTEGER NOT NULL REFERENCES tickets (id) ON DELETE CASCADE,
  user_id INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
  message TEXT NOT NULL,
  ticket_mail_log_id INTEGER NULL,
  created_at TEXT NULL,
  updated_at TEXT NULL
);
CREATE INDEX ticket_messages_ticket_id_foreign ON ticket_messages (ticket_id);
CREATE INDEX ticket_messages_user_id_foreign ON ticket_messages (user_id);
CREATE INDEX ticket_messages_ticket_mail_log_id_index ON ticket_messages (ticket_mail_log_id);
CREATE INDEX ticket_messages_created_at_index ON ticket_messages (created_at);
CREATE INDEX ticket_messages_updated_at_index ON ticket_messages (updated_at);

CREATE TABLE ticket_message_attachments (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  uuid CHAR(36) COLLATE NOCASE NOT NULL,
  filename VARCHAR(255) COLLATE NOCASE NOT NULL,
  path VARCHAR(255) COLLATE NOCASE NOT NULL,
  filesize INTEGER NOT NULL CHECK (filesize >= 0),
  mime_type VARCHAR(255) COLLATE NOCASE NOT NULL,
  ticket_message_id INTEGER NOT NULL REFERENCES ticket_messages (id) ON DELETE CASCADE,
  created_at TEXT NULL,
  updated_at TEXT NULL
);
CREATE INDEX ticket_message_attachments_ticket_message_id_foreign ON ticket_message_attachments (ticket_message_id);

CREATE TABLE credits (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  user_id INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
  currency_code VARCHAR(3) COLLATE NOCASE NOT NULL,
  amount TEXT NOT NULL,
  created_at TEXT NULL,
  updated_at TEXT NULL
);
CREATE INDEX credits_user_id_foreign ON credits (user_id);
CREATE INDEX credits_currency_code_index ON credits (currency_code);
CREATE INDEX credits_created_at_index ON credits (created_at);
CREATE INDEX credits_updated_at_index ON credits (updated_at);

CREATE TABLE custom_properties (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  name VARCHAR(255) COLLATE NOCASE NOT NULL,
  description VARCHAR(255) COLLATE NOCASE NULL,
  key VARCHAR(255) COLLATE NOCASE NOT NULL,
  type VARCHAR(255) COLLATE NOCASE NOT NULL,
  model VARCHAR(255) COLLATE NOCASE NOT NULL,
  validation VARCHAR(255) COLLATE NOCASE NULL,
  allowed_values TEXT NULL CHECK (allowed_values IS NULL OR json_valid(allowed_values)),
  non_editable INTEGER NOT NULL DEFAULT 0,
  required INTEGER NOT NULL DEFAULT 0,
  show_on_invoice INTEGER NOT NULL DEFAULT 0,
  CONSTRAINT custom_properties_key_unique UNIQUE (key)
);

CREATE TABLE properties (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  custom_property_id INTEGER NULL REFERENCES custom_properties (id) ON DELETE CASCADE,
  name VARCHAR(255) COLLATE NOCASE NULL,
  key VARCHAR(255) COLLATE NOCASE NOT NULL,
  value TEXT NOT NULL,
  model_type VARCHAR(255) COLLATE NOCASE NOT NULL,
  model_id INTEGER NOT NULL,
  created_at TEXT NULL,
  updated_at TEXT NULL,
  CONSTRAINT properties_key_model_id_model_type_unique UNIQUE (key, model_id, model_type)
);
CREATE INDEX properties_model_type_model_id_index ON properties (model_type, model_id);
CREATE INDEX properties_custom_property_id_foreign ON properties (custom_property_id);

CREATE TABLE service_upgrades (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  service_id INTEGER NOT NULL REFERENCES services (id) ON DELETE CASCADE,
  plan_id INTEGER NOT NULL REFERENCES plans (id) ON DELETE CASCADE,
  product_id INTEGER NOT NULL REFERENCES products (id) ON DELETE CASCADE,
  invoice_id INTEGER NOT NULL REFERENCES invoices (id) ON DELETE CASCADE,
  status VARCHAR(255) COLLATE NOCASE NOT NULL DEFAULT 'pending',
  type VARCHAR(255) COLLATE NOCASE NOT NULL DEFAULT 'product',
  created_at TEXT NULL,
  updated_at TEXT NULL
);
CREATE INDEX service_upgrades_service_id_foreign ON service_upgrades (service_id);
CREATE INDEX service_upgrades_plan_id_foreign ON service_upgrades (plan_id);
CREATE INDEX service_upgrades_product_id_foreign ON service_upgrades (product_id);
CREATE INDEX service_upgrades_invoice_id_foreign ON service_upgrades (invoice_id);

-- Money columns keep the two-decimal text MariaDB would return, whatever a writer stored.
CREATE TRIGGER prices_money AFTER INSERT ON prices
WHEN NEW.price IS NOT printf('%.2f', NEW.price) AND NEW.price IS NOT NULL
  OR NEW.setup_fee IS NOT printf('%.2f', NEW.setup_fee) AND NEW.setup_fee IS NOT NULL
BEGIN
  UPDATE prices SET
    price = CASE WHEN price IS NULL THEN NULL ELSE printf('%.2f', price) END,
    setup_fee = CASE WHEN setup_fee IS NULL THEN NULL ELSE printf('%.2f', setup_fee) END
  WHERE id = NEW.id;
END;
CREATE TRIGGER prices_money_update AFTER UPDATE OF price, setup_fee ON prices
WHEN NEW.price IS NOT printf('%.2f', NEW.price) AND NEW.price IS NOT NULL
  OR NEW.setup_fee IS NOT printf('%.2f', NEW.setup_fee) AND NEW.setup_fee IS NOT NULL
BEGIN
  UPDATE prices SET
    price = CASE WHEN price IS NULL THEN NULL ELSE printf('%.2f', price) END,
    setup_fee = CASE WHEN setup_fee IS NULL THEN NULL ELSE printf('%.2f', setup_fee) END
  WHERE id = NEW.id;
END;

CREATE TRIGGER coupons_money AFTER INSERT ON coupons
WHEN NEW.value IS NOT printf('%.2f', NEW.value) AND NEW.value IS NOT NULL
BEGIN
  UPDATE coupons SET value = printf('%.2f', value) WHERE id = NEW.id;
END;
CREATE TRIGGER coupons_money_update AFTER UPDATE OF value ON coupons
WHEN NEW.value IS NOT printf('%.2f', NEW.value) AND NEW.value IS NOT NULL
BEGIN
  UPDATE coupons SET value = printf('%.2f', value) WHERE id = NEW.id;
END;

CREATE TRIGGER services_money AFTER INSERT ON services
WHEN NEW.price IS NOT printf('%.2f', NEW.price)
BEGIN
  UPDATE services SET price = printf('%.2f', price) WHERE id = NEW.id;
END;
CREATE TRIGGER services_money_update AFTER UPDATE OF price ON services
WHEN NEW.price IS NOT printf('%.2f', NEW.price)
BEGIN
  UPDATE services SET price = printf('%.2f', price) WHERE id = NEW.id;
END;

CREATE TRIGGER invoice_items_money AFTER INSERT ON invoice_items
WHEN NEW.price IS NOT printf('%.2f', NEW.price)
BEGIN
  UPDATE invoice_items SET price = printf('%.2f', price) WHERE id = NEW.id;
END;
CREATE TRIGGER invoice_items_money_update AFTER UPDATE OF price ON invoice_items
WHEN NEW.price IS NOT printf('%.2f', NEW.price)
BEGIN
  UPDATE invoice_items SET price = printf('%.2f', price) WHERE id = NEW.id;
END;

CREATE TRIGGER invoice_transactions_money AFTER INSERT ON invoice_transactions
WHEN NEW.amount IS NOT printf('%.2f', NEW.amount)
  OR NEW.fee IS NOT printf('%.2f', NEW.fee) AND NEW.fee IS NOT NULL
BEGIN
  UPDATE invoice_transactions SET
    amount = printf('%.2f', amount),
    fee = CASE WHEN fee IS NULL THEN NULL ELSE printf('%.2f', fee) END
  WHERE id = NEW.id;
END;
CREATE TRIGGER invoice_transactions_money_update AFTER UPDATE OF amount, fee ON invoice_transactions
WHEN NEW.amount IS NOT printf('%.2f', NEW.amount)
  OR NEW.fee IS NOT printf('%.2f', NEW.fee) AND NEW.fee IS NOT NULL
BEGIN
  UPDATE invoice_transactions SET
    amount = printf('%.2f', amount),
    fee = CASE WHEN fee IS NULL THEN NULL ELSE printf('%.2f', fee) END
  WHERE id = NEW.id;
END;

CREATE TRIGGER credits_money AFTER INSERT ON credits
WHEN NEW.amount IS NOT printf('%.2f', NEW.amount)
BEGIN
  UPDATE credits SET amount = printf('%.2f', amount) WHERE id = NEW.id;
END;
CREATE TRIGGER credits_money_update AFTER UPDATE OF amount ON credits
WHEN NEW.amount IS NOT printf('%.2f', NEW.amount)
BEGIN
  UPDATE credits SET amount = printf('%.2f', amount) WHERE id = NEW.id;
END;
