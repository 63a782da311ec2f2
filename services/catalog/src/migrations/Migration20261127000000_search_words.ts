/**
 * Search by words (src/search.ts): the word index, filled for the books already there; per-seller
 * book counts (the seller's page and the catalog's size without counting rows); and sort indexes
 * that lead with `deleted_at`, so a walk along one reads only the index. The fulltext and
 * single-column indexes the LIKE search used go.
 */
import { Migration, dialectOfPlatform } from '@bookstore/shared/db';
import { indexMissingBooks } from '../search.ts';

const schema = {
  mysql: [
    'create table `book_words` (`word` varchar(64) character set utf8mb4 collate utf8mb4_bin not null, `book_id` int unsigned not null, `field` enum(\'title\',\'author\') not null, primary key (`word`, `book_id`, `field`), index `book_words_book_id_word_index` (`book_id`, `word`, `field`)) default character set utf8mb4 engine = InnoDB',
    'create table `seller_book_counts` (`seller_id` int not null, `books` int not null, primary key (`seller_id`)) default character set utf8mb4 engine = InnoDB',
    'insert into `seller_book_counts` (`seller_id`, `books`) select `seller_id`, count(*) from `books` where `deleted_at` is null group by `seller_id`',
    'alter table `books` drop index `books_title_author_index`, drop index `books_author_index`, drop index `books_seller_id_index`, drop index `books_created_at_id_index`, drop index `books_price_cents_id_index`, drop index `books_title_id_index`, ' +
      'add index `books_live_created_at_id_index` (`deleted_at`, `created_at`, `id`), add index `books_live_price_cents_id_index` (`deleted_at`, `price_cents`, `id`), add index `books_live_title_id_index` (`deleted_at`, `title`, `id`), ' +
      'add index `books_seller_live_created_at_id_index` (`seller_id`, `deleted_at`, `created_at`, `id`)',
  ],
  sqlite: [
    "create virtual table `book_search` using fts5(`title`, `author`, tokenize = 'ascii')",
    'create table `seller_book_counts` (`seller_id` integer not null primary key, `books` integer not null)',
    'insert into `seller_book_counts` (`seller_id`, `books`) select `seller_id`, count(*) from `books` where `deleted_at` is null group by `seller_id`',
    ...['books_title_author_index', 'books_author_index', 'books_seller_id_index', 'books_created_at_id_index', 'books_price_cents_id_index', 'books_title_id_index'].map((index) => `drop index \`${index}\``),
    'create index `books_live_created_at_id_index` on `books` (`deleted_at`, `created_at`, `id`)',
    'create index `books_live_price_cents_id_index` on `books` (`deleted_at`, `price_cents`, `id`)',
    'create index `books_live_title_id_index` on `books` (`deleted_at`, `title`, `id`)',
    'create index `books_seller_live_created_at_id_index` on `books` (`seller_id`, `deleted_at`, `created_at`, `id`)',
  ],
};

export class Migration20261127000000_search_words extends Migration {
  override name = 'Migration20261127000000_search_words';

  // Run here rather than queued with addSql: the words are computed in TypeScript, after the tables exist.
  async up() {
    const dialect = dialectOfPlatform(this.driver);
    for (const statement of schema[dialect]) await this.execute(statement);
    await indexMissingBooks((sql, params) => this.execute(sql, params), dialect);
  }

  override async down() {
    const dialect = dialectOfPlatform(this.driver);
    const statements = {
      mysql: [
        'alter table `books` drop index `books_live_created_at_id_index`, drop index `books_live_price_cents_id_index`, drop index `books_live_title_id_index`, drop index `books_seller_live_created_at_id_index`, ' +
          'add index `books_created_at_id_index` (`created_at`, `id`), add index `books_price_cents_id_index` (`price_cents`, `id`), add index `books_title_id_index` (`title`, `id`), ' +
          'add index `books_author_index` (`author`), add index `books_seller_id_index` (`seller_id`), add fulltext index `books_title_author_index` (`title`, `author`)',
        'drop table if exists `book_words`',
        'drop table if exists `seller_book_counts`',
      ],
      sqlite: [
        ...['books_live_created_at_id_index', 'books_live_price_cents_id_index', 'books_live_title_id_index', 'books_seller_live_created_at_id_index'].map((index) => `drop index \`${index}\``),
        'create index `books_created_at_id_index` on `books` (`created_at`, `id`)',
        'create index `books_price_cents_id_index` on `books` (`price_cents`, `id`)',
        'create index `books_title_id_index` on `books` (`title`, `id`)',
        'create index `books_author_index` on `books` (`author`)',
        'create index `books_seller_id_index` on `books` (`seller_id`)',
        'create index `books_title_author_index` on `books` (`title`, `author`)',
        'drop table if exists `book_search`',
        'drop table if exists `seller_book_counts`',
      ],
    };
    for (const statement of statements[dialect]) await this.execute(statement);
  }
}
