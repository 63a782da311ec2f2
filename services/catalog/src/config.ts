/** Catalog's environment variables. */
import { resolve } from 'node:path';
import { z } from 'zod';
import { tokenCheckConfig } from '@bookstore/shared/auth';
import { databaseConfig, logLevel, port, lifecycleConfig } from '@bookstore/shared/config';

export const catalogConfigSchema = tokenCheckConfig.extend({
  PORT: port(3002),
  ...databaseConfig('catalog'),
  /** Where covers are stored: the NFS volume in Swarm, shared by every catalog replica. */
  UPLOADS_DIR: z.string().default('./data/uploads').transform((dir) => resolve(dir)),
  MAX_COVER_BYTES: z.coerce.number().int().min(1024).max(20 * 1024 * 1024).default(2 * 1024 * 1024),
  /** Cover uploads one user may make in an hour (counted in the database, so across replicas); then 429. */
  COVER_UPLOADS_PER_HOUR: z.coerce.number().int().min(1).max(10_000).default(30),
  /**
   * How long a shopper's listing (the API's book search, the web front's catalog, results and new
   * books fragments) may be shared between visitors: how stale it may be, replica lag aside. 0 = never.
   */
  LISTING_MAX_AGE_SECONDS: z.coerce.number().int().min(0).max(60).default(2),
  /** How often auth's feed of deleted accounts is read: their books leave the catalog within about this long. */
  DELETED_SELLERS_POLL_MS: z.coerce.number().int().min(100).max(3_600_000).default(10_000),
  LOG_LEVEL: logLevel,
  ...lifecycleConfig,
});
export type CatalogConfig = z.infer<typeof catalogConfigSchema>;
