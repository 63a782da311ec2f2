/** A purchase app on a fresh test database, checking tokens against a served test auth. */
import { openDatabase } from '@bookstore/shared/db';
import { createMemoryLogger } from '@bookstore/shared/log';
import { createTestDatabase, type TestDatabaseKind } from '@bookstore/shared/testing/database';
import { testVerifier } from '@bookstore/shared/testing/token-check';
import { createApp } from '../src/app.ts';
import { entities } from '../src/entities.ts';
import { migrations } from '../src/migrations/index.ts';

export async function startTestPurchase(authUrl: string, kind: TestDatabaseKind = 'mariadb') {
  const db = await createTestDatabase(kind);
  const log = createMemoryLogger('purchase');
  const orm = await openDatabase({ url: db.url, entities, migrations, log });
  const { verifier } = testVerifier(authUrl);
  const app = createApp({ orm, verifier, log });
  return {
    app,
    orm,
    db,
    log,
    async close() {
      verifier.stop();
      await orm.close();
      await db.drop();
    },
  };
}
