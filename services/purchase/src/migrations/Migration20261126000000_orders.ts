/** Carts, orders with their items and history, payments, the simulated gateway's ledger, idempotency keys. */
import { Migration, addDialectSql } from '@bookstore/shared/db';

const orderStatuses = "'reserving','awaiting_payment','charging','committing','paid','shipped','refunding','cancelling','cancelled','expiring','expired','abandoning','abandoned'";

export class Migration20261126000000_orders extends Migration {
  override name = 'Migration20261126000000_orders';

  up() {
    addDialectSql(this, {
      mysql: [
        'create table `cart_items` (`id` int unsigned not null auto_increment primary key, `user_id` int not null, `book_id` int not null, `quantity` int not null, `added_at` datetime not null) default character set utf8mb4 engine = InnoDB',
        'alter table `cart_items` add unique `cart_items_user_id_book_id_unique` (`user_id`, `book_id`)',
        `create table \`orders\` (\`id\` varchar(32) not null, \`buyer_id\` int not null, \`buyer_name\` varchar(100) not null, \`status\` enum(${orderStatuses}) not null, \`requested_items\` text not null, \`from_cart\` tinyint(1) not null, \`provider_id\` int not null, \`provider_name\` varchar(100) not null, \`delivery_cents\` int not null, \`subtotal_cents\` int not null, \`total_cents\` int not null, \`payment_id\` varchar(32) null, \`attempts\` int not null, \`next_attempt_at\` datetime null, \`lease_until\` datetime null, \`expires_at\` datetime null, \`created_at\` datetime not null, \`updated_at\` datetime not null, primary key (\`id\`)) default character set utf8mb4 engine = InnoDB`,
        'alter table `orders` add index `orders_due_index` (`status`, `next_attempt_at`), add index `orders_expiry_index` (`status`, `expires_at`), add index `orders_buyer_index` (`buyer_id`, `created_at`), add index `orders_created_index` (`created_at`)',
        'create table `order_items` (`id` int unsigned not null auto_increment primary key, `order_id` varchar(32) not null, `book_id` int not null, `title` varchar(300) not null, `seller_id` int not null, `unit_price_cents` int not null, `quantity` int not null, `shipped_at` datetime null, `tracking_code` varchar(100) null) default character set utf8mb4 engine = InnoDB',
        'alter table `order_items` add index `order_items_seller_index` (`seller_id`, `id`), add unique `order_items_order_id_book_id_unique` (`order_id`, `book_id`)',
        'create table `order_events` (`id` int unsigned not null auto_increment primary key, `order_id` varchar(32) not null, `status` varchar(40) not null, `at` datetime not null) default character set utf8mb4 engine = InnoDB',
        'alter table `order_events` add index `order_events_order_id_index` (`order_id`)',
        "create table `payments` (`id` varchar(32) not null, `order_id` varchar(32) not null, `amount_cents` int not null, `last4` varchar(4) not null, `status` enum('pending','approved','declined','failed','refunded') not null, `reason` varchar(200) null, `created_at` datetime not null, `updated_at` datetime not null, primary key (`id`)) default character set utf8mb4 engine = InnoDB",
        'alter table `payments` add index `payments_order_id_index` (`order_id`)',
        "create table `gateway_charges` (`charge_key` varchar(64) not null, `amount_cents` int not null, `last4` varchar(4) not null, `outcome` enum('approved','declined','insufficient_funds','voided') not null, `refunded_at` datetime null, `created_at` datetime not null, primary key (`charge_key`)) default character set utf8mb4 engine = InnoDB",
        'create table `idempotency_keys` (`id` int unsigned not null auto_increment primary key, `scope` varchar(40) not null, `owner_id` int not null, `key` varchar(100) not null, `request_hash` varchar(64) not null, `resource_id` varchar(64) not null, `response_status` int null, `response_body` text null, `created_at` datetime not null) default character set utf8mb4 engine = InnoDB',
        'alter table `idempotency_keys` add unique `idempotency_keys_scope_owner_id_key_unique` (`scope`, `owner_id`, `key`)',
      ],
      sqlite: [
        'create table `cart_items` (`id` integer not null primary key autoincrement, `user_id` integer not null, `book_id` integer not null, `quantity` integer not null, `added_at` datetime not null)',
        'create unique index `cart_items_user_id_book_id_unique` on `cart_items` (`user_id`, `book_id`)',
        `create table \`orders\` (\`id\` text not null primary key, \`buyer_id\` integer not null, \`buyer_name\` text not null, \`status\` text check (\`status\` in (${orderStatuses})) not null, \`requested_items\` text not null, \`from_cart\` integer not null, \`provider_id\` integer not null, \`provider_name\` text not null, \`delivery_cents\` integer not null, \`subtotal_cents\` integer not null, \`total_cents\` integer not null, \`payment_id\` text null, \`attempts\` integer not null, \`next_attempt_at\` datetime null, \`lease_until\` datetime null, \`expires_at\` datetime null, \`created_at\` datetime not null, \`updated_at\` datetime not null)`,
        'create index `orders_due_index` on `orders` (`status`, `next_attempt_at`)',
        'create index `orders_expiry_index` on `orders` (`status`, `expires_at`)',
        'create index `orders_buyer_index` on `orders` (`buyer_id`, `created_at`)',
        'create index `orders_created_index` on `orders` (`created_at`)',
        'create table `order_items` (`id` integer not null primary key autoincrement, `order_id` text not null, `book_id` integer not null, `title` text not null, `seller_id` integer not null, `unit_price_cents` integer not null, `quantity` integer not null, `shipped_at` datetime null, `tracking_code` text null)',
        'create index `order_items_seller_index` on `order_items` (`seller_id`, `id`)',
        'create unique index `order_items_order_id_book_id_unique` on `order_items` (`order_id`, `book_id`)',
        'create table `order_events` (`id` integer not null primary key autoincrement, `order_id` text not null, `status` text not null, `at` datetime not null)',
        'create index `order_events_order_id_index` on `order_events` (`order_id`)',
        "create table `payments` (`id` text not null primary key, `order_id` text not null, `amount_cents` integer not null, `last4` text not null, `status` text check (`status` in ('pending','approved','declined','failed','refunded')) not null, `reason` text null, `created_at` datetime not null, `updated_at` datetime not null)",
        'create index `payments_order_id_index` on `payments` (`order_id`)',
        "create table `gateway_charges` (`charge_key` text not null primary key, `amount_cents` integer not null, `last4` text not null, `outcome` text check (`outcome` in ('approved','declined','insufficient_funds','voided')) not null, `refunded_at` datetime null, `created_at` datetime not null)",
        'create table `idempotency_keys` (`id` integer not null primary key autoincrement, `scope` text not null, `owner_id` integer not null, `key` text not null, `request_hash` text not null, `resource_id` text not null, `response_status` integer null, `response_body` text null, `created_at` datetime not null)',
        'create unique index `idempotency_keys_scope_owner_id_key_unique` on `idempotency_keys` (`scope`, `owner_id`, `key`)',
      ],
    });
  }

  override down() {
    for (const table of ['idempotency_keys', 'gateway_charges', 'payments', 'order_events', 'order_items', 'orders', 'cart_items']) this.addSql(`drop table if exists \`${table}\``);
  }
}
