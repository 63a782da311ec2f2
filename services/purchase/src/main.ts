/** Starts the purchase service and its sweeper. */
import { createTokenVerifier, serviceTokenHeader } from '@bookstore/shared/auth';
import { loadConfig } from '@bookstore/shared/config';
import { openServiceDatabase } from '@bookstore/shared/db';
import { createHttpClient } from '@bookstore/shared/http';
import { every } from '@bookstore/shared/jobs';
import { createLogger } from '@bookstore/shared/log';
import { serve } from '@bookstore/shared/service';
import { createApp, type PurchaseDeps } from './app.ts';
import { purchaseConfigSchema } from './config.ts';
import { purchaseClients } from './deps.ts';
import { entities } from './entities.ts';
import { migrations } from './migrations/index.ts';
import { sweepOrders } from './sweeper.ts';

const config = loadConfig(purchaseConfigSchema);
const log = createLogger({ service: 'purchase', level: config.LOG_LEVEL });
const orm = await openServiceDatabase(config, { entities, migrations, log });
const auth = createHttpClient({ service: 'auth', baseUrl: config.AUTH_URL, timeoutMs: 2000, headers: { [serviceTokenHeader]: config.SERVICE_TOKEN } });
const verifier = createTokenVerifier({ auth, pollMs: config.REVOCATION_POLL_MS, keysRefreshMs: config.KEYS_REFRESH_MS, log });
verifier.start();

const deps: PurchaseDeps = {
  orm,
  verifier,
  log,
  ...purchaseClients(config),
  config: { ...config, GATEWAY_SLOW_MS: config.GATEWAY_SLOW_MS ?? config.GATEWAY_TIMEOUT_MS + 2000 },
};
const sweeper = every('sweep-orders', config.SWEEP_INTERVAL_MS, () => sweepOrders(deps), { log });

serve(createApp(deps), {
  port: config.PORT,
  hostname: config.HOST,
  log,
  drainMs: config.SHUTDOWN_DRAIN_MS,
  // The sweeper may be asking this process's own gateway: it stops while requests are still served.
  beforeStop: () => sweeper.stop(),
  onStop: async () => {
    verifier.stop();
    await orm.close();
  },
});
