/**
 * The benchmark's rows: what each one loads, and how. A step is a list of rows run at the same time
 * (one row alone, except "catalog during logins"). Searches go through the web front as search as you
 * type sends them (htmx headers and the form's other fields), and also straight to catalog's API.
 */
import { resolve } from 'node:path';
import type { ServiceName } from '../scripts/stack.ts';
import { readConsistencyHeader } from '../shared/src/http.ts';
import { wroteCookie } from '../web/src/session.ts';
import type { BenchShop } from './shop.ts';
import type { WrkRun } from './wrk.ts';

export interface Row {
  /** Stable name, used by the targets. */
  id: string;
  label: string;
  /** Which process answers (its warnings count against the row). */
  service: ServiceName | 'bare';
  run: Omit<WrkRun, 'seconds'>;
}

export type Step = Row[];

const lua = (file: string, ...args: (string | number)[]) => ({ path: resolve(import.meta.dir, 'lua', file), args: args.map(String) });

/** What htmx sends as a shopper types in the search box or changes a filter (hx-include of the form). */
const htmx = { 'HX-Request': 'true', 'HX-Target': 'book-results', 'HX-Current-URL': 'http://127.0.0.1/catalog' };
const typed = (fields: Record<string, string>) => `/catalog?${new URLSearchParams({ q: '', author: '', minPrice: '', maxPrice: '', sort: 'newest', ...fields })}`;

export const searches = [
  { id: 'one-word', what: 'one word', q: 'harbor' },
  { id: 'two-words', what: 'two words', q: 'golden lantern' },
  { id: 'prefix', what: 'prefix as typed', q: 'lan' },
  { id: 'rare-word', what: 'rare word, 3 books', q: 'zephyr' },
];

/**
 * @example
 * for (const step of readSteps(shop, { connections: 32, threads: 2 })) await Promise.all(step.map(…));
 */
export function readSteps(shop: BenchShop, load: { connections: number; threads: number }): Step[] {
  const { urls } = shop;
  const buyer = shop.buyers[0]!;
  const books = shop.bookIds.last - shop.bookIds.first + 1;
  const row = (id: string, label: string, service: Row['service'], path: string, extra: Partial<Row['run']> = {}): Step => [
    { id, label, service, run: { url: `${urls[service]}${path}`, ...load, ...extra } },
  ];
  return [
    row('bare', 'bare reference: Hono + hono/jsx + mysql2, 24 newest books', 'bare', '/catalog'),
    row('catalog', 'composed /catalog, anonymous', 'web', '/catalog'),
    row('catalog-logged-in', 'composed /catalog, logged in (Cookie)', 'web', '/catalog', { headers: { Cookie: buyer.cookie } }),
    // The same page for a viewer who has just changed something: no shared copy, read from the primary.
    row('catalog-fresh', 'composed /catalog, logged in, just wrote (no cache, primary)', 'web', '/catalog', { headers: { Cookie: `${buyer.cookie}; ${wroteCookie}=1` } }),
    row('book', `book page /books/:id, random ids of ${books.toLocaleString('en-US')}`, 'web', '/', { script: lua('book-pages.lua', shop.bookIds.first, shop.bookIds.last) }),
    ...searches.map(({ id, what, q }) => row(`search-${id}`, `search ${what}: web /catalog?q=${q} (htmx)`, 'web', typed({ q }), { headers: htmx })),
    ...searches.map(({ id, what, q }) => row(`api-search-${id}`, `search ${what}: catalog /api/books?q=${q}`, 'catalog', `/api/books?${new URLSearchParams({ q })}`)),
    // The same searches' own cost: a signed-in caller asking for the primary gets no shared page.
    ...searches.map(({ id, what, q }) =>
      row(`fresh-search-${id}`, `search ${what}, no shared page: catalog /api/books?q=${q}, primary`, 'catalog', `/api/books?${new URLSearchParams({ q })}`, {
        headers: { Authorization: `Bearer ${buyer.token}`, [readConsistencyHeader]: 'primary' },
      }),
    ),
    row('filters', 'filters: $10–20, in stock, by price (htmx)', 'web', typed({ minPrice: '10', maxPrice: '20', inStock: 'true', sort: 'price_asc' }), { headers: htmx }),
    row('deep-page', 'deep page: /catalog?page=200 (htmx)', 'web', '/catalog?page=200', { headers: htmx }),
    row('seller', `seller's page /sell (seller of all ${books.toLocaleString('en-US')} books)`, 'web', '/sell', { headers: { Cookie: shop.seller.cookie } }),
    row('login', `login: auth POST /api/sessions, ${shop.loginAccounts.count} accounts in rotation`, 'auth', '/api/sessions', { script: loginScript(shop) }),
  ];
}

/** The catalog page alone at half the connections, then beside logins at the other half. */
export function loginUnderLoadSteps(shop: BenchShop, load: { connections: number }): Step[] {
  const half = { threads: 1, connections: Math.max(1, Math.floor(load.connections / 2)) };
  const catalog = (id: string, label: string): Row => ({ id, label, service: 'web', run: { url: `${shop.urls.web}/catalog`, ...half } });
  return [
    [catalog('catalog-idle', `composed /catalog, ${half.connections} connections, nothing else`)],
    [
      catalog('catalog-during-login', `composed /catalog, ${half.connections} connections, during logins`),
      { id: 'login-during-catalog', label: `login, ${half.connections} connections, during catalog load`, service: 'auth', run: { url: `${shop.urls.auth}/api/sessions`, ...half, script: loginScript(shop) } },
    ],
  ];
}

export function checkoutRow(shop: BenchShop, load: { connections: number; threads: number }, bookIds: number[], providerId: number): Row {
  const buyers = shop.buyers.map((buyer) => `${buyer.id}:${buyer.token}`);
  return {
    id: 'checkout',
    label: `checkout: purchase POST /api/orders, then /payment (${shop.buyers.length} buyers)`,
    service: 'purchase',
    run: { url: `${shop.urls.purchase}/api/orders`, ...load, script: lua('checkout.lua', providerId, new Date().getFullYear() + 2, bookIds.join(','), ...buyers) },
  };
}

function loginScript(shop: BenchShop) {
  return lua('login.lua', shop.loginAccounts.count, shop.loginAccounts.password, shop.serviceToken);
}
