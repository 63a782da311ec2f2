/** Purchase's environment variables. */
import { z } from 'zod';
import { tokenCheckConfig } from '@bookstore/shared/auth';
import { databaseUrl, logLevel, port, urlList } from '@bookstore/shared/config';

export const purchaseConfigSchema = tokenCheckConfig.extend({
  PORT: port(3003),
  DATABASE_URL: databaseUrl.default('sqlite:./data/purchase.sqlite'),
  DATABASE_READ_URLS: urlList,
  CATALOG_URL: z.url().default('http://127.0.0.1:3002'),
  LOG_LEVEL: logLevel,
});
export type PurchaseConfig = z.infer<typeof purchaseConfigSchema>;
