/** A book remembers the key of the form (or API request) that created it: the same key again finds it instead of adding a second. */
import { Migration, addDialectSql } from '@bookstore/shared/db';

export class Migration20261127010000_book_creation_keys extends Migration {
  override name = 'Migration20261127010000_book_creation_keys';

  up() {
    addDialectSql(this, {
      mysql: ['alter table `books` add `creation_key` varchar(100) null, add unique index `books_seller_id_creation_key_unique` (`seller_id`, `creation_key`)'],
      sqlite: ['alter table `books` add column `creation_key` text null', 'create unique index `books_seller_id_creation_key_unique` on `books` (`seller_id`, `creation_key`)'],
    });
  }

  override down() {
    addDialectSql(this, {
      mysql: ['alter table `books` drop index `books_seller_id_creation_key_unique`, drop column `creation_key`'],
      sqlite: ['drop index `books_seller_id_creation_key_unique`', 'alter table `books` drop column `creation_key`'],
    });
  }
}
