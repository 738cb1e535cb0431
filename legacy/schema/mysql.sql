-- Paymenter 1.x table layout, MariaDB / MySQL dialect (InnoDB, utf8mb4).
--
-- Column names, order, nullability, defaults, UNIQUE keys and foreign keys follow Paymenter's
-- migrations; sqlite.sql is the same schema for SQLite and must stay column-for-column equal.
--
-- * JSON columns are LONGTEXT with a json_valid() check (what MariaDB makes of `json`; on MySQL
--   this keeps the text verbatim instead of reformatting it).
-- * Money is DECIMAL(17,2); PDO returns it as a string such as "12.50".
-- * The collation is utf8mb4_unicode_ci so that the file loads on MariaDB and MySQL alike
--   (Paymenter itself uses utf8mb4_uca1400_ai_ci on MariaDB 10.10+).
-- * Every foreign key column and every sortable column has an index.
--
-- The statements are separated by ";" at the end of a line: bin/seed.php splits on that.

SET FOREIGN_KEY_CHECKS = 0;

DROP TABLE IF EXISTS `service_upgrades`;
DROP TABLE IF EXISTS `properties`;
DROP TABLE IF EXISTS `custom_properties`;
DROP TABLE IF EXISTS `credits`;
DROP TABLE IF EXISTS `ticket_message_attachments`;
DROP TABLE IF EXISTS `ticket_messages`;
DROP TABLE IF EXISTS `tickets`;
DROP TABLE IF EXISTS `invoice_transactions`;
DROP TABLE IF EXISTS `invoice_items`;
DROP TABLE IF EXISTS `invoices`;
DROP TABLE IF EXISTS `services`;
DROP TABLE IF EXISTS `orders`;
DROP TABLE IF EXISTS `coupons`;
DROP TABLE IF EXISTS `prices`;
DROP TABLE IF EXISTS `plans`;
DROP TABLE IF EXISTS `products`;
DROP TABLE IF EXISTS `categories`;
DROP TABLE IF EXISTS `currencies`;
DROP TABLE IF EXISTS `audits`;
DROP TABLE IF EXISTS `settings`;
DROP TABLE IF EXISTS `api_keys`;
DROP TABLE IF EXISTS `roles`;
DROP TABLE IF EXISTS `users`;

SET FOREIGN_KEY_CHECKS = 1;

CREATE TABLE `roles` (
  `id` BIGINT UNSIGNED NOT NULL AUTO_INCREMENT,
  `name` VARCHAR(255) NOT NULL,
  `permissions` LONGTEXT NULL CHECK (json_valid(`permissions`)),
  `created_at` TIMESTAMP NULL,
  `updated_at` TIMESTAMP NULL,
  PRIMARY KEY (`id`),
  UNIQUE KEY `roles_name_unique` (`name`)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

CREATE TABLE `users` (
  `id` BIGINT UNSIGNED NOT NULL AUTO_INCREMENT,
  `first_name` VARCHAR(255) NULL,
  `last_name` VARCHAR(255) NULL,
  `email` VARCHAR(255) NOT NULL,
  `role_id` BIGINT UNSIGNED NULL,
  `email_verified_at` TIMESTAMP NULL,
  `password` VARCHAR(255) NOT NULL,
  `tfa_secret` TEXT NULL,
  `created_at` TIMESTAMP NULL,
  `updated_at` TIMESTAMP NULL,
  PRIMARY KEY (`id`),
  UNIQUE KEY `users_email_unique` (`email`),
  KEY `users_role_id_index` (`role_id`),
  KEY `users_first_name_index` (`first_name`),
  KEY `users_last_name_index` (`last_name`),
  KEY `users_created_at_index` (`created_at`)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

CREATE TABLE `api_keys` (
  `id` BIGINT UNSIGNED NOT NULL AUTO_INCREMENT,
  `name` VARCHAR(255) NOT NULL,
  `permissions` LONGTEXT NULL CHECK (json_valid(`permissions`)),
  `token` VARCHAR(255) NOT NULL,
  `user_id` BIGINT UNSIGNED NULL,
  `type` VARCHAR(255) NULL,
  `ip_addresses` LONGTEXT NULL CHECK (json_valid(`ip_addresses`)),
  `last_used_at` DATETIME NULL,
  `enabled` TINYINT(1) NOT NULL DEFAULT 1,
  `created_at` TIMESTAMP NULL,
  `updated_at` TIMESTAMP NULL,
  PRIMARY KEY (`id`),
  UNIQUE KEY `api_keys_token_unique` (`token`),
  KEY `api_keys_user_id_foreign` (`user_id`),
  CONSTRAINT `api_keys_user_id_foreign` FOREIGN KEY (`user_id`) REFERENCES `users` (`id`)
    ON DELETE CASCADE ON UPDATE CASCADE
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

CREATE TABLE `settings` (
  `id` BIGINT UNSIGNED NOT NULL AUTO_INCREMENT,
  `key` VARCHAR(255) NOT NULL,
  `value` TEXT NULL,
  `type` VARCHAR(255) NOT NULL DEFAULT 'string',
  `encrypted` TINYINT(1) NOT NULL DEFAULT 0,
  `settingable_type` VARCHAR(255) NULL,
  `settingable_id` BIGINT UNSIGNED NULL,
  `created_at` TIMESTAMP NULL,
  `updated_at` TIMESTAMP NULL,
  PRIMARY KEY (`id`),
  UNIQUE KEY `settings_key_settingable_id_settingable_type_unique` (`key`, `settingable_id`, `settingable_type`),
  KEY `settings_settingable_type_settingable_id_index` (`settingable_type`, `settingable_id`)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

CREATE TABLE `audits` (
  `id` BIGINT UNSIGNED NOT NULL AUTO_INCREMENT,
  `user_type` VARCHAR(255) NULL,
  `user_id` BIGINT UNSIGNED NULL,
  `event` VARCHAR(255) NOT NULL,
  `auditable_type` VARCHAR(255) NOT NULL,
  `auditable_id` BIGINT UNSIGNED NOT NULL,
  `old_values` TEXT NULL,
  `new_values` TEXT NULL,
  `url` TEXT NULL,
  `ip_address` VARCHAR(45) NULL,
  `user_agent` VARCHAR(1023) NULL,
  `tags` VARCHAR(255) NULL,
  `created_at` TIMESTAMP NULL,
  `updated_at` TIMESTAMP NULL,
  PRIMARY KEY (`id`),
  KEY `audits_auditable_type_auditable_id_index` (`auditable_type`, `auditable_id`),
  KEY `audits_user_id_user_type_index` (`user_id`, `user_type`)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

CREATE TABLE `currencies` (
  `code` VARCHAR(3) NOT NULL,
  `name` VARCHAR(255) NOT NULL,
  `prefix` VARCHAR(255) NULL,
  `suffix` VARCHAR(255) NULL,
  `format` ENUM('1.000,00', '1,000.00', '1 000,00', '1 000.00') NOT NULL DEFAULT '1.000,00',
  PRIMARY KEY (`code`)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

CREATE TABLE `categories` (
  `id` BIGINT UNSIGNED NOT NULL AUTO_INCREMENT,
  `slug` VARCHAR(255) NOT NULL,
  `name` VARCHAR(255) NOT NULL,
  `description` TEXT NULL,
  `image` VARCHAR(255) NULL,
  `parent_id` BIGINT UNSIGNED NULL,
  `full_slug` TEXT NULL,
  `sort` TINYINT UNSIGNED NULL,
  `created_at` TIMESTAMP NULL,
  `updated_at` TIMESTAMP NULL,
  PRIMARY KEY (`id`),
  UNIQUE KEY `categories_slug_unique` (`slug`),
  KEY `categories_parent_id_foreign` (`parent_id`),
  KEY `categories_name_index` (`name`),
  KEY `categories_created_at_index` (`created_at`),
  KEY `categories_updated_at_index` (`updated_at`),
  CONSTRAINT `categories_parent_id_foreign` FOREIGN KEY (`parent_id`) REFERENCES `categories` (`id`)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

CREATE TABLE `products` (
  `id` BIGINT UNSIGNED NOT NULL AUTO_INCREMENT,
  `category_id` BIGINT UNSIGNED NOT NULL,
  `name` VARCHAR(255) NOT NULL,
  `image` VARCHAR(255) NULL,
  `slug` VARCHAR(255) NULL,
  `description` TEXT NULL,
  `stock` INT NULL,
  `per_user_limit` INT NULL,
  `sort` TINYINT UNSIGNED NULL,
  `allow_quantity` ENUM('disabled', 'separated', 'combined') NOT NULL DEFAULT 'disabled',
  `server_id` BIGINT UNSIGNED NULL,
  `email_template` TEXT NULL,
  `created_at` TIMESTAMP NULL,
  `updated_at` TIMESTAMP NULL,
  `hidden` TINYINT(1) NOT NULL DEFAULT 0,
  PRIMARY KEY (`id`),
  KEY `products_category_id_foreign` (`category_id`),
  KEY `products_server_id_index` (`server_id`),
  KEY `products_name_index` (`name`),
  KEY `products_sort_index` (`sort`),
  KEY `products_stock_index` (`stock`),
  KEY `products_created_at_index` (`created_at`),
  KEY `products_updated_at_index` (`updated_at`),
  CONSTRAINT `products_category_id_foreign` FOREIGN KEY (`category_id`) REFERENCES `categories` (`id`)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

CREATE TABLE `plans` (
  `id` BIGINT UNSIGNED NOT NULL AUTO_INCREMENT,
  `name` VARCHAR(255) NULL,
  `priceable_type` VARCHAR(255) NOT NULL,
  `priceable_id` BIGINT UNSIGNED NOT NULL,
  `type` ENUM('free', 'one-time', 'recurring') NOT NULL,
  `billing_period` INT NULL,
  `billing_unit` ENUM('hour', 'day', 'week', 'month', 'year') NULL,
  `sort` TINYINT UNSIGNED NULL,
  PRIMARY KEY (`id`),
  KEY `plans_priceable_type_priceable_id_index` (`priceable_type`, `priceable_id`)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

CREATE TABLE `prices` (
  `id` BIGINT UNSIGNED NOT NULL AUTO_INCREMENT,
  `price` DECIMAL(17,2) NULL,
  `setup_fee` DECIMAL(17,2) NULL,
  `currency_code` VARCHAR(3) NOT NULL,
  `plan_id` BIGINT UNSIGNED NULL,
  PRIMARY KEY (`id`),
  KEY `prices_plan_id_index` (`plan_id`),
  KEY `prices_currency_code_index` (`currency_code`)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

CREATE TABLE `coupons` (
  `id` BIGINT UNSIGNED NOT NULL AUTO_INCREMENT,
  `type` VARCHAR(255) NOT NULL,
  `applies_to` VARCHAR(255) NOT NULL DEFAULT 'all',
  `recurring` INT NULL,
  `code` VARCHAR(255) NOT NULL,
  `value` DECIMAL(17,2) NULL,
  `max_uses` INT NULL,
  `max_uses_per_user` INT NULL,
  `starts_at` DATETIME NULL,
  `expires_at` DATETIME NULL,
  `created_at` TIMESTAMP NULL,
  `updated_at` TIMESTAMP NULL,
  PRIMARY KEY (`id`),
  KEY `coupons_code_index` (`code`)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

CREATE TABLE `orders` (
  `id` BIGINT UNSIGNED NOT NULL AUTO_INCREMENT,
  `user_id` BIGINT UNSIGNED NOT NULL,
  `currency_code` CHAR(3) NOT NULL,
  `created_at` TIMESTAMP NULL,
  `updated_at` TIMESTAMP NULL,
  PRIMARY KEY (`id`),
  KEY `orders_user_id_foreign` (`user_id`),
  KEY `orders_currency_code_index` (`currency_code`),
  KEY `orders_created_at_index` (`created_at`),
  KEY `orders_updated_at_index` (`updated_at`),
  CONSTRAINT `orders_user_id_foreign` FOREIGN KEY (`user_id`) REFERENCES `users` (`id`) ON DELETE CASCADE
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

CREATE TABLE `services` (
  `id` BIGINT UNSIGNED NOT NULL AUTO_INCREMENT,
  `status` VARCHAR(255) NOT NULL DEFAULT 'pending',
  `order_id` BIGINT UNSIGNED NULL,
  `product_id` BIGINT UNSIGNED NULL,
  `user_id` BIGINT UNSIGNED NOT NULL,
  `currency_code` VARCHAR(3) NOT NULL,
  `quantity` INT NOT NULL DEFAULT 1,
  `price` DECIMAL(17,2) NOT NULL,
  `plan_id` BIGINT UNSIGNED NULL,
  `coupon_id` BIGINT UNSIGNED NULL,
  `expires_at` DATETIME NULL,
  `subscription_id` VARCHAR(255) NULL,
  `created_at` TIMESTAMP NULL,
  `updated_at` TIMESTAMP NULL,
  `billing_agreement_id` BIGINT UNSIGNED NULL,
  `label` VARCHAR(255) NULL,
  PRIMARY KEY (`id`),
  KEY `services_order_id_foreign` (`order_id`),
  KEY `services_product_id_foreign` (`product_id`),
  KEY `services_user_id_foreign` (`user_id`),
  KEY `services_plan_id_foreign` (`plan_id`),
  KEY `services_coupon_id_foreign` (`coupon_id`),
  KEY `services_billing_agreement_id_index` (`billing_agreement_id`),
  KEY `services_status_index` (`status`),
  KEY `services_expires_at_index` (`expires_at`),
  KEY `services_created_at_index` (`created_at`),
  KEY `services_updated_at_index` (`updated_at`),
  CONSTRAINT `services_order_id_foreign` FOREIGN KEY (`order_id`) REFERENCES `orders` (`id`) ON DELETE CASCADE,
  CONSTRAINT `services_product_id_foreign` FOREIGN KEY (`product_id`) REFERENCES `products` (`id`) ON DELETE SET NULL,
  CONSTRAINT `services_user_id_foreign` FOREIGN KEY (`user_id`) REFERENCES `users` (`id`) ON DELETE CASCADE,
  CONSTRAINT `services_plan_id_foreign` FOREIGN KEY (`plan_id`) REFERENCES `plans` (`id`) ON DELETE SET NULL,
  CONSTRAINT `services_coupon_id_foreign` FOREIGN KEY (`coupon_id`) REFERENCES `coupons` (`id`) ON DELETE SET NULL
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

CREATE TABLE `invoices` (
  `id` BIGINT UNSIGNED NOT NULL AUTO_INCREMENT,
  `number` VARCHAR(255) NULL,
  `status` VARCHAR(255) NOT NULL DEFAULT 'pending',
  `due_at` DATE NULL,
  `currency_code` VARCHAR(3) NOT NULL,
  `user_id` BIGINT UNSIGNED NOT NULL,
  `created_at` TIMESTAMP NULL,
  `updated_at` TIMESTAMP NULL,
  PRIMARY KEY (`id`),
  UNIQUE KEY `invoices_number_unique` (`number`),
  KEY `invoices_user_id_foreign` (`user_id`),
  KEY `invoices_currency_code_index` (`currency_code`),
  KEY `invoices_created_at_index` (`created_at`),
  KEY `invoices_updated_at_index` (`updated_at`),
  CONSTRAINT `invoices_user_id_foreign` FOREIGN KEY (`user_id`) REFERENCES `users` (`id`) ON DELETE CASCADE
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

CREATE TABLE `invoice_items` (
  `id` BIGINT UNSIGNED NOT NULL AUTO_INCREMENT,
  `invoice_id` BIGINT UNSIGNED NOT NULL,
  `price` DECIMAL(17,2) NOT NULL,
  `quantity` INT NOT NULL DEFAULT 1,
  `description` VARCHAR(255) NULL,
  `reference_type` VARCHAR(255) NULL,
  `reference_id` BIGINT UNSIGNED NULL,
  `created_at` TIMESTAMP NULL,
  `updated_at` TIMESTAMP NULL,
  PRIMARY KEY (`id`),
  KEY `invoice_items_invoice_id_foreign` (`invoice_id`),
  KEY `invoice_items_reference_type_reference_id_index` (`reference_type`, `reference_id`),
  KEY `invoice_items_quantity_index` (`quantity`),
  KEY `invoice_items_price_index` (`price`),
  KEY `invoice_items_created_at_index` (`created_at`),
  KEY `invoice_items_updated_at_index` (`updated_at`),
  CONSTRAINT `invoice_items_invoice_id_foreign` FOREIGN KEY (`invoice_id`) REFERENCES `invoices` (`id`) ON DELETE CASCADE
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

CREATE TABLE `invoice_transactions` (
  `id` BIGINT UNSIGNED NOT NULL AUTO_INCREMENT,
  `invoice_id` BIGINT UNSIGNED NOT NULL,
  `gateway_id` BIGINT UNSIGNED NULL,
  `amount` DECIMAL(17,2) NOT NULL,
  `fee` DECIMAL(17,2) NULL,
  `transaction_id` VARCHAR(255) NULL,
  `status` VARCHAR(255) NOT NULL DEFAULT 'succeeded',
  `is_credit_transaction` TINYINT(1) NOT NULL DEFAULT 0,
  `created_at` TIMESTAMP NULL,
  `updated_at` TIMESTAMP NULL,
  PRIMARY KEY (`id`),
  KEY `invoice_transactions_invoice_id_foreign` (`invoice_id`),
  KEY `invoice_transactions_gateway_id_index` (`gateway_id`),
  CONSTRAINT `invoice_transactions_invoice_id_foreign` FOREIGN KEY (`invoice_id`) REFERENCES `invoices` (`id`) ON DELETE CASCADE
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

CREATE TABLE `tickets` (
  `id` BIGINT UNSIGNED NOT NULL AUTO_INCREMENT,
  `subject` VARCHAR(255) NOT NULL,
  `status` VARCHAR(255) NOT NULL DEFAULT 'open',
  `priority` VARCHAR(255) NOT NULL DEFAULT 'normal',
  `department` VARCHAR(255) NULL,
  `user_id` BIGINT UNSIGNED NOT NULL,
  `assigned_to` BIGINT UNSIGNED NULL,
  `service_id` BIGINT UNSIGNED NULL,
  `created_at` TIMESTAMP NULL,
  `updated_at` TIMESTAMP NULL,
  PRIMARY KEY (`id`),
  KEY `tickets_user_id_foreign` (`user_id`),
  KEY `tickets_assigned_to_foreign` (`assigned_to`),
  KEY `tickets_service_id_foreign` (`service_id`),
  KEY `tickets_status_index` (`status`),
  KEY `tickets_priority_index` (`priority`),
  KEY `tickets_department_index` (`department`),
  KEY `tickets_created_at_index` (`created_at`),
  KEY `tickets_updated_at_index` (`updated_at`),
  CONSTRAINT `tickets_user_id_foreign` FOREIGN KEY (`user_id`) REFERENCES `users` (`id`) ON DELETE CASCADE,
  CONSTRAINT `tickets_assigned_to_foreign` FOREIGN KEY (`assigned_to`) REFERENCES `users` (`id`) ON DELETE SET NULL,
  CONSTRAINT `tickets_service_id_foreign` FOREIGN KEY (`service_id`) REFERENCES `services` (`id`) ON DELETE SET NULL
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

-- ticket_mail_log_id refers to ticket_mail_logs (e-mail piping), which this application does
-- not have: the column is kept, indexed, without its constraint.
CREATE TABLE `ticket_messages` (
  `id` BIGINT UNSIGNED NOT NULL AUTO_INCREMENT,
  `ticket_id` BIGINT UNSIGNED NOT NULL,
  `user_id` BIGINT UNSIGNED NOT NULL,
  `message` TEXT NOT NULL,
  `ticket_mail_log_id` BIGINT UNSIGNED NULL,
  `created_at` TIMESTAMP NULL,
  `updated_at` TIMESTAMP NULL,
  PRIMARY KEY (`id`),
  KEY `ticket_messages_ticket_id_foreign` (`ticket_id`),
  KEY `ticket_messages_user_id_foreign` (`user_id`),
  KEY `ticket_messages_ticket_mail_log_id_index` (`ticket_mail_log_id`),
  KEY `ticket_messages_created_at_index` (`created_at`),
  KEY `ticket_messages_updated_at_index` (`updated_at`),
  CONSTRAINT `ticket_messages_ticket_id_foreign` FOREIGN KEY (`ticket_id`) REFERENCES `tickets` (`id`) ON DELETE CASCADE,
  CONSTRAINT `ticket_messages_user_id_foreign` FOREIGN KEY (`user_id`) REFERENCES `users` (`id`) ON DELETE CASCADE
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

CREATE TABLE `ticket_message_attachments` (
  `id` BIGINT UNSIGNED NOT NULL AUTO_INCREMENT,
  `uuid` CHAR(36) NOT NULL,
  `filename` VARCHAR(255) NOT NULL,
  `path` VARCHAR(255) NOT NULL,
  `filesize` BIGINT UNSIGNED NOT NULL,
  `mime_type` VARCHAR(255) NOT NULL,
  `ticket_message_id` BIGINT UNSIGNED NOT NULL,
  `created_at` TIMESTAMP NULL,
  `updated_at` TIMESTAMP NULL,
  PRIMARY KEY (`id`),
  KEY `ticket_message_attachments_ticket_message_id_foreign` (`ticket_message_id`),
  CONSTRAINT `ticket_message_attachments_ticket_message_id_foreign` FOREIGN KEY (`ticket_message_id`)
    REFERENCES `ticket_messages` (`id`) ON DELETE CASCADE
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

CREATE TABLE `credits` (
  `id` BIGINT UNSIGNED NOT NULL AUTO_INCREMENT,
  `user_id` BIGINT UNSIGNED NOT NULL,
  `currency_code` VARCHAR(3) NOT NULL,
  `amount` DECIMAL(17,2) NOT NULL,
  `created_at` TIMESTAMP NULL,
  `updated_at` TIMESTAMP NULL,
  PRIMARY KEY (`id`),
  KEY `credits_user_id_foreign` (`user_id`),
  KEY `credits_currency_code_index` (`currency_code`),
  KEY `credits_created_at_index` (`created_at`),
  KEY `credits_updated_at_index` (`updated_at`),
  CONSTRAINT `credits_user_id_foreign` FOREIGN KEY (`user_id`) REFERENCES `users` (`id`) ON DELETE CASCADE
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

CREATE TABLE `custom_properties` (
  `id` BIGINT UNSIGNED NOT NULL AUTO_INCREMENT,
  `name` VARCHAR(255) NOT NULL,
  `description` VARCHAR(255) NULL,
  `key` VARCHAR(255) NOT NULL,
  `type` VARCHAR(255) NOT NULL,
  `model` VARCHAR(255) NOT NULL,
  `validation` VARCHAR(255) NULL,
  `allowed_values` LONGTEXT NULL CHECK (json_valid(`allowed_values`)),
  `non_editable` TINYINT(1) NOT NULL DEFAULT 0,
  `required` TINYINT(1) NOT NULL DEFAULT 0,
  `show_on_invoice` TINYINT(1) NOT NULL DEFAULT 0,
  PRIMARY KEY (`id`),
  UNIQUE KEY `custom_properties_key_unique` (`key`)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

CREATE TABLE `properties` (
  `id` BIGINT UNSIGNED NOT NULL AUTO_INCREMENT,
  `custom_property_id` BIGINT UNSIGNED NULL,
  `name` VARCHAR(255) NULL,
  `key` VARCHAR(255) NOT NULL,
  `value` TEXT NOT NULL,
  `model_type` VARCHAR(255) NOT NULL,
  `model_id` BIGINT UNSIGNED NOT NULL,
  `created_at` TIMESTAMP NULL,
  `updated_at` TIMESTAMP NULL,
  PRIMARY KEY (`id`),
  UNIQUE KEY `properties_key_model_id_model_type_unique` (`key`, `model_id`, `model_type`),
  KEY `properties_model_type_model_id_index` (`model_type`, `model_id`),
  KEY `properties_custom_property_id_foreign` (`custom_property_id`),
  CONSTRAINT `properties_custom_property_id_foreign` FOREIGN KEY (`custom_property_id`)
    REFERENCES `custom_properties` (`id`) ON DELETE CASCADE
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

CREATE TABLE `service_upgrades` (
  `id` BIGINT UNSIGNED NOT NULL AUTO_INCREMENT,
  `service_id` BIGINT UNSIGNED NOT NULL,
  `plan_id` BIGINT UNSIGNED NOT NULL,
  `product_id` BIGINT UNSIGNED NOT NULL,
  `invoice_id` BIGINT UNSIGNED NOT NULL,
  `status` VARCHAR(255) NOT NULL DEFAULT 'pending',
  `type` VARCHAR(255) NOT NULL DEFAULT 'product',
  `created_at` TIMESTAMP NULL,
  `updated_at` TIMESTAMP NULL,
  PRIMARY KEY (`id`),
  KEY `service_upgrades_service_id_foreign` (`service_id`),
  KEY `service_upgrades_plan_id_foreign` (`plan_id`),
  KEY `service_upgrades_product_id_foreign` (`product_id`),
  KEY `service_upgrades_invoice_id_foreign` (`invoice_id`),
  CONSTRAINT `service_upgrades_service_id_foreign` FOREIGN KEY (`service_id`) REFERENCES `services` (`id`) ON DELETE CASCADE,
  CONSTRAINT `service_upgrades_plan_id_foreign` FOREIGN KEY (`plan_id`) REFERENCES `plans` (`id`) ON DELETE CASCADE,
  CONSTRAINT `service_upgrades_product_id_foreign` FOREIGN KEY (`product_id`) REFERENCES `products` (`id`) ON DELETE CASCADE,
  CONSTRAINT `service_upgrades_invoice_id_foreign` FOREIGN KEY (`invoice_id`) REFERENCES `invoices` (`id`) ON DELETE CASCADE
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;
