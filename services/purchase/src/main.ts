/** Starts the purchase service. */
import { createTokenVerifier, serviceTokenHeader } from '@bookstore/shared/auth';
import { loadConfig } from '@bookstore/shared/config';
import { openDatabase } from '@bookstore/shared/db';
import { createHttpClient } from '@bookstore/shared/http';
import { createLogger } from '@bookstore/shared/log';
import { serve } from '@bookstore/shared/service';
import { createApp } from './app.ts';
import { purchaseConfigSchema } from './config.ts';
import { entities } from './entities.ts';
import { migrations } from './migrations/index.ts';

const config = loadConfig(purchaseConfigSchema);
const log = createLogger({ service: 'purchase', level: config.LOG_LEVEL });
const orm = await openDatabase({ url: config.DATABASE_URL, readUrls: config.DATABASE_READ_URLS, entities, migrations, log });
const auth = createHttpClient({ service: 'auth', baseUrl: config.AUTH_URL, timeoutMs: 2000, headers: { [serviceTokenHeader]: config.SERVICE_TOKEN } });
const verifier = createTokenVerifier({ auth, pollMs: config.REVOCATION_POLL_MS, log });
verifier.start();

serve(createApp({ orm, verifier, log }), {
  port: config.PORT,
  log,
  onStop: async () => {
    verifier.stop();
    await orm.close();
  },
});
