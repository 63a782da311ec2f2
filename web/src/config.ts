/** The web front's environment variables. */
import { resolve } from 'node:path';
import { z } from 'zod';
import { tokenCheckConfig } from '@bookstore/shared/auth';
import { booleanFlag, logLevel, port, urlList, lifecycleConfig } from '@bookstore/shared/config';

export const webConfigSchema = tokenCheckConfig.extend({
  PORT: port(3000),
  CATALOG_URL: z.url().default('http://127.0.0.1:3002'),
  PURCHASE_URL: z.url().default('http://127.0.0.1:3003'),
  /** Favicon, css and other static files: the NFS volume in Swarm. */
  STATIC_DIR: z.string().default(resolve(import.meta.dir, '../static')).transform((dir) => resolve(dir)),
  /** Time budget of one fragment call; a slower service shows a retry box instead. */
  FRAGMENT_BUDGET_MS: z.coerce.number().int().min(50).max(10_000).default(1200),
  /** Set behind TLS: the session cookie is then sent over https only. */
  COOKIE_SECURE: booleanFlag,
  /** Origins allowed to POST besides the page's own (e.g. https://shop.example.com behind a proxy). */
  ALLOWED_ORIGINS: urlList,
  /** Behind a reverse proxy: take the client address from X-Forwarded-For. */
  TRUST_PROXY: booleanFlag,
  LOG_LEVEL: logLevel,
  ...lifecycleConfig,
});
export type WebConfig = z.infer<typeof webConfigSchema>;
