/**
 * Catalog search on 100,000 books, one call at a time: fills a fresh database with generated books
 * (and three with a rare word), then times `searchBooks` and `sellerBooks` in this process for each
 * kind of query. Per row: the first call (it counts the total, which is then cached for 10 s), and
 * the median and worst of the next calls. No HTTP, no concurrency: the query's own cost.
 *
 *   BENCH_DATABASE_URL=mariadb://root@127.0.0.1:3306/test bun bench/catalog-search.ts [--books 100000] [--repeat 30]
 *   bun bench/catalog-search.ts --sqlite                      # the same on an SQLite file
 *   bun bench/catalog-search.ts --database mariadb://…/filled # an already filled database, kept
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import mysql from 'mysql2/promise';
import type { Principal } from '../shared/src/auth.ts';
import { openDatabase } from '../shared/src/db.ts';
import { createBook, searchBooks, sellerBooks } from '../services/catalog/src/books.ts';
import { entities } from '../services/catalog/src/entities.ts';
import { migrations } from '../services/catalog/src/migrations/index.ts';
import { bookQuery } from '../services/catalog/src/schemas.ts';

const { values } = parseArgs({
  options: { books: { type: 'string', default: '100000' }, repeat: { type: 'string', default: '30' }, sqlite: { type: 'boolean', default: false }, database: { type: 'string' } },
});
const root = resolve(import.meta.dir, '..');
const server = process.env.BENCH_DATABASE_URL ?? process.env.TEST_DATABASE_URL ?? 'mariadb://root@127.0.0.1:3306/test';
if (!/^(mariadb|mysql):\/\/[^/]*@?(127\.0\.0\.1|localhost)[:/]/.test(server)) throw new Error(`refusing a database that is not on this machine: ${server}`);

const fresh = await freshDatabase();
try {
  if (!values.database) {
    const fill = Bun.spawnSync(['bun', 'services/catalog/src/cli.ts', 'generate-books', '--count', values.books!], { cwd: root, env: { ...process.env, DATABASE_URL: fresh.url, LOG_LEVEL: 'warn' } });
    console.log(fill.stdout.toString().trim() || fill.stderr.toString());
    if (fill.exitCode !== 0) throw new Error('generate-books failed');
  }
  const orm = await openDatabase({ url: fresh.url, entities, migrations });
  try {
    if (!values.database) {
      const rare: Principal = { userId: 2, role: 'customer', name: 'Rare Seller', sessionId: 'bench', expiresAt: 0, token: '' };
      for (const title of ['Zephyr', 'The Zephyr Letters', 'Zephyrs over the Harbor']) await createBook(orm.em.fork(), rare, { title, author: 'Ada Moreau', description: '', priceCents: 1500, stock: 2 });
    }
    await timeAll(orm);
  } finally {
    await orm.close();
  }
} finally {
  await fresh.drop();
}

async function timeAll(orm: Awaited<ReturnType<typeof openDatabase>>) {
  const searches: [name: string, query: string][] = [
    ['one common word', 'q=harbor'],
    ['one common word, by price', 'q=harbor&sort=price_asc'],
    ['one common word, page 100', 'q=harbor&page=100'],
    ['author word', 'q=moreau'],
    ['two words', 'q=golden%20lantern'],
    ['two words, by title', 'q=golden%20lantern&sort=title'],
    ['two words, page 10', 'q=golden%20lantern&page=10'],
    ['as typed: l', 'q=l'],
    ['as typed: la', 'q=la'],
    ['as typed: lan', 'q=lan'],
    ['as typed: lan, by price desc', 'q=lan&sort=price_desc'],
    ['as typed: l, page 200', 'q=l&page=200'],
    ['rare word (3 books)', 'q=zephyr'],
    ['rare + common word', 'q=zephyr%20harbor'],
    ['search + filters', 'q=harbor&minPrice=1000&maxPrice=2000&inStock=true&sort=price_asc'],
    ['search + author filter', 'q=lantern&author=moreau'],
    ['no word at all (q=%)', 'q=%25'],
    ['listing newest, page 1', ''],
    ['listing newest, page 200', 'page=200'],
    ['listing filters, by price', 'minPrice=1000&maxPrice=2000&inStock=true&sort=price_asc'],
    ['home page (8 newest in stock)', 'inStock=true&pageSize=8'],
  ];
  const repeat = Number(values.repeat);
  console.log(`\n${fresh.url.replace(/\/\/.*@/, '//…@')}, ${repeat} calls per row after the first\n`);
  console.log('| call | first ms | p50 ms | max ms | total | on page |\n|---|---|---|---|---|---|');
  for (const [name, text] of searches) {
    const query = bookQuery.parse(Object.fromEntries(new URLSearchParams(text)));
    const row = await timeCalls(repeat, () => searchBooks(orm, query));
    console.log(`| ${name} \`${text || '(none)'}\` | ${row.first} | ${row.p50} | ${row.max} | ${row.result.total} | ${row.result.items.length} |`);
  }
  for (const page of [1, 100]) {
    const row = await timeCalls(repeat, () => sellerBooks(orm.em.fork(), 1, page, 60));
    console.log(`| seller of every book, /sell page ${page} | ${row.first} | ${row.p50} | ${row.max} | ${row.result.total} | ${row.result.items.length} |`);
  }
}

async function timeCalls<T>(repeat: number, call: () => Promise<T>) {
  let t0 = performance.now();
  const result = await call();
  const first = performance.now() - t0;
  const times: number[] = [];
  for (let i = 0; i < repeat; i++) {
    t0 = performance.now();
    await call();
    times.push(performance.now() - t0);
  }
  times.sort((a, b) => a - b);
  const ms = (value: number) => value.toFixed(2);
  return { result, first: ms(first), p50: ms(times[Math.floor(times.length / 2)]!), max: ms(times.at(-1)!) };
}

/** The database to fill and time, and how to get rid of it afterwards. */
async function freshDatabase(): Promise<{ url: string; drop(): Promise<void> }> {
  if (values.database) return { url: values.database, drop: async () => {} };
  if (values.sqlite) {
    const dir = mkdtempSync(join(tmpdir(), 'bench-catalog-'));
    return { url: `sqlite:${join(dir, 'catalog.sqlite')}`, drop: async () => rmSync(dir, { recursive: true, force: true }) };
  }
  const name = `bench_catalog_${Date.now().toString(36)}`;
  const admin = await mysql.createConnection({ uri: server.replace(/^mariadb:/, 'mysql:') });
  await admin.query(`create database \`${name}\` character set utf8mb4 collate utf8mb4_unicode_ci`);
  return {
    url: Object.assign(new URL(server), { pathname: `/${name}` }).toString(),
    async drop() {
      await admin.query(`drop database if exists \`${name}\``);
      await admin.end();
    },
  };
}
