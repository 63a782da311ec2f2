/** Auth's environment variables. */
import { z } from 'zod';
import { serviceTokenConfig } from '@bookstore/shared/auth';
import { databaseUrl, logLevel, port, urlList } from '@bookstore/shared/config';

export const authConfigSchema = z.object({
  PORT: port(3001),
  DATABASE_URL: databaseUrl.default('sqlite:./data/auth.sqlite'),
  DATABASE_READ_URLS: urlList,
  /** Ed25519 private key as a JWK (JSON) or PKCS#8 PEM. Unset: generated once and kept in KEY_DIR. */
  SIGNING_KEY: z.string().optional(),
  KEY_DIR: z.string().default('./data'),
  /** Shared by our services to call each other's internal endpoints. */
  SERVICE_TOKEN: serviceTokenConfig,
  TOKEN_TTL_SECONDS: z.coerce.number().int().min(60).max(7 * 24 * 3600).default(8 * 3600),
  LOGIN_MAX_FAILURES_PER_ACCOUNT: z.coerce.number().int().min(1).default(5),
  LOGIN_MAX_FAILURES_PER_ADDRESS: z.coerce.number().int().min(1).default(20),
  LOGIN_LOCK_SECONDS: z.coerce.number().int().min(1).default(60),
  REGISTRATIONS_PER_ADDRESS: z.coerce.number().int().min(1).default(20),
  LOG_LEVEL: logLevel,
});
export type AuthConfig = z.infer<typeof authConfigSchema>;
