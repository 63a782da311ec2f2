/**
 * Operator commands for catalog, against DATABASE_URL (and UPLOADS_DIR for covers):
 *
 *   bun services/catalog/src/cli.ts migrate
 *   bun services/catalog/src/cli.ts generate-books --count 100000 [--seller-id 2]
 *   bun services/catalog/src/cli.ts covers-backfill
 *
 * generate-books adds N made-up books in batches of 1000, for benchmarks, with their search words.
 * covers-backfill re-encodes the covers stored before covers were re-encoded (src/covers.ts
 * `backfillCovers`), while the service runs if need be; it can be run again at any time.
 */
import { parseArgs } from 'node:util';
import { loadConfig } from '@bookstore/shared/config';
import { dialectOfPlatform, openDatabase, transaction } from '@bookstore/shared/db';
import { createLogger } from '@bookstore/shared/log';
import { catalogConfigSchema } from './config.ts';
import { countSellerBooks } from './books.ts';
import { backfillCovers } from './covers.ts';
import { entities } from './entities.ts';
import { migrations } from './migrations/index.ts';
import { indexMissingBooks, runnerOf } from './search.ts';

const adjectives = ['Silent', 'Crimson', 'Hidden', 'Last', 'Golden', 'Broken', 'Distant', 'Winter', 'Secret', 'Burning', 'Lost', 'Quiet', 'Wild', 'Northern', 'Forgotten', 'Glass', 'Iron', 'Paper', 'Salt', 'Velvet'];
const nouns = ['River', 'Garden', 'Empire', 'Letter', 'Harbor', 'Orchard', 'Lantern', 'Mountain', 'Kingdom', 'Voyage', 'Island', 'Clock', 'Mirror', 'Forest', 'Bridge', 'Station', 'Tide', 'Comet', 'Library', 'Window'];
const firstNames = ['Ada', 'Miguel', 'Chen', 'Amara', 'Olga', 'Rahul', 'Sofia', 'Kwame', 'Ingrid', 'Yuki', 'Lucía', 'Tomás', 'Noor', 'Elena', 'Pierre'];
const lastNames = ['Moreau', 'Okafor', 'Lindqvist', 'Tanaka', 'García', 'Novak', 'Haddad', 'Kowalski', 'Silva', 'Ivanova', 'Brennan', 'Mensah', 'Rossi', 'Nakamura', 'Schmidt'];

const { positionals, values } = parseArgs({
  allowPositionals: true,
  options: { count: { type: 'string', default: '100000' }, 'seller-id': { type: 'string', default: '1' } },
});
const command = positionals[0];
if (command !== 'migrate' && command !== 'generate-books' && command !== 'covers-backfill') {
  console.error('usage: cli.ts migrate | generate-books --count N [--seller-id ID] | covers-backfill');
  process.exit(64);
}
const config = loadConfig(catalogConfigSchema.pick({ DATABASE_URL: true, LOG_LEVEL: true, UPLOADS_DIR: true }));
const log = createLogger({ service: 'catalog-cli', level: config.LOG_LEVEL });
const orm = await openDatabase({ url: config.DATABASE_URL, entities, migrations, log });
try {
  if (command === 'generate-books') await generateBooks(Number(values.count), Number(values['seller-id']));
  if (command === 'covers-backfill') await backfillCoversReporting();
} finally {
  await orm.close();
}

async function generateBooks(count: number, sellerId: number) {
  if (!Number.isInteger(count) || count < 1 || count > 10_000_000) throw new Error('--count must be 1..10000000');
  const dialect = dialectOfPlatform(orm.em);
  const started = Date.now();
  const pick = <T>(list: T[], n: number) => list[n % list.length]!;
  for (let offset = 0; offset < count; offset += 1000) {
    const rows: unknown[] = [];
    const size = Math.min(1000, count - offset);
    for (let i = 0; i < size; i++) {
      const n = offset + i;
      const now = new Date(Date.now() - n * 1000);
      rows.push(
        `${pick(adjectives, n)} ${pick(nouns, Math.floor(n / 20))} ${Math.floor(n / 400) + 1}`,
        `${pick(firstNames, Math.floor(n / 7))} ${pick(lastNames, Math.floor(n / 3))}`,
        'A generated book for benchmarks.',
        299 + ((n * 7919) % 4700),
        (n * 31) % 41,
        sellerId,
        `Seller ${sellerId}`,
        now,
        now,
      );
    }
    const placeholders = Array.from({ length: size }, () => '(?, ?, ?, ?, ?, ?, ?, ?, ?)').join(', ');
    // The batch, its search words and the seller's count: one transaction, as for a book added by hand.
    await transaction(orm.em, async (tx) => {
      const [newest] = await tx.execute<{ id: number | string }[]>('select coalesce(max(id), 0) as id from books');
      await tx.execute(`insert into books (title, author, description, price_cents, stock, seller_id, seller_name, created_at, updated_at) values ${placeholders}`, rows);
      await indexMissingBooks(runnerOf(tx), dialect, Number(newest!.id));
      await countSellerBooks(tx, sellerId, size);
    });
  }
  // Fresh statistics: right after a bulk load MariaDB still plans the listing as a full sort
  // (14 ms instead of 0.4 ms for the first page, measured by bench/run.ts) until it re-analyses.
  if (dialect === 'mysql') await orm.em.execute('analyze table books, book_words');
  console.log(`${count} books added in ${((Date.now() - started) / 1000).toFixed(1)} s`);
}

async function backfillCoversReporting() {
  const started = Date.now();
  const report = await backfillCovers(orm.em, config.UPLOADS_DIR);
  const shown = report.converted.length + report.current + report.unreadable.length + report.gone;
  const books = report.converted.reduce((sum, cover) => sum + cover.books, 0);
  console.log(`covers-backfill in ${config.UPLOADS_DIR}: ${shown} cover files shown by books, ${((Date.now() - started) / 1000).toFixed(1)} s`);
  console.log(`  converted:        ${report.converted.length}${books ? ` (${books} books now show the new files)` : ''}`);
  console.log(`  already fine:     ${report.current}`);
  console.log(`  unreadable:       ${report.unreadable.length} (left as they are)`);
  for (const { file, books, reason } of report.unreadable) console.log(`    ${file} (book${books.length > 1 ? 's' : ''} ${books.join(', ')}): ${reason}`);
  if (report.gone) console.log(`  no longer shown:  ${report.gone} (replaced or deleted meanwhile)`);
  console.log(report.converted.length ? `Converted ${report.converted.length} covers.` : 'Nothing to do: no cover changed.');
}
