/** Starts the catalog service. */
import { createTokenVerifier, serviceTokenHeader } from '@bookstore/shared/auth';
import { loadConfig } from '@bookstore/shared/config';
import { openServiceDatabase } from '@bookstore/shared/db';
import { createHttpClient } from '@bookstore/shared/http';
import { createLogger } from '@bookstore/shared/log';
import { serve } from '@bookstore/shared/service';
import { createApp } from './app.ts';
import { catalogConfigSchema } from './config.ts';
import { followDeletedSellers } from './deleted-sellers.ts';
import { entities } from './entities.ts';
import { migrations } from './migrations/index.ts';

const config = loadConfig(catalogConfigSchema);
const log = createLogger({ service: 'catalog', level: config.LOG_LEVEL });
const orm = await openServiceDatabase(config, { entities, migrations, log });
const auth = createHttpClient({ service: 'auth', baseUrl: config.AUTH_URL, timeoutMs: 2000, headers: { [serviceTokenHeader]: config.SERVICE_TOKEN } });
const verifier = createTokenVerifier({ auth, pollMs: config.REVOCATION_POLL_MS, keysRefreshMs: config.KEYS_REFRESH_MS, log });
verifier.start();
const deletedSellers = followDeletedSellers({ orm, auth, uploadsDir: config.UPLOADS_DIR, log }, config.DELETED_SELLERS_POLL_MS);

serve(createApp({ orm, verifier, log, config }), {
  port: config.PORT,
  hostname: config.HOST,
  log,
  drainMs: config.SHUTDOWN_DRAIN_MS,
  onStop: async () => {
    verifier.stop();
    await deletedSellers.stop();
    await orm.close();
  },
});
