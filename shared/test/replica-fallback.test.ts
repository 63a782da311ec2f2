/** readWithFallback: a replica that fails or hangs costs a read a couple of seconds at most, then the primary answers. */
import { afterAll, beforeAll, expect, test } from 'bun:test';
import { openDatabase, readWithFallback, type Orm } from '../src/db.ts';
import { createTestDatabase, type TestDatabase } from '../src/testing/database.ts';
import { createMemoryLogger } from '../src/log.ts';
import { entities } from '../../services/catalog/src/entities.ts';
import { migrations } from '../../services/catalog/src/migrations/index.ts';

let db: TestDatabase;
let orm: Orm;
const log = createMemoryLogger('replica-test');

beforeAll(async () => {
  db = await createTestDatabase('mariadb');
  // The "replica" is the same database: what is tested is where each read goes and how long it waits.
  orm = await openDatabase({ url: db.url, readUrls: [db.url], entities, migrations });
});
afterAll(async () => {
  await orm.close();
  await db.drop();
});

test('a replica read that never answers falls back to the primary within about 2 s, and replicas are then skipped', async () => {
  const asked: string[] = [];
  // Failure injection: the replica's read hangs for ever (a frozen host); the primary's is real.
  const read = async (em: Parameters<Parameters<typeof readWithFallback>[1]>[0], connectionType: 'read' | 'write') => {
    asked.push(connectionType);
    if (connectionType === 'read') return new Promise<number>(() => {});
    return Number(((await em.execute('select 41 + 1 as answer', [], 'all')) as { answer: number }[])[0]!.answer);
  };
  const started = performance.now();
  expect(await readWithFallback(orm, read, log)).toBe(42);
  expect(performance.now() - started).toBeLessThan(3000);
  expect(asked).toEqual(['read', 'write']);
  expect(log.lines.some((line) => line.includes('read replica unavailable'))).toBe(true);
  // Paused: the next read goes straight to the primary.
  asked.length = 0;
  expect(await readWithFallback(orm, read, log)).toBe(42);
  expect(asked).toEqual(['write']);
});

test('a replica that has not applied the latest migration yet (a table or index missing there) is read around: the primary answers', async () => {
  const behind = await createTestDatabase('mariadb');
  const primary = await createTestDatabase('mariadb');
  try {
    // The replica got the schema only up to some point: an index and a table the primary has are missing.
    await (await openDatabase({ url: behind.url, entities, migrations })).close();
    await behind.query('alter table books drop index books_live_created_at_id_index');
    await behind.query('drop table seller_book_counts');
    const lagging = await openDatabase({ url: primary.url, readUrls: [behind.url], entities, migrations });
    const logged = createMemoryLogger('schema-behind');
    try {
      const newest = (em: Parameters<Parameters<typeof readWithFallback>[1]>[0], connectionType: 'read' | 'write') =>
        em.execute<{ n: number }[]>('select count(*) as n from books force index (books_live_created_at_id_index)', [], { connectionType });
      expect(await readWithFallback(lagging, newest, logged)).toEqual([{ n: 0 }]);
      expect(logged.lines.some((line) => line.includes('read replica unavailable'))).toBe(true);
    } finally {
      await lagging.close();
    }
  } finally {
    await behind.drop();
    await primary.drop();
  }
});
