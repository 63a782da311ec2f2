/** Starts the auth service. */
import { booleanFlag, loadConfig } from '@bookstore/shared/config';
import { openServiceDatabase } from '@bookstore/shared/db';
import { createLogger } from '@bookstore/shared/log';
import { serve } from '@bookstore/shared/service';
import { purgeExpired } from './accounts.ts';
import { openSaleItemsAt } from './administration.ts';
import { createApp } from './app.ts';
import { authConfigSchema } from './config.ts';
import { seedDemoAccounts } from './demo.ts';
import { entities } from './entities.ts';
import { loadSigningKey } from './keys.ts';
import { migrations } from './migrations/index.ts';

const config = loadConfig(authConfigSchema.extend({ SEED_DEMO_DATA: booleanFlag }));
const log = createLogger({ service: 'auth', level: config.LOG_LEVEL });
const orm = await openServiceDatabase(config, { entities, migrations, log });
const key = loadSigningKey(config);
if (config.SEED_DEMO_DATA) {
  const created = await seedDemoAccounts(orm.em.fork());
  if (created) log.info('demo accounts created', { count: created });
}

const openSaleItems = openSaleItemsAt(config.PURCHASE_URL, config.SERVICE_TOKEN);

const purge = setInterval(() => purgeExpired(orm.em.fork(), 15 * 60).catch((error) => log.warn('purge failed', { error })), 3600_000);
serve(createApp({ orm, key, log, config, openSaleItems }), {
  port: config.PORT,
  hostname: config.HOST,
  log,
  drainMs: config.SHUTDOWN_DRAIN_MS,
  onStop: async () => {
    clearInterval(purge);
    await orm.close();
  },
});
