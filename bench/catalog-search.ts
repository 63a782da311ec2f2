/**
 * Catalog search on 100,000 books (MariaDB): fills a fresh database with generated books, starts the
 * catalog service as its own process, and loads GET /api/books with a mix of searches, filters and
 * pages. Also times the search SQL alone, with and without the fulltext narrowing.
 *
 *   BENCH_DATABASE_URL=mariadb://root@127.0.0.1:3306/test bun bench/catalog-search.ts [--books 100000] [--seconds 10]
 */
import { parseArgs } from 'node:util';
import { resolve } from 'node:path';
import mysql from 'mysql2/promise';
import { runLoad } from './load.ts';

const { values } = parseArgs({ options: { books: { type: 'string', default: '100000' }, seconds: { type: 'string', default: '10' }, concurrency: { type: 'string', default: '32' } } });
const server = process.env.BENCH_DATABASE_URL ?? process.env.TEST_DATABASE_URL ?? 'mariadb://root@127.0.0.1:3306/test';
const root = resolve(import.meta.dir, '..');
const dbName = `bench_catalog_${Date.now().toString(36)}`;
const admin = await mysql.createConnection({ uri: server.replace(/^mariadb:/, 'mysql:') });
await admin.query(`create database \`${dbName}\` character set utf8mb4 collate utf8mb4_unicode_ci`);
const url = Object.assign(new URL(server), { pathname: `/${dbName}` }).toString();
const port = 39_900;

try {
  const fill = Bun.spawnSync(['bun', 'services/catalog/src/cli.ts', 'generate-books', '--count', values.books!], { cwd: root, env: { ...process.env, DATABASE_URL: url, LOG_LEVEL: 'warn' } });
  console.log(fill.stdout.toString().trim() || fill.stderr.toString());
  if (fill.exitCode !== 0) throw new Error('generate-books failed');

  const catalog = Bun.spawn(['bun', 'services/catalog/src/main.ts'], {
    cwd: root,
    env: { ...process.env, DATABASE_URL: url, PORT: String(port), AUTH_URL: 'http://127.0.0.1:1', SERVICE_TOKEN: 'bench-service-token-0123456789abcdef', LOG_LEVEL: 'error' },
    stdout: 'ignore',
    stderr: 'inherit',
  });
  try {
    for (let i = 0; i < 100; i++) {
      if (await fetch(`http://127.0.0.1:${port}/health/live`).then((r) => r.ok).catch(() => false)) break;
      await Bun.sleep(100);
    }
    const base = `http://127.0.0.1:${port}/api/books`;
    const mixes: Record<string, string[]> = {
      'search one word (q=harbor)': [`${base}?q=harbor`],
      'search author prefix (q=moreau)': [`${base}?q=moreau`],
      'search two words (q=golden lantern)': [`${base}?q=golden%20lantern`],
      'search as typed (q=lan)': [`${base}?q=lan`],
      'search rare words (q=golden lantern 12)': [`${base}?q=golden%20lantern%2012`],
      'search short, LIKE only (q=ha)': [`${base}?q=ha`],
      'filters (price range, in stock, by price)': [`${base}?minPrice=1000&maxPrice=2000&inStock=true&sort=price_asc`],
      'listing newest, page 1': [`${base}`],
      'listing newest, page 200': [`${base}?page=200`],
    };
    const seconds = Number(values.seconds);
    const concurrency = Number(values.concurrency);
    for (const urls of Object.values(mixes)) await runLoad(urls, { concurrency: 4, seconds: 1 }); // warm up
    console.log(`\n| query | req/s | p50 ms | p95 ms | p99 ms | errors |\n|---|---|---|---|---|---|`);
    for (const [name, urls] of Object.entries(mixes)) {
      const result = await runLoad(urls, { concurrency, seconds });
      console.log(`| ${name} | ${result.perSecond} | ${result.p50} | ${result.p95} | ${result.p99} | ${result.errors} |`);
    }
  } finally {
    catalog.kill('SIGTERM');
    await catalog.exited;
  }

  // The SQL alone: LIKE scanning every row versus fulltext narrowing plus the same LIKE.
  await admin.query(`use \`${dbName}\``);
  const time = async (sql: string, params: unknown[]) => {
    const t0 = performance.now();
    for (let i = 0; i < 20; i++) await admin.query(sql, params);
    return ((performance.now() - t0) / 20).toFixed(1);
  };
  const like = "select count(*) from books where deleted_at is null and (title like ? escape '!' or author like ? escape '!')";
  const both = `${like} and match(title, author) against (? in boolean mode)`;
  console.log(`\n| SQL for q=harbor (count) | ms per query |\n|---|---|`);
  console.log(`| LIKE only | ${await time(like, ['%harbor%', '%harbor%'])} |`);
  console.log(`| fulltext + LIKE | ${await time(both, ['%harbor%', '%harbor%', '+harbor*'])} |`);
} finally {
  await admin.query(`drop database if exists \`${dbName}\``);
  await admin.end();
}
