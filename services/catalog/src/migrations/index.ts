/** Catalog's migrations, in order. A new one is appended here. */
import { Migration20261125000000_initial } from './Migration20261125000000_initial.ts';
import { Migration20261125010000_sort_indexes } from './Migration20261125010000_sort_indexes.ts';
import { Migration20261125020000_order_releases } from './Migration20261125020000_order_releases.ts';
import { Migration20261126000000_reservation_sellers } from './Migration20261126000000_reservation_sellers.ts';
import { Migration20261127000000_search_words } from './Migration20261127000000_search_words.ts';
import { Migration20261127010000_book_creation_keys } from './Migration20261127010000_book_creation_keys.ts';
import { Migration20261128000000_cover_files } from './Migration20261128000000_cover_files.ts';

export const migrations = [
  Migration20261125000000_initial,
  Migration20261125010000_sort_indexes,
  Migration20261125020000_order_releases,
  Migration20261126000000_reservation_sellers,
  Migration20261127000000_search_words,
  Migration20261127010000_book_creation_keys,
  Migration20261128000000_cover_files,
];
