/**
 * The whole shop in one process, for the authorization matrix: auth, catalog and purchase served
 * over HTTP on fresh MariaDB databases, the web front in front of them, and the people who call
 * them (a resource's owner, another user, an admin) holding real tokens signed by auth.
 * `prepare` makes what a route acts on (a book, an order, an account...); `send` calls a route as
 * one kind of caller and tells what came back.
 */
import { deflateSync } from 'node:zlib';
import { serviceTokenHeader } from '@bookstore/shared/auth';
import type { BookJson } from '@bookstore/shared/contracts/catalog';
import type { OrderJson } from '@bookstore/shared/contracts/purchase';
import { bearer, jsonInit, testServiceToken } from '@bookstore/shared/testing/http';
import { pngChunk } from '../../services/catalog/test/png.ts';
import { startShopWithWeb } from '../../web/test/support.ts';

/**
 * Who calls: nobody; a signed-in customer who does not own the resource; its owner (a book's
 * seller, an order's buyer, an item's seller, the account itself); an admin; a Bookstore service
 * (service token, no user); and a user's token sent as the service token.
 */
export type Caller = 'anonymous' | 'other' | 'owner' | 'admin' | 'service' | 'userAsService';
export type AppName = 'auth' | 'catalog' | 'purchase' | 'web';
/** What a call got: its status, or "login" when the web front sent the browser to log in. */
export type Outcome = number | 'login';

/**
 * What a route acts on, made fresh for each allowed caller (and once for all the refused ones):
 *   book         a book the owner sells (5 copies)
 *   order        an unpaid order the owner placed, for a book the other user sells
 *   sale         a paid order the other user placed, for a book the owner sells
 *   account      a customer account; the owner is that account
 *   reservation  1 copy of a fresh book of the owner, reserved by the service under a fresh order id
 *   charge       an approved charge of the simulated gateway; newCharge: a key never charged
 *   cart         the caller's cart holds a book
 *   newSessions  the caller logs in again (the route ends that session)
 *   ownAccounts  the caller is a fresh account of their kind (the route deletes it)
 */
export type Fixture = 'book' | 'order' | 'sale' | 'account' | 'reservation' | 'charge' | 'newCharge' | 'cart' | 'newSessions' | 'ownAccounts';

/** The values a call's path and body are filled with. */
export interface Vars {
  unique: string;
  password: string;
  ownerEmail: string;
  /** A book of a third seller that anyone may put in their cart and order. */
  shopBook: number;
  /** A book the owner sells, for reads. */
  ownerBook: number;
  /** A cover file catalog serves. */
  cover: string;
  book: number;
  order: string;
  user: number;
  reservation: string;
  charge: string;
}

export interface Call {
  app: AppName;
  method: string;
  path: string;
  json?: unknown;
  form?: Record<string, string>;
  multipart?: FormData;
}

interface User {
  email: string;
  password: string;
  token: string;
  userId: number;
}

export interface Prepared {
  vars: Vars;
  /** Callers who act as someone else for this fixture (the account itself, a fresh session). */
  as: Partial<Record<Caller, User>>;
  /** What a refused write must leave as it was. */
  state?: () => Promise<unknown>;
}

const userCallers: Caller[] = ['other', 'owner', 'admin'];
export const testCard = { cardNumber: '4242424242424242', expMonth: 12, expYear: new Date().getFullYear() + 2, cvc: '123', holder: 'Card Holder' };

/**
 * @example
 * const shop = await startShop();
 * const ready = await shop.prepare('book', ['other']);
 * await shop.send({ app: 'catalog', method: 'DELETE', path: `/api/books/${ready.vars.book}` }, 'other', ready.as); // 403
 */
export async function startShop() {
  const whole = await startShopWithWeb();
  const { shop: started, purchase, web } = whole;
  const { auth, catalog } = started;
  const [owner, other, admin] = await Promise.all([auth.signUp('Owner Olive'), auth.signUp('Other Oscar'), auth.signUp('Admin Ada', 'admin')]);
  const users: Record<'owner' | 'other' | 'admin', User> = { owner, other, admin };
  const baseUrls: Record<Exclude<AppName, 'web'>, string> = { auth: auth.url, catalog: started.catalogUrl, purchase: purchase.baseUrl };

  function callService(app: Exclude<AppName, 'web'>, method: string, path: string, token?: string, body?: unknown, headers: Record<string, string> = {}) {
    const init = body instanceof FormData ? { method, body, headers } : jsonInit(method, body, headers);
    if (token) init.headers = { ...init.headers, ...bearer(token) };
    return fetch(`${baseUrls[app]}${path}`, { ...init, redirect: 'manual' });
  }

  async function placeOrder(buyer: User, bookId: number): Promise<OrderJson> {
    const response = await callService('purchase', 'POST', '/api/orders', buyer.token, { items: [{ bookId, quantity: 1 }], providerId: 1 }, { 'idempotency-key': crypto.randomUUID() });
    if (response.status !== 201) throw new Error(`order: ${response.status} ${await response.text()}`);
    return (await response.json()) as OrderJson;
  }

  async function payOrder(buyer: User, order: OrderJson) {
    const response = await callService('purchase', 'POST', `/api/orders/${order.id}/payment`, buyer.token, testCard, { 'idempotency-key': crypto.randomUUID() });
    if (response.status !== 200) throw new Error(`payment: ${response.status} ${await response.text()}`);
  }

  /** A new session of `user`, as the web front logs in for a browser. */
  async function logInAgain(user: User): Promise<User> {
    const headers = { [serviceTokenHeader]: testServiceToken, 'x-client-address': `matrix-${crypto.randomUUID()}` };
    const response = await callService('auth', 'POST', '/api/sessions', undefined, { email: user.email, password: user.password }, headers);
    if (response.status !== 201) throw new Error(`login: ${response.status} ${await response.text()}`);
    return { ...user, token: ((await response.json()) as { token: string }).token };
  }

  const read = async (response: Response) => ({ status: response.status, body: await response.json() });
  const bookState = async (id: number) => read(await callService('catalog', 'GET', `/api/books/${id}`));
  const orderState = async (buyer: User, id: string) => read(await callService('purchase', 'GET', `/api/orders/${id}`, buyer.token));
  /** The account as the admin's list shows it, and whether its session still works. */
  const accountState = async (user: User) => ({
    listed: ((await (await callService('auth', 'GET', `/api/users?q=${encodeURIComponent(user.email)}`, admin.token)).json()) as { items: unknown[] }).items,
    me: (await callService('auth', 'GET', '/api/me', user.token)).status,
  });

  const shopBook = await catalog.addBook(started.seller, { title: 'Anyone May Buy', stock: 100_000 });
  const otherBook = await catalog.addBook(other.token, { title: 'Sold By Other', stock: 100_000 });
  const ownerBook = await catalog.addBook(owner.token, { title: 'Sold By Owner', stock: 100_000 });
  const covered = await callService('catalog', 'PUT', `/api/books/${ownerBook.id}/cover`, owner.token, coverForm(0));
  const cover = ((await covered.json()) as BookJson).coverUrl!.split('/').pop()!;

  async function prepare(fixture: Fixture | undefined, callers: Caller[]): Promise<Prepared> {
    const unique = crypto.randomUUID().replaceAll('-', '');
    const vars: Vars = { unique, password: owner.password, ownerEmail: owner.email, shopBook: shopBook.id, ownerBook: ownerBook.id, cover, book: 0, order: '', user: 0, reservation: '', charge: '' };
    const as: Prepared['as'] = {};
    const signedIn = callers.filter((caller) => userCallers.includes(caller)) as ('other' | 'owner' | 'admin')[];
    switch (fixture) {
      case 'book': {
        vars.book = (await catalog.addBook(owner.token, { title: `Book ${unique}`, priceCents: 1000, stock: 5 })).id;
        return { vars, as, state: () => bookState(vars.book) };
      }
      case 'order': {
        vars.order = (await placeOrder(owner, otherBook.id)).id;
        vars.book = otherBook.id;
        return { vars, as, state: () => orderState(owner, vars.order) };
      }
      case 'sale': {
        const order = await placeOrder(other, ownerBook.id);
        await payOrder(other, order);
        [vars.order, vars.book] = [order.id, ownerBook.id];
        return { vars, as, state: () => orderState(other, vars.order) };
      }
      case 'account': {
        const account = await auth.signUp(`Target ${unique}`);
        [vars.user, as.owner] = [account.userId, account];
        return { vars, as, state: () => accountState(account) };
      }
      case 'reservation': {
        vars.book = (await catalog.addBook(owner.token, { title: `Reserved ${unique}`, stock: 5 })).id;
        vars.reservation = `matrix-${unique}`;
        const reserved = await catalog.asService('/api/reservations', 'POST', { orderId: vars.reservation, items: [{ bookId: vars.book, quantity: 1 }] });
        if (reserved.status !== 201) throw new Error(`reserve: ${reserved.status}`);
        const reservations = () => catalog.db!.query('select state, quantity from reservations where order_id = ?', [vars.reservation]);
        return { vars, as, state: async () => ({ book: await bookState(vars.book), reservations: await reservations() }) };
      }
      case 'charge':
      case 'newCharge': {
        vars.charge = `pay_matrix${unique}`;
        if (fixture === 'charge') {
          const charged = await callService('purchase', 'POST', '/gateway/charges', undefined, { key: vars.charge, amountCents: 100, ...testCard }, { [serviceTokenHeader]: testServiceToken });
          if (charged.status !== 200) throw new Error(`charge: ${charged.status}`);
        }
        return { vars, as, state: () => purchase.db!.query('select outcome, refunded_at from gateway_charges where charge_key = ?', [vars.charge]) };
      }
      case 'cart': {
        for (const caller of signedIn) await callService('purchase', 'PUT', `/api/cart/items/${shopBook.id}`, users[caller].token, { quantity: 1 });
        return { vars, as };
      }
      case 'newSessions': {
        for (const caller of signedIn) as[caller] = await logInAgain(users[caller]);
        return { vars, as };
      }
      case 'ownAccounts': {
        for (const caller of signedIn) as[caller] = await auth.signUp(`Leaving ${caller} ${unique}`, caller === 'admin' ? 'admin' : 'customer');
        return { vars, as };
      }
      case undefined:
        return { vars, as };
    }
  }

  /** Calls as `caller` (their token as Bearer, or the web front's session cookie) and reads what came back. */
  async function send(call: Call, caller: Caller, as: Prepared['as'] = {}): Promise<Outcome> {
    const user = caller === 'other' || caller === 'owner' || caller === 'admin' ? (as[caller] ?? users[caller]) : caller === 'userAsService' ? admin : null;
    const headers: Record<string, string> = { 'idempotency-key': crypto.randomUUID() };
    if (caller === 'service') headers[serviceTokenHeader] = testServiceToken;
    if (caller === 'userAsService') headers[serviceTokenHeader] = admin.token;
    let body: BodyInit | undefined;
    if (call.json !== undefined) [body, headers['content-type']] = [JSON.stringify(call.json), 'application/json'];
    if (call.form) [body, headers['content-type']] = [new URLSearchParams(call.form), 'application/x-www-form-urlencoded'];
    if (call.multipart) body = call.multipart;
    let response: Response;
    if (call.app === 'web') {
      response = await web.browse(call.path, { method: call.method, body, headers, cookie: user ? `bookstore_session=${user.token}` : undefined });
    } else {
      if (user) Object.assign(headers, bearer(user.token));
      response = await fetch(`${baseUrls[call.app]}${call.path}`, { method: call.method, body, headers, redirect: 'manual' });
    }
    await response.arrayBuffer();
    const sentToLogin = call.app === 'web' && response.status === 303 && response.headers.get('location')?.startsWith('/login');
    return sentToLogin ? 'login' : response.status;
  }

  return {
    apps: { auth: auth.app, catalog: catalog.app, purchase: purchase.app, web: web.app },
    prepare,
    send,
    close: whole.close,
  };
}
export type Shop = Awaited<ReturnType<typeof startShop>>;

/** A form with a "cover" file: a plain 80 × 100 PNG whose red is `red` (another red, another file). */
export function coverForm(red: number): FormData {
  const [width, height] = [80, 100];
  const header = new Uint8Array(13);
  const view = new DataView(header.buffer);
  view.setUint32(0, width);
  view.setUint32(4, height);
  header.set([8, 2, 0, 0, 0], 8); // 8 bits, RGB, deflate, no filter method, no interlace
  const line = [0, ...Array.from({ length: width }, () => [red, 90, 160]).flat()]; // filter type 0, then the pixels
  const pixels = deflateSync(Uint8Array.from(Array.from({ length: height }, () => line).flat()));
  const signature = Uint8Array.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
  const png = Buffer.concat([signature, pngChunk('IHDR', header), pngChunk('IDAT', pixels), pngChunk('IEND', new Uint8Array())]);
  const form = new FormData();
  form.set('cover', new File([png], 'cover.png', { type: 'image/png' }));
  return form;
}
