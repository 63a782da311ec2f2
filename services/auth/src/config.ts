/** Auth's environment variables. */
import { z } from 'zod';
import { serviceTokenConfig, serviceTokenList } from '@bookstore/shared/auth';
import { databaseConfig, logLevel, port, lifecycleConfig } from '@bookstore/shared/config';

export const authConfigSchema = z.object({
  PORT: port(3001),
  ...databaseConfig('auth'),
  /**
   * Ed25519 private keys: PKCS#8 PEM blocks one after another, a JWK, or a JSON array of JWKs. The
   * first signs; all are published, so tokens signed by a key being retired stay valid until it is
   * removed. Unset: one is generated once and kept in KEY_DIR.
   */
  SIGNING_KEY: z.string().optional(),
  KEY_DIR: z.string().default('./data'),
  /** Shared by our services to call each other's internal endpoints. */
  SERVICE_TOKEN: serviceTokenConfig,
  SERVICE_TOKENS_ACCEPTED: serviceTokenList,
  TOKEN_TTL_SECONDS: z.coerce.number().int().min(60).max(7 * 24 * 3600).default(8 * 3600),
  LOGIN_MAX_FAILURES_PER_ACCOUNT: z.coerce.number().int().min(1).default(5),
  LOGIN_MAX_FAILURES_PER_ADDRESS: z.coerce.number().int().min(1).default(20),
  LOGIN_LOCK_SECONDS: z.coerce.number().int().min(1).default(60),
  REGISTRATIONS_PER_ADDRESS: z.coerce.number().int().min(1).default(20),
  LOG_LEVEL: logLevel,
  ...lifecycleConfig,
});
export type AuthConfig = z.infer<typeof authConfigSchema>;
