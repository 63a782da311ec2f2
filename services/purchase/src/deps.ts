/** Purchase's collaborators, built once from config: the catalog client, the gateway client. */
import { serviceTokenHeader } from '@bookstore/shared/auth';
import { createServiceClient } from '@bookstore/shared/client';
import { createHttpClient } from '@bookstore/shared/http';
import type { PurchaseConfig } from './config.ts';
import { gatewayClient } from './gateway.ts';

/** @example const { catalog, gateway } = purchaseClients(config); */
export function purchaseClients(config: Pick<PurchaseConfig, 'CATALOG_URL' | 'SERVICE_TOKEN' | 'GATEWAY_URL' | 'GATEWAY_TIMEOUT_MS' | 'PORT'>) {
  const headers = { [serviceTokenHeader]: config.SERVICE_TOKEN };
  const catalog = createServiceClient(createHttpClient({ service: 'catalog', baseUrl: config.CATALOG_URL, timeoutMs: 2000, headers }), { attempts: 3 });
  const gatewayUrl = config.GATEWAY_URL ?? `http://127.0.0.1:${config.PORT}`;
  const gateway = gatewayClient(createServiceClient(createHttpClient({ service: 'gateway', baseUrl: gatewayUrl, timeoutMs: config.GATEWAY_TIMEOUT_MS, headers }), { attempts: 2 }));
  return { catalog, gateway };
}
