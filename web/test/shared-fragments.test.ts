/**
 * What the speed-ups must not break: shared listings (web fragments, API pages) are shared only as
 * long as catalog says (a stock change reaches shoppers within that staleness), never shared when a
 * service did not allow it, and compressed pages are the same pages.
 */
import { afterAll, beforeAll, describe, expect, test } from 'bun:test';
import { gunzipSync } from 'node:zlib';
import { bearer, jsonInit } from '@bookstore/shared/testing/http';
import { raw } from '@bookstore/shared/html';
import type { ServedTestAuth } from '../../services/auth/test/support.ts';
import { serveCatalogWithSeller, type TestCatalog } from '../../services/catalog/test/support.ts';
import { FragmentCache, keepFromCacheControl, type CacheableFragment } from '../src/fragment-cache.ts';
import { startTestWeb } from './support.ts';

describe('the fragment cache', () => {
  const answer = (text: string, maxAgeMs: number, scope: 'public' | 'private' = 'public'): CacheableFragment => ({
    html: raw(text),
    status: 200,
    ok: true,
    keep: maxAgeMs > 0 ? { scope, maxAgeMs } : null,
  });

  test('keeps a shareable fragment for its max-age, then asks again', async () => {
    let now = 1_000;
    const cache = new FragmentCache({ now: () => now });
    let loads = 0;
    const load = async () => answer(`version ${++loads}`, 2000);
    expect(String((await cache.get('k', null, load)).html)).toBe('version 1');
    now += 1999;
    expect(String((await cache.get('k', null, load)).html)).toBe('version 1');
    now += 1;
    expect(String((await cache.get('k', null, load)).html)).toBe('version 2');
  });

  test('keeps a private fragment for its viewer only, and nothing the service did not allow', async () => {
    const cache = new FragmentCache();
    const badge = 'purchase /fragments/cart-badge';
    expect(String((await cache.get(badge, 'user 1', async () => answer('Cart 3', 10_000, 'private'))).html)).toBe('Cart 3');
    expect(String((await cache.get(badge, 'user 2', async () => answer('Cart 0', 10_000, 'private'))).html)).toBe('Cart 0');
    expect(String((await cache.get(badge, 'user 1', async () => answer('Cart 9', 10_000, 'private'))).html)).toBe('Cart 3');
    expect(String((await cache.get(badge, null, async () => answer('no viewer', 10_000, 'private'))).html)).toBe('no viewer');
    expect(String((await cache.get(badge, null, async () => answer('still none', 10_000, 'private'))).html)).toBe('still none');
    expect(String((await cache.get('uncached', 'user 1', async () => answer('one', 0))).html)).toBe('one');
    expect(String((await cache.get('uncached', 'user 1', async () => answer('two', 0))).html)).toBe('two');
  });

  test('visitors arriving while a shared fragment is being renewed wait for that one request', async () => {
    let now = 0;
    const cache = new FragmentCache({ now: () => now });
    await cache.get('k', null, async () => answer('first', 1000));
    now = 5000;
    let loads = 0;
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    const load = async () => (loads++, await gate, answer('renewed', 1000));
    const waiting = Array.from({ length: 20 }, (_, i) => cache.get('k', `user ${i}`, load));
    release();
    const pages = await Promise.all(waiting);
    expect(pages.map((page) => String(page.html))).toEqual(Array(20).fill('renewed'));
    expect(loads).toBe(1);
  });

  test('holds at most its byte budget: the oldest go first, expired ones whenever something is added', async () => {
    let now = 0;
    const cache = new FragmentCache({ maxBytes: 16 * 2 * 1000, now: () => now }); // 16 entries of 1,000 characters
    const page = (n: number) => answer(String(n).padStart(1000, '.'), 60_000, 'private');
    let loads = 0;
    // One viewer asking for ever new query strings (`/sell?junk=N`): the cache does not grow past its budget.
    for (let n = 0; n < 100; n++) await cache.get(`catalog /fragments/sell?junk=${n}`, 'user 1', async () => (loads++, page(n)));
    expect(String((await cache.get('catalog /fragments/sell?junk=99', 'user 1', async () => (loads++, page(-1)))).html)).toEndWith('99');
    expect(String((await cache.get('catalog /fragments/sell?junk=0', 'user 1', async () => (loads++, page(-1)))).html)).toEndWith('-1');
    expect(loads).toBe(101);
    // An entry too big for its share of the budget is not kept at all.
    const huge = answer('x'.repeat(5000), 60_000);
    await cache.get('huge', null, async () => huge);
    expect(String((await cache.get('huge', null, async () => answer('again', 60_000))).html)).toBe('again');
  });

  test('reads Cache-Control as HTTP means it', () => {
    expect(keepFromCacheControl('public, max-age=2')).toEqual({ scope: 'public', maxAgeMs: 2000 });
    expect(keepFromCacheControl('private, max-age=10')).toEqual({ scope: 'private', maxAgeMs: 10_000 });
    expect(keepFromCacheControl('max-age=2')).toBeNull();
    expect(keepFromCacheControl('public, max-age=0')).toBeNull();
    expect(keepFromCacheControl('private, no-store')).toBeNull();
    expect(keepFromCacheControl('public, max-age=5, no-cache')).toBeNull();
    expect(keepFromCacheControl(null)).toBeNull();
  });
});

describe('with catalog sharing its listings for 1 s', () => {
  let shop: Awaited<ReturnType<typeof serveCatalogWithSeller>>;
  let auth: ServedTestAuth;
  let catalog: TestCatalog;
  let web: ReturnType<typeof startTestWeb>;
  beforeAll(async () => {
    shop = await serveCatalogWithSeller({ listingMaxAgeSeconds: 1 });
    ({ auth, catalog } = shop);
    web = startTestWeb({ auth: auth.url, catalog: shop.catalogUrl });
  });
  afterAll(async () => {
    web.close();
    await shop.close();
  });

  test('a changed stock count reaches shoppers within the stated 1 s', async () => {
    const seller = await auth.signUp('Stock Mover');
    const book = await catalog.addBook(seller.token, { title: 'Vellichor Nine', stock: 9 });
    const listing = await catalog.app.request('/fragments/catalog?q=Vellichor');
    expect(listing.headers.get('cache-control')).toBe('public, max-age=1');
    const card = async () => {
      const page = await (await web.browse('/catalog?q=Vellichor')).text();
      return page.slice(page.indexOf('Vellichor Nine'));
    };
    expect(await card()).toContain('In stock');

    const changed = await catalog.app.request(`/api/books/${book.id}`, jsonInit('PATCH', { stock: 2 }, bearer(seller.token)));
    expect(changed.status).toBe(200);
    const since = performance.now();
    while (!(await card()).includes('Only 2 left')) {
      expect(performance.now() - since).toBeLessThan(1000 + 1000); // the stated staleness, plus room for a slow machine
      await Bun.sleep(50);
    }
  });

  test('the API shares search pages for the same 1 s; a seller asking for the primary sees their change at once', async () => {
    const seller = await auth.signUp('Api Stock Mover');
    const book = await catalog.addBook(seller.token, { title: 'Apricity Seven', stock: 9 });
    const stockIn = async (headers: Record<string, string> = {}) => {
      const response = await catalog.app.request('/api/books?q=Apricity', { headers });
      return { cacheControl: response.headers.get('cache-control'), stock: ((await response.json()) as { items: { stock: number }[] }).items[0]!.stock };
    };
    expect(await stockIn()).toEqual({ cacheControl: 'public, max-age=1', stock: 9 });
    expect((await catalog.app.request(`/api/books/${book.id}`, jsonInit('PATCH', { stock: 4 }, bearer(seller.token)))).status).toBe(200);
    const since = performance.now();
    expect(await stockIn({ ...bearer(seller.token), 'x-read-consistency': 'primary' })).toEqual({ cacheControl: 'private, no-store', stock: 4 });
    // The seller's own list is theirs alone: kept for them for the same second, unless they ask for the primary.
    expect((await catalog.app.request('/fragments/sell', { headers: bearer(seller.token) })).headers.get('cache-control')).toBe('private, max-age=1');
    expect((await catalog.app.request('/fragments/sell', { headers: { ...bearer(seller.token), 'x-read-consistency': 'primary' } })).headers.get('cache-control')).toBe('private, no-store');
    // Asking for the primary without a session is not honoured: the shared page it gets may be stale.
    expect((await stockIn({ 'x-read-consistency': 'primary' })).cacheControl).toBe('public, max-age=1');
    while ((await stockIn()).stock !== 4) {
      expect(performance.now() - since).toBeLessThan(1000 + 1000);
      await Bun.sleep(50);
    }
  });

  test('compressed pages decompress to the same page, and htmx to the same file', async () => {
    await catalog.addBook((await auth.signUp('Gzip Seller')).token, { title: 'Squeezed Pages' });
    const plain = await (await web.browse('/catalog')).text();
    const gzipped = await web.browse('/catalog', { headers: { 'accept-encoding': 'gzip, deflate, br' } });
    expect(gzipped.headers.get('content-encoding')).toBe('gzip');
    expect(gzipped.headers.get('vary')).toContain('Accept-Encoding');
    const bytes = new Uint8Array(await gzipped.arrayBuffer());
    expect(gunzipSync(bytes).toString('utf8')).toBe(plain);
    expect(bytes.length).toBeLessThan(plain.length / 3);

    const htmx = await web.browse('/assets/htmx-2.0.11.min.js', { headers: { 'accept-encoding': 'gzip' } });
    expect(htmx.headers.get('content-encoding')).toBe('gzip');
    const file = await Bun.file(Bun.resolveSync('htmx.org/dist/htmx.min.js', import.meta.dir)).text();
    expect(gunzipSync(new Uint8Array(await htmx.arrayBuffer())).toString('utf8')).toBe(file);
  });
});
