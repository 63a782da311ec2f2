/**
 * The shop the endpoint fuzzer plays against: auth, catalog and purchase over HTTP on fresh MariaDB
 * databases, the callers of fuzz-requests.ts holding real tokens, fixtures worth aiming at (books,
 * orders, a sale, a reservation, a charge) and what must still hold once the fuzzing is over.
 */
import { serviceTokenHeader } from '@bookstore/shared/auth';
import type { BookJson } from '@bookstore/shared/contracts/catalog';
import type { OrderJson } from '@bookstore/shared/contracts/purchase';
import { bearer, jsonInit, testServiceToken } from '@bookstore/shared/testing/http';
import { mintTestToken, testSigningKey } from '@bookstore/shared/testing/tokens';
import { serveCatalogWithSeller } from '../../services/catalog/test/support.ts';
import { brokenInvariants } from '../../services/purchase/test/invariants.ts';
import { startTestPurchase } from '../../services/purchase/test/support.ts';
import { coverForm, testCard } from './authorization-shop.ts';
import type { Caller, FuzzBody, FuzzRequest } from './fuzz-requests.ts';

export type ServiceName = 'auth' | 'catalog' | 'purchase';

/** What came back: enough to judge it, and to say what it was when it is wrong. */
export interface Answer {
  status: number;
  contentType: string;
  text: string;
  /** The last error the service logged while answering, if any. */
  logged?: string;
}

type User = { email: string; password: string; token: string; userId: number };

/**
 * @example
 * const shop = await startFuzzShop();
 * const answer = await shop.send('catalog', { operation: 'GET /api/books', caller: 'anonymous', path: '/api/books', query: [], headers: {} });
 */
export async function startFuzzShop() {
  const started = await serveCatalogWithSeller();
  const { auth, catalog } = started;
  const purchase = await startTestPurchase(auth.url, { catalogUrl: started.catalogUrl });
  const urls: Record<ServiceName, string> = { auth: auth.url, catalog: started.catalogUrl, purchase: purchase.baseUrl };
  const logs = { auth: auth.log, catalog: catalog.log, purchase: purchase.log };
  const [owner, other, admin, loginTarget] = await Promise.all([auth.signUp('Owner Olive'), auth.signUp('Other Oscar'), auth.signUp('Admin Ada', 'admin'), throwaway()]);
  const users = { owner, other, admin };
  // Auth's own key id, another key's signature, an admin's claims: refused on the signature (an unknown
  // key id would be refused too, but only after waiting up to a second for auth's keys to be fetched again).
  const forged = await mintTestToken({ ...testSigningKey().privateJwk, kid: auth.key.published[0]!.kid! }, { sub: String(owner.userId), role: 'admin' });
  // Users the fuzzer must never act on: everyone there before it starts.
  const protectedUsers = new Set(((await auth.db.query('select id from users')) as { id: number }[]).map((row) => Number(row.id)));

  /** A customer made for one request, so that deleting, disabling or logging it out harms no one else. */
  function throwaway(): Promise<User> {
    return auth.signUp(`Throwaway ${crypto.randomUUID().replaceAll('-', '').replace(/\d/g, '')}`);
  }

  const fixtures = await makeFixtures({ urls, users, catalog, seller: started.seller });
  /** Values worth aiming at, by service and by the name of the field or parameter that takes them. */
  const known: Record<ServiceName, Record<string, unknown[]>> = {
    auth: { id: ['THROWAWAY'], email: [loginTarget.email], password: [loginTarget.password] },
    catalog: {
      id: [...fixtures.ownerBooks, fixtures.otherBook, ...fixtures.shopBooks],
      bookId: [...fixtures.shopBooks],
      orderId: [fixtures.reservation, ...fixtures.orders],
      file: [fixtures.cover],
      title: ['A Fuzzed Title'],
      author: ['A. Fuzzer'],
      price: ['12.50', '3'],
      stock: ['2', '0'],
      stockWas: ['2'],
      quantity: [1, 2],
    },
    purchase: {
      id: [...fixtures.orders, fixtures.sale],
      bookId: [...fixtures.shopBooks, ...fixtures.ownerBooks, fixtures.otherBook],
      key: [fixtures.charge],
      providerId: fixtures.providers,
      cardNumber: [testCard.cardNumber, '4000000000000002'],
      expMonth: [testCard.expMonth],
      expYear: [testCard.expYear],
      cvc: [testCard.cvc],
      quantity: [1, 2, 100],
    },
  };
  const fixed = new Set(Object.values(known).flatMap((pools) => Object.values(pools).flat()));
  /** Adds `value` to a pool, which keeps its fixtures and the latest of what was made since. */
  function remember(pool: unknown[], value: unknown) {
    if (pool.includes(value)) return;
    pool.push(value);
    if (pool.length > 12) pool.splice(Math.max(0, pool.findIndex((entry) => !fixed.has(entry))), 1);
  }
  /** Keys charged at the gateway itself (by the fixtures, or by the fuzzer as a rogue service): those charges have no order, by construction. */
  const directCharges = new Set<string>([fixtures.charge]);

  /** Sends `request` to `service` as its caller, and reads the answer. */
  async function send(service: ServiceName, request: FuzzRequest): Promise<Answer> {
    const needsThrowaway = request.caller === 'throwaway' || request.path.includes('THROWAWAY');
    const made = needsThrowaway ? await throwaway() : undefined;
    const path = made ? request.path.replaceAll('THROWAWAY', String(made.userId)) : request.path;
    const query = request.query.length ? `?${new URLSearchParams(request.query)}` : '';
    const headers: Record<string, string> = { ...request.headers, ...credentials(request.caller, made) };
    const body = bodyOf(request.body, headers);
    const linesBefore = logs[service].lines.length;
    const method = request.operation.split(' ')[0]!;
    const response = await fetch(`${urls[service]}${path}${query}`, { method, headers, body: method === 'GET' ? undefined : body, redirect: 'manual', signal: AbortSignal.timeout(15_000) });
    const text = await response.text();
    const logged = logs[service].lines.slice(linesBefore).findLast((line) => line.includes('"level":"error"'));
    const answer = { status: response.status, contentType: response.headers.get('content-type') ?? '', text, logged };
    harvest(service, request, answer);
    return answer;
  }

  function credentials(caller: Caller, made: User | undefined): Record<string, string> {
    switch (caller) {
      case 'anonymous':
        return {};
      case 'owner':
      case 'other':
      case 'admin':
        return bearer(users[caller].token);
      case 'throwaway':
        return bearer(made!.token);
      case 'service':
        return { [serviceTokenHeader]: testServiceToken };
      case 'userAsService':
        return { [serviceTokenHeader]: owner.token };
      case 'wrongService':
        return { [serviceTokenHeader]: `${testServiceToken.slice(0, -1)}X` };
      case 'forged':
        return bearer(forged);
    }
  }

  /** What an accepted request made joins the values worth aiming at: a new book or order, a reservation's order id, a charge's key. */
  function harvest(service: ServiceName, request: FuzzRequest, answer: Answer) {
    const json = request.body && 'json' in request.body && request.body.json !== null && typeof request.body.json === 'object' ? (request.body.json as Record<string, unknown>) : {};
    if (request.operation === 'POST /gateway/charges' && typeof json.key === 'string') directCharges.add(json.key);
    if (answer.status >= 300 || !answer.contentType.includes('json')) return;
    const pools = known[service];
    for (const [name, value] of Object.entries(json)) if (pools[name] && (typeof value === 'string' || typeof value === 'number')) remember(pools[name], value);
    const created = answer.status === 201 ? (JSON.parse(answer.text) as { id?: unknown }).id : undefined;
    if (typeof created === 'string' || typeof created === 'number') remember(pools.id ??= [], created);
  }

  return {
    /** A new book and a new unpaid order of the owner's, for the next operation to act on (earlier ones may have removed or paid the last). */
    async freshTargets() {
      const book = (await catalog.addBook(owner.token, { title: `Fresh ${crypto.randomUUID().slice(0, 8)}`, stock: 20 })).id;
      [known.catalog.id!, known.catalog.bookId!].forEach((pool) => remember(pool, book));
      const order = (await fixtures.order(owner, fixtures.shopBooks[1]!)).id;
      [known.purchase.id!, known.catalog.orderId!].forEach((pool) => remember(pool, order));
    },
    documents: async () =>
      Object.fromEntries(await Promise.all((['auth', 'catalog', 'purchase'] as const).map(async (service) => [service, await (await fetch(`${urls[service]}/openapi.json`)).json()] as const))),
    known,
    /** Whether a path value names one of the users the fuzzer must leave alone (by any of the numbers in it). */
    isProtectedUser: (value: string) => (safelyDecoded(value).match(/\d+/g) ?? []).some((digits) => protectedUsers.has(Number(digits))),
    send,
    /** What must still hold: the checkout's invariants, no negative stock, one charge per paid order, and the test's own callers still in. */
    async broken(): Promise<string[]> {
      const dbs = { purchase: purchase.db!, catalog: catalog.db! };
      const invariants = await brokenInvariants(dbs, fixtures.stockPut);
      const chargedByFuzzer = (line: string) => [...directCharges].some((key) => line.startsWith(`charge ${key} (`) && line.endsWith('but its order (none) is missing'));
      return [...invariants.filter((line) => !chargedByFuzzer(line)), ...(await brokenOutsideCheckout(dbs)), ...(await lockedOut({ urls, owner, other, admin }))];
    },
    async close() {
      await purchase.close();
      await started.close();
    },
  };
}

function bodyOf(body: FuzzBody | undefined, headers: Record<string, string>): BodyInit | undefined {
  if (!body) return undefined;
  if ('json' in body) return (headers['content-type'] = body.contentType ?? 'application/json'), JSON.stringify(body.json) ?? '';
  if ('raw' in body) return (headers['content-type'] = body.contentType), body.raw;
  if ('form' in body) return (headers['content-type'] = 'application/x-www-form-urlencoded'), new URLSearchParams(body.form);
  const form = new FormData();
  for (const [name, part] of body.multipart) {
    if (part === 'a PNG') form.append(name, coverForm(0).get('cover') as File);
    else if (part.startsWith('text: ')) form.append(name, part.slice('text: '.length));
    else form.append(name, new File([randomBytes(parseInt(part))], 'cover.png', { type: 'image/png' }));
  }
  return form;
}

function randomBytes(size: number): Uint8Array<ArrayBuffer> {
  const bytes = new Uint8Array(size);
  for (let at = 0; at < size; at += 65_536) crypto.getRandomValues(bytes.subarray(at, at + 65_536));
  return bytes;
}

function safelyDecoded(value: string): string {
  try {
    return decodeURIComponent(value);
  } catch {
    return value;
  }
}

interface FixtureDeps {
  urls: Record<ServiceName, string>;
  users: Record<'owner' | 'other' | 'admin', User>;
  catalog: Awaited<ReturnType<typeof serveCatalogWithSeller>>['catalog'];
  seller: string;
}

/**
 * What the fuzzer aims at: books of a seller it never acts as (their stock is only moved by
 * reservations, so it must be conserved; one has a cover, one the highest price), the owner's books, another seller's
 * book, the owner's orders (two unpaid, one paid), another buyer's order, a paid sale of the
 * owner's book, the owner's cart, a reservation of no order and an approved charge.
 */
async function makeFixtures({ urls, users, catalog, seller }: FixtureDeps) {
  const { owner, other } = users;
  const call = async (service: ServiceName, method: string, path: string, token: string | null, body?: unknown, headers: Record<string, string> = {}) => {
    const init = body instanceof FormData ? { method, body, headers } : jsonInit(method, body, headers);
    const response = await fetch(`${urls[service]}${path}`, { ...init, headers: { ...(init.headers as Record<string, string>), ...(token ? bearer(token) : {}) } });
    if (response.status >= 300) throw new Error(`fixture ${method} ${path}: ${response.status} ${await response.text()}`);
    return response.status === 204 ? undefined : response.json();
  };
  // The last at the highest price a book may have: totals past 32 bits.
  const shopBooks = await Promise.all([1200, 1500, 100_000_000].map(async (priceCents) => (await catalog.addBook(seller, { title: `Conserved at ${priceCents}`, priceCents, stock: 100_000 })).id));
  const ownerBooks = await Promise.all([1, 2].map(async (n) => (await catalog.addBook(owner.token, { title: `Owned ${n}`, stock: 50 })).id));
  const otherBook = (await catalog.addBook(other.token, { title: 'Not The Owner’s', stock: 50 })).id;
  // On a book the fuzzer cannot remove, so the cover stays served.
  const cover = ((await call('catalog', 'PUT', `/api/books/${shopBooks[0]}/cover`, seller, coverForm(7))) as BookJson).coverUrl!.split('/').pop()!;
  const providers = ((await call('purchase', 'GET', '/api/delivery-providers', null)) as { id: number }[]).map((provider) => provider.id);
  const order = async (buyer: User, bookId: number) =>
    (await call('purchase', 'POST', '/api/orders', buyer.token, { items: [{ bookId, quantity: 1 }], providerId: providers[0] }, { 'idempotency-key': crypto.randomUUID() })) as OrderJson;
  const pay = (buyer: User, id: string) => call('purchase', 'POST', `/api/orders/${id}/payment`, buyer.token, testCard, { 'idempotency-key': crypto.randomUUID() });
  const orders = [(await order(owner, shopBooks[0]!)).id, (await order(owner, shopBooks[1]!)).id, (await order(owner, shopBooks[0]!)).id, (await order(other, shopBooks[1]!)).id];
  await pay(owner, orders[2]!);
  const sale = (await order(other, ownerBooks[0]!)).id;
  await pay(other, sale);
  await call('purchase', 'PUT', `/api/cart/items/${shopBooks[0]}`, owner.token, { quantity: 1 });
  const reservation = `fuzz-${crypto.randomUUID()}`;
  await call('catalog', 'POST', '/api/reservations', null, { orderId: reservation, items: [{ bookId: shopBooks[1], quantity: 1 }] }, { [serviceTokenHeader]: testServiceToken });
  const charge = `pay_fuzz${crypto.randomUUID().replaceAll('-', '').slice(0, 20)}`;
  await call('purchase', 'POST', '/gateway/charges', null, { key: charge, amountCents: 100, ...testCard }, { [serviceTokenHeader]: testServiceToken });
  return { shopBooks, ownerBooks, otherBook, cover, providers, orders, sale, reservation, charge, order, stockPut: new Map(shopBooks.map((id) => [id, 100_000])) };
}

type Queryable = { query: (sql: string, params?: unknown[]) => Promise<unknown> };

/** No book with negative stock; every paid (or shipped) order charged exactly once. */
async function brokenOutsideCheckout(dbs: { purchase: Queryable; catalog: Queryable }): Promise<string[]> {
  const negative = (await dbs.catalog.query('select id, stock from books where stock < 0')) as { id: number; stock: number }[];
  const charged = (await dbs.purchase.query(
    `select o.id, count(c.charge_key) as charges from orders o
       left join payments p on p.order_id = o.id
       left join gateway_charges c on c.charge_key = p.id and c.outcome = 'approved' and c.refunded_at is null
      where o.status in ('paid', 'shipped') group by o.id having count(c.charge_key) <> 1`,
  )) as { id: string; charges: number }[];
  return [...negative.map((book) => `book ${book.id} has stock ${book.stock}`), ...charged.map((order) => `paid order ${order.id} has ${order.charges} approved, unrefunded charges`)];
}

/** The admin is still an admin, and the owner and the other customer can still log in and be recognised. */
async function lockedOut({ urls, owner, other, admin }: { urls: Record<ServiceName, string>; owner: User; other: User; admin: User }): Promise<string[]> {
  const broken: string[] = [];
  const me = await fetch(`${urls.auth}/api/me`, { headers: bearer(admin.token) });
  const role = me.status === 200 ? ((await me.json()) as { role?: string }).role : `answered ${me.status}`;
  if (role !== 'admin') broken.push(`the admin's own session: ${role}`);
  for (const [name, user] of Object.entries({ owner, other })) {
    const headers = { [serviceTokenHeader]: testServiceToken, 'x-client-address': `fuzz-check-${crypto.randomUUID()}` };
    const login = await fetch(`${urls.auth}/api/sessions`, jsonInit('POST', { email: user.email, password: user.password }, headers));
    if (login.status !== 201) broken.push(`the ${name} cannot log in: ${login.status} ${await login.text()}`);
    const principal = await fetch(`${urls.purchase}/api/principal`, { headers: bearer(user.token) });
    if (principal.status !== 200) broken.push(`the ${name}'s token is refused by purchase: ${principal.status}`);
  }
  return broken;
}
