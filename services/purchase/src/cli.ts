/**
 * Operator commands for purchase, against DATABASE_URL:
 *
 *   bun services/purchase/src/cli.ts migrate
 */
import { loadConfig } from '@bookstore/shared/config';
import { openDatabase } from '@bookstore/shared/db';
import { createLogger } from '@bookstore/shared/log';
import { purchaseConfigSchema } from './config.ts';
import { entities } from './entities.ts';
import { migrations } from './migrations/index.ts';

if (process.argv[2] !== 'migrate') {
  console.error('usage: cli.ts migrate');
  process.exit(64);
}
const config = loadConfig(purchaseConfigSchema.pick({ DATABASE_URL: true, LOG_LEVEL: true }));
const orm = await openDatabase({ url: config.DATABASE_URL, entities, migrations, log: createLogger({ service: 'purchase-cli', level: config.LOG_LEVEL }) });
await orm.close();
