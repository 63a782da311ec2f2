/** Database settings an operator sets by env: the statement time limit stops a runaway query. */
import { afterAll, beforeAll, expect, test } from 'bun:test';
import { openDatabase, type Orm } from '../src/db.ts';
import { createTestDatabase, type TestDatabase } from '../src/testing/database.ts';
import { entities } from '../../services/purchase/src/entities.ts';
import { migrations } from '../../services/purchase/src/migrations/index.ts';

let db: TestDatabase;
let orm: Orm;
beforeAll(async () => {
  db = await createTestDatabase('mariadb');
  orm = await openDatabase({ url: db.url, entities, migrations, poolSize: 2, queryTimeoutMs: 300 });
});
afterAll(async () => {
  await orm?.close();
  await db?.drop();
});

test('a statement running past DATABASE_QUERY_TIMEOUT_MS is stopped by the database, and the pool goes on working', async () => {
  const started = Date.now();
  await expect(orm.em.fork().execute('select sleep(3)')).rejects.toThrow(/max_statement_time|interrupted|timeout/i);
  expect(Date.now() - started).toBeLessThan(2500);
  expect(await orm.em.fork().execute('select 1 as one')).toEqual([{ one: 1 }]);
});
