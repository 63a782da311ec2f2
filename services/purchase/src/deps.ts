/** Purchase's collaborators, built once from config: the catalog client (and its readiness check), the gateway client. */
import { serviceTokenHeader } from '@bookstore/shared/auth';
import { createServiceClient } from '@bookstore/shared/client';
import { createHttpClient } from '@bookstore/shared/http';
import type { PurchaseConfig } from './config.ts';
import { gatewayClient } from './gateway.ts';

/** @example const { catalog, gateway } = purchaseClients(config); */
export function purchaseClients(config: Pick<PurchaseConfig, 'CATALOG_URL' | 'SERVICE_TOKEN' | 'GATEWAY_URL' | 'GATEWAY_TIMEOUT_MS' | 'PORT'>) {
  const headers = { [serviceTokenHeader]: config.SERVICE_TOKEN };
  const catalogHttp = createHttpClient({ service: 'catalog', baseUrl: config.CATALOG_URL, timeoutMs: 2000, headers });
  const catalog = createServiceClient(catalogHttp, { attempts: 3 });
  /** Readiness: carts and checkouts need catalog (orders already placed can still be read without it). */
  const catalogReady = async () => {
    const response = await catalogHttp.request('/health/live', { retries: 0, timeoutMs: 1000 });
    await response.body?.cancel();
    if (!response.ok) throw new Error(`catalog answered ${response.status}`);
  };
  const gatewayUrl = config.GATEWAY_URL ?? `http://127.0.0.1:${config.PORT}`;
  const gateway = gatewayClient(createServiceClient(createHttpClient({ service: 'gateway', baseUrl: gatewayUrl, timeoutMs: config.GATEWAY_TIMEOUT_MS, headers }), { attempts: 2 }));
  return { catalog, catalogReady, gateway };
}
