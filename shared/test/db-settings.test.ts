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

test('migrations are not stopped by DATABASE_QUERY_TIMEOUT_MS: a long one still applies', async () => {
  const { Migration } = await import('../src/db.ts');
  class SlowMigration extends Migration {
    override name = 'Migration29990101000000_slow';
    up() {
      this.addSql('select sleep(0.8)');
    }
  }
  const slow = await createTestDatabase('mariadb');
  try {
    const limited = await openDatabase({ url: slow.url, entities, migrations: [...migrations, SlowMigration], queryTimeoutMs: 300 });
    const applied = (await slow.query('select name from mikro_orm_migrations order by id')) as { name: string }[];
    expect(applied.map((row) => row.name)).toContain('Migration29990101000000_slow');
    await expect(limited.em.fork().execute('select sleep(2)')).rejects.toThrow();
    await limited.close();
  } finally {
    await slow.drop();
  }
});
