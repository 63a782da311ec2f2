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
  /** Login throttling (README, "Login throttling"). Failures of one address against one account: past it, that address waits. */
  LOGIN_MAX_FAILURES_PER_ACCOUNT_ADDRESS: z.coerce.number().int().min(1).max(100).default(5),
  /** Failures against one account from addresses it has not logged in from; past it, only those addresses wait. */
  LOGIN_MAX_FAILURES_PER_ACCOUNT: z.coerce.number().int().min(1).max(10_000).default(50),
  /** Failures from one address against any accounts; successes never count. An office or a proxy is many people. */
  LOGIN_MAX_FAILURES_PER_ADDRESS: z.coerce.number().int().min(1).max(1_000_000).default(100),
  /** The first lock; each further lock in a row doubles, up to the window. */
  LOGIN_LOCK_SECONDS: z.coerce.number().int().min(1).max(24 * 3600).default(60),
  /** How long failures count. */
  LOGIN_WINDOW_SECONDS: z.coerce.number().int().min(60).max(7 * 24 * 3600).default(15 * 60),
  /** How long an address an account logged in from is exempt from that account's own budget. */
  LOGIN_KNOWN_ADDRESS_DAYS: z.coerce.number().int().min(0).max(365).default(30),
  /** Sign-ups from one address per window: each costs a password hash. */
  REGISTRATIONS_PER_ADDRESS: z.coerce.number().int().min(1).default(20),
  /** Of those, refused because the email already has an account: past it, that address waits (each such answer tells that an email has an account). */
  REGISTRATION_TAKEN_EMAILS_PER_ADDRESS: z.coerce.number().int().min(1).max(1000).default(5),
  /** Purchase, asked before an account is deleted whether its books still have sales to ship. */
  PURCHASE_URL: z.url().default('http://127.0.0.1:3003'),
  LOG_LEVEL: logLevel,
  ...lifecycleConfig,
});
export type AuthConfig = z.infer<typeof authConfigSchema>;
