/** Starts the web front. */
import { createTokenVerifier, serviceTokenHeader } from '@bookstore/shared/auth';
import { loadConfig } from '@bookstore/shared/config';
import { createHttpClient } from '@bookstore/shared/http';
import { createLogger } from '@bookstore/shared/log';
import { serve } from '@bookstore/shared/service';
import { createApp } from './app.ts';
import { webConfigSchema } from './config.ts';

const config = loadConfig(webConfigSchema);
const log = createLogger({ service: 'web', level: config.LOG_LEVEL });
// Only auth gets the service token (revocation feed, the browser's address for throttling): catalog
// and purchase see the web front as they see any client, with the user's token.
const clients = {
  auth: createHttpClient({ service: 'auth', baseUrl: config.AUTH_URL, timeoutMs: 3000, headers: { [serviceTokenHeader]: config.SERVICE_TOKEN } }),
  catalog: createHttpClient({ service: 'catalog', baseUrl: config.CATALOG_URL, timeoutMs: 3000 }),
  purchase: createHttpClient({ service: 'purchase', baseUrl: config.PURCHASE_URL, timeoutMs: 3000 }),
};
const verifier = createTokenVerifier({ auth: clients.auth, pollMs: config.REVOCATION_POLL_MS, keysRefreshMs: config.KEYS_REFRESH_MS, log });
verifier.start();

serve(createApp({ config, clients, verifier, log }), { port: config.PORT, hostname: config.HOST, log, drainMs: config.SHUTDOWN_DRAIN_MS, onStop: () => verifier.stop() });
