/**
 * For tests that need the whole shop as real processes: the four of them (scripts/stack.ts) on three
 * fresh test databases (TEST_DATABASE_URL, or a testcontainer), with the demo accounts, keys and
 * covers in a temporary folder. `stop` ends the processes and removes the databases and the folder.
 *
 * @example
 * const shop = await startTestStack('storefront');
 * await fetch(`${shop.stack.urls.web}/catalog`);
 * await shop.stop();
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createTestDatabase } from '../shared/src/testing/database.ts';
import { findFreePorts, startStack, type ServiceName } from './stack.ts';

export async function startTestStack(label: string, options: { onLine?: (service: ServiceName, line: string) => void } = {}) {
  const databases = await Promise.all([createTestDatabase(), createTestDatabase(), createTestDatabase()]);
  const [auth, catalog, purchase] = databases.map((db) => db.url);
  const [webPort, authPort, catalogPort, purchasePort] = await findFreePorts(4);
  const directory = mkdtempSync(join(tmpdir(), `bookstore-${label}-`));
  const removeAll = async () => {
    await Promise.all(databases.map((db) => db.drop()));
    rmSync(directory, { recursive: true, force: true });
  };
  const stack = await startStack({
    ports: { web: webPort!, auth: authPort!, catalog: catalogPort!, purchase: purchasePort! },
    env: {
      auth: { DATABASE_URL: auth!, KEY_DIR: join(directory, 'keys'), SEED_DEMO_DATA: 'true' },
      catalog: { DATABASE_URL: catalog!, UPLOADS_DIR: join(directory, 'uploads') },
      purchase: { DATABASE_URL: purchase! },
    },
    onLine: options.onLine,
  }).catch(async (error: unknown) => {
    await removeAll();
    throw error;
  });
  return {
    stack,
    async stop() {
      await stack.stop();
      await removeAll();
    },
  };
}
