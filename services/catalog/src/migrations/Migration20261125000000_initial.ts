/** Catalog's first schema: books (with a fulltext index on MySQL/MariaDB) and reservations. */
import { Migration, addDialectSql } from '@bookstore/shared/db';

export class Migration20261125000000_initial extends Migration {
  override name = 'Migration20261125000000_initial';

  up() {
    addDialectSql(this, {
      mysql: [
        'create table `books` (`id` int unsigned not null auto_increment primary key, `title` varchar(300) not null, `author` varchar(200) not null, `description` text not null, `price_cents` int not null, `stock` int not null, `seller_id` int not null, `seller_name` varchar(100) not null, `cover_file` varchar(100) null, `created_at` datetime not null, `updated_at` datetime not null, `deleted_at` datetime null) default character set utf8mb4 engine = InnoDB',
        'alter table `books` add index `books_author_index` (`author`)',
        'alter table `books` add index `books_price_cents_index` (`price_cents`)',
        'alter table `books` add index `books_seller_id_index` (`seller_id`)',
        'alter table `books` add index `books_created_at_index` (`created_at`)',
        'alter table `books` add fulltext index `books_title_author_index`(`title`,`author`)',
        'alter table `books` add constraint `books_stock_check` check (stock >= 0)',
        "create table `reservations` (`id` int unsigned not null auto_increment primary key, `order_id` varchar(64) not null, `book_id` int not null, `quantity` int not null, `unit_price_cents` int not null, `title` varchar(300) not null, `state` enum('reserved','committed','released') not null, `created_at` datetime not null, `updated_at` datetime not null) default character set utf8mb4 engine = InnoDB",
        'alter table `reservations` add index `reservations_book_id_index` (`book_id`)',
        'alter table `reservations` add unique `reservations_order_id_book_id_unique` (`order_id`, `book_id`)',
        'alter table `reservations` add constraint `reservations_quantity_check` check (quantity > 0)',
      ],
      sqlite: [
        'create table `books` (`id` integer not null primary key autoincrement, `title` text not null, `author` text not null, `description` text not null, `price_cents` integer not null, `stock` integer not null, `seller_id` integer not null, `seller_name` text not null, `cover_file` text null, `created_at` datetime not null, `updated_at` datetime not null, `deleted_at` datetime null, constraint `books_stock_check` check (stock >= 0))',
        'create index `books_author_index` on `books` (`author`)',
        'create index `books_price_cents_index` on `books` (`price_cents`)',
        'create index `books_seller_id_index` on `books` (`seller_id`)',
        'create index `books_created_at_index` on `books` (`created_at`)',
        'create index `books_title_author_index` on `books` (`title`, `author`)',
        "create table `reservations` (`id` integer not null primary key autoincrement, `order_id` text not null, `book_id` integer not null, `quantity` integer not null, `unit_price_cents` integer not null, `title` text not null, `state` text check (`state` in ('reserved', 'committed', 'released')) not null, `created_at` datetime not null, `updated_at` datetime not null, constraint `reservations_quantity_check` check (quantity > 0))",
        'create index `reservations_book_id_index` on `reservations` (`book_id`)',
        'create unique index `reservations_order_id_book_id_unique` on `reservations` (`order_id`, `book_id`)',
      ],
    });
  }

  override down() {
    this.addSql('drop table if exists `reservations`');
    this.addSql('drop table if exists `books`');
  }
}
