/**
 * Fragment composition: the web front asks services for pieces of HTML in parallel, each within a
 * time budget. A piece whose service is down or slow becomes a short "unavailable, retry" box, so
 * the page still answers.
 */
import { readConsistencyHeader, ServiceUnavailableError, type HttpClient } from '@bookstore/shared/http';
import { unavailableBox, type Html } from '@bookstore/shared/html';
import { raw } from '@bookstore/shared/html';
import type { Logger } from '@bookstore/shared/log';
import { keepFromCacheControl, type CacheableFragment } from './fragment-cache.ts';

export interface FragmentRequest {
  client: HttpClient;
  path: string;
  /** The user's token, forwarded as Bearer. */
  token?: string | null;
  method?: 'GET' | 'POST';
  json?: unknown;
  /** What the box says is unavailable: "Your account", "The catalog". */
  label: string;
  /** Where the box's Retry link goes (usually the page itself). */
  retryUrl?: string;
  /** Read from the service's primary: the viewer has just written. */
  readPrimary?: boolean;
}

export interface Fragment {
  html: Html;
  status: number;
  /** False when the service did not answer: the html is the retry box. */
  ok: boolean;
}

/**
 * @example
 * const [menu, form] = await Promise.all([fetchFragment(budget, log, {...}), fetchFragment(budget, log, {...})]);
 */
export async function fetchFragment(budgetMs: number, log: Logger, request: FragmentRequest): Promise<CacheableFragment> {
  const headers: Record<string, string> = { accept: 'text/html' };
  if (request.token) headers.authorization = `Bearer ${request.token}`;
  if (request.readPrimary) headers[readConsistencyHeader] = 'primary';
  if (request.json !== undefined) headers['content-type'] = 'application/json';
  try {
    const response = await request.client.request(request.path, {
      method: request.method ?? 'GET',
      headers,
      body: request.json === undefined ? undefined : JSON.stringify(request.json),
      timeoutMs: budgetMs,
      // The budget covers the retry too: the whole call, not each attempt.
      signal: AbortSignal.timeout(budgetMs),
    });
    if (response.status >= 500) throw new ServiceUnavailableError(request.client.service, `status ${response.status}`);
    // Only a service's own HTML is embedded; anything else (a JSON error, say) is never pasted into a page.
    if (!response.headers.get('content-type')?.startsWith('text/html')) {
      await response.body?.cancel();
      throw new ServiceUnavailableError(request.client.service, `answered ${response.status} without HTML`);
    }
    const text = await response.text().catch(() => {
      throw new ServiceUnavailableError(request.client.service, 'the answer did not arrive in time');
    });
    const keep = response.status === 200 ? keepFromCacheControl(response.headers.get('cache-control')) : null;
    return { html: raw(text), status: response.status, ok: true, keep };
  } catch (error) {
    if (!(error instanceof ServiceUnavailableError)) throw error;
    log.warn('fragment unavailable', { service: request.client.service, path: request.path, reason: error.message });
    return { html: unavailableBox(request.label, request.retryUrl), status: 503, ok: false, keep: null };
  }
}
