/** Indexes that hand the listing's rows over already sorted: newest, by price, by title (each with id). */
import { Migration, addDialectSql } from '@bookstore/shared/db';

export class Migration20261125010000_sort_indexes extends Migration {
  override name = 'Migration20261125010000_sort_indexes';

  up() {
    addDialectSql(this, {
      mysql: [
        'alter table `books` drop index `books_created_at_index`, drop index `books_price_cents_index`',
        'alter table `books` add index `books_created_at_id_index` (`created_at`, `id`), add index `books_price_cents_id_index` (`price_cents`, `id`), add index `books_title_id_index` (`title`, `id`)',
      ],
      sqlite: [
        'drop index `books_created_at_index`',
        'drop index `books_price_cents_index`',
        'create index `books_created_at_id_index` on `books` (`created_at`, `id`)',
        'create index `books_price_cents_id_index` on `books` (`price_cents`, `id`)',
        'create index `books_title_id_index` on `books` (`title`, `id`)',
      ],
    });
  }

  override down() {
    addDialectSql(this, {
      mysql: [
        'alter table `books` drop index `books_created_at_id_index`, drop index `books_price_cents_id_index`, drop index `books_title_id_index`',
        'alter table `books` add index `books_created_at_index` (`created_at`), add index `books_price_cents_index` (`price_cents`)',
      ],
      sqlite: [
        'drop index `books_created_at_id_index`',
        'drop index `books_price_cents_id_index`',
        'drop index `books_title_id_index`',
        'create index `books_created_at_index` on `books` (`created_at`)',
        'create index `books_price_cents_index` on `books` (`price_cents`)',
      ],
    });
  }
}
