/** Purchase's environment variables. */
import { z } from 'zod';
import { tokenCheckConfig } from '@bookstore/shared/auth';
import { databaseConfig, logLevel, port, lifecycleConfig } from '@bookstore/shared/config';

export const purchaseConfigSchema = tokenCheckConfig.extend({
  PORT: port(3003),
  ...databaseConfig('purchase'),
  CATALOG_URL: z.url().default('http://127.0.0.1:3002'),
  /** How long an unpaid order holds its stock. */
  ORDER_PAYMENT_TTL_SECONDS: z.coerce.number().int().min(10).max(7 * 24 * 3600).default(900),
  /** How often the sweeper looks for orders to finish, undo or expire. */
  SWEEP_INTERVAL_MS: z.coerce.number().int().min(100).max(600_000).default(5000),
  /** The payment gateway; by default the simulated one this service serves under /gateway. */
  GATEWAY_URL: z.url().optional(),
  /** How long a charge may take before its outcome counts as unknown. */
  GATEWAY_TIMEOUT_MS: z.coerce.number().int().min(50).max(60_000).default(2000),
  /** How long the simulated gateway takes to answer the "slow" test card (4000 0000 0000 0077). */
  GATEWAY_SLOW_MS: z.coerce.number().int().min(0).max(120_000).optional(),
  LOG_LEVEL: logLevel,
  ...lifecycleConfig,
});
export type PurchaseConfig = z.infer<typeof purchaseConfigSchema>;
