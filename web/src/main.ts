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
const serviceHeaders = { [serviceTokenHeader]: config.SERVICE_TOKEN };
const clients = {
  auth: createHttpClient({ service: 'auth', baseUrl: config.AUTH_URL, timeoutMs: 3000, headers: serviceHeaders }),
  catalog: createHttpClient({ service: 'catalog', baseUrl: config.CATALOG_URL, timeoutMs: 3000, headers: serviceHeaders }),
  purchase: createHttpClient({ service: 'purchase', baseUrl: config.PURCHASE_URL, timeoutMs: 3000, headers: serviceHeaders }),
};
const verifier = createTokenVerifier({ auth: clients.auth, log });
verifier.start();

serve(createApp({ config, clients, verifier, log }), { port: config.PORT, log, onStop: () => verifier.stop() });
