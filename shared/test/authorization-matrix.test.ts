/**
 * The authorization matrix of the whole shop: every route that auth, catalog, purchase and the web
 * front serve, asked by each kind of caller (nobody, another user, the owner, an admin, a service
 * token, and a user's token posing as the service token), over real HTTP with real tokens signed by
 * auth and real MariaDB databases. It proves that:
 * - every served route has a rule in the table below, and every rule a served route, so a route
 *   cannot be added without saying who may call it;
 * - each caller gets what the rule says: an allowed caller the route's success; nobody 401 (the web
 *   front: off to the login page); a user the rule does not serve 403, or 404 where the resource is
 *   hidden from them (orders, sold items); everyone but a service 403 on a service-only route;
 * - a refused write changes nothing: the book, order, account, reservation or charge it aimed at
 *   reads exactly as before.
 */
import { afterAll, beforeAll, expect, test } from 'bun:test';
import { htmxPath } from '../../web/src/layout.ts';
import { coverForm, startShop, testCard, type AppName, type Call, type Caller, type Fixture, type Outcome, type Shop, type Vars } from './authorization-shop.ts';

// --- rules -------------------------------------------------------------------------------------

/** Who a route serves; what a signed-in user it does not serve gets (and the admin, if different). */
interface Rule {
  allows: Caller[];
  others: 403 | 404;
  admin?: 403 | 404;
  /** What a caller without a user token gets; by default 401 (the web front: the login page). */
  anonymous?: 403;
}
const everyone: Rule = { allows: ['anonymous', 'other', 'owner', 'admin', 'service'], others: 403 };
const signedIn: Rule = { allows: ['other', 'owner', 'admin'], others: 403 };
const sellerOrAdmin: Rule = { allows: ['owner', 'admin'], others: 403 };
/** Orders are hidden from everyone but their buyer: 404, as for an order that does not exist. */
const buyerOrAdmin: Rule = { allows: ['owner', 'admin'], others: 404 };
/** The admin may read an order, never pay, cancel or change it. */
const buyerOnly: Rule = { allows: ['owner'], others: 404, admin: 403 };
const itemSellerOnly: Rule = { allows: ['owner'], others: 404 };
const admins: Rule = { allows: ['admin'], others: 403 };
const services: Rule = { allows: ['service'], others: 403, anonymous: 403 };

// --- the table ---------------------------------------------------------------------------------

interface Row {
  app: AppName;
  /** The route as the app serves it (web paths without their {regex}). */
  route: string;
  rule: Rule;
  /** The status of an allowed call. */
  ok: number;
  /** Where a caller's success differs (a signed-in visitor is sent on from the login page). */
  okFor?: Partial<Record<Caller, number>>;
  needs?: Fixture;
  /** The path called, filled from Vars ({book}, {order}...); by default the route's own. */
  at?: string;
  json?: unknown | ((vars: Vars) => unknown);
  form?: Record<string, string> | ((vars: Vars) => Record<string, string>);
  multipart?: () => FormData;
}
type Options = Omit<Row, 'app' | 'route' | 'rule' | 'ok'>;
const row = (app: AppName, route: string, rule: Rule, ok: number, options: Options = {}): Row => ({ app, route, rule, ok, ...options });
const health = (app: AppName): Row[] => ['live', 'task', 'ready'].map((check) => row(app, `GET /health/${check}`, everyone, 200));

const signedInGoesHome = { okFor: { other: 303, owner: 303, admin: 303 } };
const newBook = { title: 'A New Book', author: 'An Author', description: '', priceCents: 1200, stock: 3 };
const bookFields = (vars: Vars) => ({ title: `Edited ${vars.unique}`, author: 'An Author', description: '', price: '12.50', stock: '4', stockWas: '5', key: vars.unique });
const cardFields = (vars: Vars) => ({ cardNumber: testCard.cardNumber, expMonth: '12', expYear: String(testCard.expYear), cvc: '123', holder: 'Card Holder', key: vars.unique });
const newCover = () => coverForm(200);

const rows: Row[] = [
  // auth
  ...health('auth'),
  row('auth', 'GET /openapi.json', everyone, 200),
  row('auth', 'POST /api/users', everyone, 201, { json: (v: Vars) => ({ name: `Reader ${v.unique}`, email: `new.${v.unique}@example.test`, password: 'a long enough password' }) }),
  row('auth', 'POST /api/sessions', everyone, 201, { json: (v: Vars) => ({ email: v.ownerEmail, password: v.password }) }),
  row('auth', 'DELETE /api/sessions/current', signedIn, 204, { needs: 'newSessions' }),
  row('auth', 'GET /api/me', signedIn, 200),
  row('auth', 'DELETE /api/me', signedIn, 204, { needs: 'ownAccounts', json: (v: Vars) => ({ password: v.password }) }),
  row('auth', 'GET /api/revocations', services, 200, { at: '/api/revocations?since=0' }),
  row('auth', 'GET /api/deleted-users', services, 200, { at: '/api/deleted-users?since=0' }),
  row('auth', 'GET /.well-known/jwks.json', everyone, 200),
  row('auth', 'POST /fragments/login-form', everyone, 200, { json: { email: 'someone@example.test' } }),
  row('auth', 'POST /fragments/register-form', everyone, 200, { json: { name: 'Someone' } }),
  row('auth', 'GET /api/users', admins, 200),
  row('auth', 'POST /api/users/:id/disable', admins, 200, { needs: 'account', at: '/api/users/{user}/disable' }),
  row('auth', 'POST /api/users/:id/enable', admins, 200, { needs: 'account', at: '/api/users/{user}/enable' }),
  row('auth', 'PUT /api/users/:id/role', admins, 200, { needs: 'account', at: '/api/users/{user}/role', json: { role: 'admin' } }),
  row('auth', 'DELETE /api/users/:id/sessions', admins, 200, { needs: 'account', at: '/api/users/{user}/sessions' }),
  row('auth', 'DELETE /api/users/:id', admins, 204, { needs: 'account', at: '/api/users/{user}' }),
  row('auth', 'GET /api/admin-actions', admins, 200),
  row('auth', 'GET /fragments/users', admins, 200),
  row('auth', 'POST /fragments/users/:id/disable', admins, 303, { needs: 'account', at: '/fragments/users/{user}/disable', form: {} }),
  row('auth', 'POST /fragments/users/:id/enable', admins, 303, { needs: 'account', at: '/fragments/users/{user}/enable', form: {} }),
  row('auth', 'POST /fragments/users/:id/role', admins, 303, { needs: 'account', at: '/fragments/users/{user}/role', form: { role: 'admin' } }),
  row('auth', 'POST /fragments/users/:id/sessions/revoke', admins, 303, { needs: 'account', at: '/fragments/users/{user}/sessions/revoke', form: {} }),
  row('auth', 'POST /fragments/users/:id/delete', admins, 303, { needs: 'account', at: '/fragments/users/{user}/delete', form: { confirm: 'yes' } }),
  row('auth', 'GET /fragments/admin-actions', admins, 200),

  // catalog
  ...health('catalog'),
  row('catalog', 'GET /openapi.json', everyone, 200),
  row('catalog', 'GET /api/books', everyone, 200),
  row('catalog', 'GET /api/books/:id', everyone, 200, { at: '/api/books/{ownerBook}' }),
  row('catalog', 'POST /api/books', signedIn, 201, { json: newBook }),
  row('catalog', 'PATCH /api/books/:id', sellerOrAdmin, 200, { needs: 'book', at: '/api/books/{book}', json: { title: 'Taken Over', priceCents: 1, stock: 0 } }),
  row('catalog', 'DELETE /api/books/:id', sellerOrAdmin, 204, { needs: 'book', at: '/api/books/{book}' }),
  row('catalog', 'PUT /api/books/:id/cover', sellerOrAdmin, 200, { needs: 'book', at: '/api/books/{book}/cover', multipart: newCover }),
  row('catalog', 'GET /api/sellers/me/books', signedIn, 200),
  row('catalog', 'POST /api/reservations', services, 201, { needs: 'book', json: (v: Vars) => ({ orderId: `matrix-${v.unique}`, items: [{ bookId: v.book, quantity: 2 }] }) }),
  row('catalog', 'POST /api/reservations/:orderId/commit', services, 200, { needs: 'reservation', at: '/api/reservations/{reservation}/commit' }),
  row('catalog', 'DELETE /api/reservations/:orderId', services, 204, { needs: 'reservation', at: '/api/reservations/{reservation}' }),
  row('catalog', 'GET /covers/:file', everyone, 200, { at: '/covers/{cover}' }),
  row('catalog', 'GET /fragments/catalog', everyone, 200),
  row('catalog', 'GET /fragments/book-results', everyone, 200),
  row('catalog', 'GET /fragments/new-books', everyone, 200),
  row('catalog', 'GET /fragments/books/:id', everyone, 200, { at: '/fragments/books/{ownerBook}' }),
  row('catalog', 'GET /fragments/sell', signedIn, 200),
  row('catalog', 'GET /fragments/sell/new', signedIn, 200),
  row('catalog', 'POST /fragments/sell/new', signedIn, 303, { form: bookFields }),
  row('catalog', 'GET /fragments/sell/:id/edit', sellerOrAdmin, 200, { needs: 'book', at: '/fragments/sell/{book}/edit' }),
  row('catalog', 'POST /fragments/sell/:id/edit', sellerOrAdmin, 303, { needs: 'book', at: '/fragments/sell/{book}/edit', form: bookFields }),
  row('catalog', 'POST /fragments/sell/:id/delete', sellerOrAdmin, 303, { needs: 'book', at: '/fragments/sell/{book}/delete', form: {} }),
  row('catalog', 'POST /fragments/sell/:id/cover', sellerOrAdmin, 303, { needs: 'book', at: '/fragments/sell/{book}/cover', multipart: newCover }),
  row('catalog', 'GET /fragments/sell/:id/delete', sellerOrAdmin, 200, { needs: 'book', at: '/fragments/sell/{book}/delete' }),

  // purchase
  ...health('purchase'),
  row('purchase', 'GET /openapi.json', everyone, 200),
  row('purchase', 'GET /api/delivery-providers', everyone, 200),
  row('purchase', 'GET /api/principal', signedIn, 200),
  row('purchase', 'GET /api/cart', signedIn, 200),
  row('purchase', 'PUT /api/cart/items/:bookId', signedIn, 200, { at: '/api/cart/items/{shopBook}', json: { quantity: 1 } }),
  row('purchase', 'DELETE /api/cart/items/:bookId', signedIn, 200, { at: '/api/cart/items/{shopBook}' }),
  row('purchase', 'POST /api/orders', signedIn, 201, { json: (v: Vars) => ({ items: [{ bookId: v.shopBook, quantity: 1 }], providerId: 1 }) }),
  row('purchase', 'GET /api/orders', signedIn, 200),
  row('purchase', 'GET /api/orders', admins, 200, { at: '/api/orders?all=true' }),
  row('purchase', 'GET /api/orders/:id', buyerOrAdmin, 200, { needs: 'order', at: '/api/orders/{order}' }),
  row('purchase', 'PUT /api/orders/:id/delivery', buyerOnly, 200, { needs: 'order', at: '/api/orders/{order}/delivery', json: { providerId: 4 } }),
  row('purchase', 'POST /api/orders/:id/payment', buyerOnly, 200, { needs: 'order', at: '/api/orders/{order}/payment', json: testCard }),
  row('purchase', 'POST /api/orders/:id/cancel', buyerOnly, 200, { needs: 'order', at: '/api/orders/{order}/cancel' }),
  row('purchase', 'GET /api/sales', signedIn, 200),
  row('purchase', 'GET /api/sellers/:sellerId/open-items', services, 200, { needs: 'account', at: '/api/sellers/{user}/open-items' }),
  row('purchase', 'POST /api/orders/:id/items/:bookId/shipment', itemSellerOnly, 200, { needs: 'sale', at: '/api/orders/{order}/items/{book}/shipment', json: { trackingCode: 'TRACK-1' } }),
  row('purchase', 'POST /gateway/charges', services, 200, { needs: 'newCharge', json: (v: Vars) => ({ key: v.charge, amountCents: 100, ...testCard }) }),
  row('purchase', 'POST /gateway/charges/:key/resolve', services, 200, { needs: 'newCharge', at: '/gateway/charges/{charge}/resolve' }),
  row('purchase', 'POST /gateway/charges/:key/refund', services, 200, { needs: 'charge', at: '/gateway/charges/{charge}/refund' }),
  row('purchase', 'GET /fragments/cart-badge', everyone, 200),
  row('purchase', 'GET /fragments/buy-box/:bookId', everyone, 200, { at: '/fragments/buy-box/{shopBook}' }),
  row('purchase', 'POST /fragments/cart/items', signedIn, 303, { form: (v: Vars) => ({ bookId: String(v.shopBook), quantity: '1' }) }),
  row('purchase', 'GET /fragments/cart', signedIn, 200),
  row('purchase', 'POST /fragments/cart/items/:bookId', signedIn, 303, { at: '/fragments/cart/items/{shopBook}', form: { quantity: '2' } }),
  row('purchase', 'POST /fragments/cart/items/:bookId/remove', signedIn, 303, { at: '/fragments/cart/items/{shopBook}/remove', form: {} }),
  row('purchase', 'GET /fragments/checkout', signedIn, 200),
  row('purchase', 'GET /fragments/checkout/total', signedIn, 200, { at: '/fragments/checkout/total?providerId=1' }),
  row('purchase', 'POST /fragments/checkout', signedIn, 303, { needs: 'cart', form: (v: Vars) => ({ providerId: '1', key: v.unique }) }),
  row('purchase', 'GET /fragments/orders', signedIn, 200),
  row('purchase', 'GET /fragments/admin/orders', admins, 200),
  row('purchase', 'GET /fragments/orders/:id', buyerOrAdmin, 200, { needs: 'order', at: '/fragments/orders/{order}' }),
  row('purchase', 'GET /fragments/orders/:id/pay', buyerOrAdmin, 200, { needs: 'order', at: '/fragments/orders/{order}/pay' }),
  row('purchase', 'POST /fragments/orders/:id/pay', buyerOnly, 303, { needs: 'order', at: '/fragments/orders/{order}/pay', form: cardFields }),
  row('purchase', 'POST /fragments/orders/:id/delivery', buyerOnly, 303, { needs: 'order', at: '/fragments/orders/{order}/delivery', form: { providerId: '4' } }),
  row('purchase', 'POST /fragments/orders/:id/cancel', buyerOnly, 303, { needs: 'order', at: '/fragments/orders/{order}/cancel', form: {} }),
  row('purchase', 'GET /fragments/sales', signedIn, 200),
  row('purchase', 'POST /fragments/sales/:id/:bookId/ship', itemSellerOnly, 303, { needs: 'sale', at: '/fragments/sales/{order}/{book}/ship', form: { trackingCode: 'TRACK-2' } }),
  row('purchase', 'GET /fragments/delivery', everyone, 200),

  // the web front (its service caller is a stranger to it: the web front takes no service token)
  ...health('web'),
  row('web', `GET ${htmxPath}`, everyone, 200),
  row('web', 'ALL /static/*', everyone, 200, { at: '/static/style.css' }),
  row('web', 'GET /favicon.ico', everyone, 200),
  row('web', 'GET /', everyone, 200),
  row('web', 'GET /login', everyone, 200, signedInGoesHome),
  row('web', 'POST /login', everyone, 303, { form: (v: Vars) => ({ email: v.ownerEmail, password: v.password }) }),
  row('web', 'GET /register', everyone, 200, signedInGoesHome),
  row('web', 'POST /register', everyone, 303, { form: (v: Vars) => ({ name: `Reader ${v.unique}`, email: `web.${v.unique}@example.test`, password: 'a long enough password' }) }),
  row('web', 'POST /logout', everyone, 303, { needs: 'newSessions', form: {} }),
  row('web', 'GET /account', signedIn, 200),
  row('web', 'POST /account/delete', signedIn, 200, { needs: 'ownAccounts', form: (v: Vars) => ({ password: v.password, confirm: 'yes' }) }),
  row('web', 'GET /admin/users', admins, 200),
  row('web', 'GET /admin/actions', admins, 200),
  row('web', 'POST /admin/users/:id/disable', admins, 303, { needs: 'account', at: '/admin/users/{user}/disable', form: {} }),
  row('web', 'POST /admin/users/:id/enable', admins, 303, { needs: 'account', at: '/admin/users/{user}/enable', form: {} }),
  row('web', 'POST /admin/users/:id/role', admins, 303, { needs: 'account', at: '/admin/users/{user}/role', form: { role: 'admin' } }),
  row('web', 'POST /admin/users/:id/sessions/revoke', admins, 303, { needs: 'account', at: '/admin/users/{user}/sessions/revoke', form: {} }),
  row('web', 'POST /admin/users/:id/delete', admins, 303, { needs: 'account', at: '/admin/users/{user}/delete', form: { confirm: 'yes' } }),
  row('web', 'GET /catalog', everyone, 200),
  row('web', 'GET /books/:id', everyone, 200, { at: '/books/{ownerBook}' }),
  row('web', 'GET /covers/:file', everyone, 200, { at: '/covers/{cover}' }),
  row('web', 'GET /sell', signedIn, 200),
  row('web', 'GET /sell/new', signedIn, 200),
  row('web', 'GET /sell/:id/edit', sellerOrAdmin, 200, { needs: 'book', at: '/sell/{book}/edit' }),
  row('web', 'POST /sell/new', signedIn, 303, { form: bookFields }),
  row('web', 'POST /sell/:id/edit', sellerOrAdmin, 303, { needs: 'book', at: '/sell/{book}/edit', form: bookFields }),
  row('web', 'POST /sell/:id/delete', sellerOrAdmin, 303, { needs: 'book', at: '/sell/{book}/delete', form: {} }),
  row('web', 'POST /sell/:id/cover', sellerOrAdmin, 303, { needs: 'book', at: '/sell/{book}/cover', multipart: newCover }),
  row('web', 'GET /sell/:id/delete', sellerOrAdmin, 200, { needs: 'book', at: '/sell/{book}/delete' }),
  row('web', 'GET /cart', signedIn, 200),
  row('web', 'POST /cart/items', signedIn, 303, { form: (v: Vars) => ({ bookId: String(v.shopBook), quantity: '1' }) }),
  row('web', 'POST /cart/items/:bookId', signedIn, 303, { at: '/cart/items/{shopBook}', form: { quantity: '2' } }),
  row('web', 'POST /cart/items/:bookId/remove', signedIn, 303, { at: '/cart/items/{shopBook}/remove', form: {} }),
  row('web', 'GET /checkout', signedIn, 200),
  row('web', 'GET /checkout/total', signedIn, 200, { at: '/checkout/total?providerId=1' }),
  row('web', 'POST /checkout', signedIn, 303, { needs: 'cart', form: (v: Vars) => ({ providerId: '1', key: v.unique }) }),
  row('web', 'GET /orders', signedIn, 200),
  row('web', 'GET /orders/:id', buyerOrAdmin, 200, { needs: 'order', at: '/orders/{order}' }),
  row('web', 'GET /orders/:id/pay', buyerOrAdmin, 200, { needs: 'order', at: '/orders/{order}/pay' }),
  row('web', 'POST /orders/:id/pay', buyerOnly, 303, { needs: 'order', at: '/orders/{order}/pay', form: cardFields }),
  row('web', 'POST /orders/:id/delivery', buyerOnly, 303, { needs: 'order', at: '/orders/{order}/delivery', form: { providerId: '4' } }),
  row('web', 'POST /orders/:id/cancel', buyerOnly, 303, { needs: 'order', at: '/orders/{order}/cancel', form: {} }),
  row('web', 'GET /sales', signedIn, 200),
  row('web', 'POST /sales/:id/:bookId/ship', itemSellerOnly, 303, { needs: 'sale', at: '/sales/{order}/{book}/ship', form: { trackingCode: 'TRACK-3' } }),
  row('web', 'GET /admin/orders', admins, 200),
  ...['/about', '/shipping', '/returns', '/privacy', '/contact'].map((path) => row('web', `GET ${path}`, everyone, 200)),
];

/** `ALL` entries that only wrap the routes (request ids, logs, headers, token checks), serving nothing of their own. */
const middleware: Record<AppName, string[]> = {
  auth: ['ALL /*', 'ALL /api/*'],
  catalog: ['ALL /*', 'ALL /api/*', 'ALL /fragments/*'],
  purchase: ['ALL /*', 'ALL /api/*', 'ALL /fragments/*', 'ALL /gateway/*'],
  web: ['ALL /*', 'ALL /api/*'],
};

// --- the checks --------------------------------------------------------------------------------

let shop: Shop;
beforeAll(async () => {
  shop = await startShop();
}, 60_000);
afterAll(() => shop?.close());

/** "GET /books/:id" for the route Hono lists as "GET /books/:id{[0-9]{1,10}}". */
const withoutPatterns = (path: string) => path.replace(/\{(?:[^{}]|\{[^{}]*\})*\}/g, '');
const routeKey = (app: AppName, method: string, path: string) => `${app} ${method} ${withoutPatterns(path)}`;
const methodAndPath = (row: Row) => row.route.split(' ') as [method: string, path: string];
const rowKey = (row: Row) => routeKey(row.app, ...methodAndPath(row));

/** What each app serves, as "app METHOD /path": its routes, and the middleware declared above. */
function served(): { routes: Set<string>; middleware: Set<string> } {
  const found = { routes: new Set<string>(), middleware: new Set<string>() };
  for (const [app, hono] of Object.entries(shop.apps) as [AppName, { routes: { method: string; path: string }[] }][]) {
    for (const { method, path } of hono.routes) {
      const key = routeKey(app, method, path);
      found[middleware[app].includes(`${method} ${path}`) ? 'middleware' : 'routes'].add(key);
    }
  }
  return found;
}

const callersOf = (row: Row): Caller[] => ['anonymous', 'other', 'owner', 'admin', 'service', ...(row.rule === services ? ['userAsService' as const] : [])];

function expectedOutcome(row: Row, caller: Caller): Outcome {
  const { rule } = row;
  if (rule.allows.includes(caller)) return row.okFor?.[caller] ?? row.ok;
  if (caller === 'anonymous' || caller === 'service') return rule.anonymous ?? (row.app === 'web' ? 'login' : 401);
  if (caller === 'admin') return rule.admin ?? rule.others;
  return rule.others;
}

function callFor(row: Row, vars: Vars): Call {
  const [routeMethod, routePath] = methodAndPath(row);
  const template = row.at ?? routePath;
  const path = template.replace(/\{(\w+)\}/g, (_, name: keyof Vars) => {
    if (!vars[name]) throw new Error(`${row.route}: no value for {${name}}: does the row need a fixture?`);
    return encodeURIComponent(vars[name]);
  });
  const value = <T>(given: T | ((vars: Vars) => T)) => (typeof given === 'function' ? (given as (vars: Vars) => T)(vars) : given);
  return {
    app: row.app,
    method: routeMethod === 'ALL' ? 'GET' : routeMethod,
    path,
    json: row.json === undefined ? undefined : value(row.json),
    form: row.form === undefined ? undefined : value(row.form),
    multipart: row.multipart?.(),
  };
}

test('every route the four apps serve has a rule in the table, and every rule in the table a served route', () => {
  const { routes, middleware: wrappers } = served();
  const inTable = new Set(rows.map(rowKey));
  const declaredMiddleware = Object.entries(middleware).flatMap(([app, entries]) => entries.map((entry) => `${app} ${entry}`));
  expect({
    servedWithoutRule: [...routes].filter((key) => !inTable.has(key)),
    ruleWithoutRoute: [...inTable].filter((key) => !routes.has(key)),
    middlewareNotThere: declaredMiddleware.filter((key) => !wrappers.has(key)),
  }).toEqual({ servedWithoutRule: [], ruleWithoutRoute: [], middlewareNotThere: [] });
});

test('the table is sound: an allowed caller never expects a refusal, and paths with parameters say what fills them', () => {
  const unsound = rows.filter((row) => {
    const allowed = row.rule.allows.map((caller) => expectedOutcome(row, caller));
    const refusal = allowed.some((outcome) => outcome === 'login' || outcome === 401 || outcome === 403 || outcome === 404);
    return refusal || (!row.at && /[:*]/.test(methodAndPath(row)[1]));
  });
  expect(unsound.map((row) => `${row.app} ${row.route}`)).toEqual([]);
});

for (const row of rows) {
  test(`${row.app} ${row.route}${row.at?.includes('?') ? ` (${row.at})` : ''}`, async () => {
    if (!served().routes.has(rowKey(row))) return; // not served yet: the completeness test says so
    const callers = callersOf(row);
    const refused = callers.filter((caller) => !row.rule.allows.includes(caller));
    const answers: Partial<Record<Caller, Outcome>> = {};
    const changed: Partial<Record<Caller, { before: unknown; after: unknown }>> = {};

    // The refused callers share one target, which must read the same after each of them.
    const target = await shop.prepare(row.needs, refused);
    const watch = row.route.startsWith('GET ') ? undefined : target.state;
    let before = await watch?.();
    for (const caller of refused) {
      answers[caller] = await shop.send(callFor(row, target.vars), caller, target.as);
      const after = await watch?.();
      if (watch && !Bun.deepEquals(after, before)) changed[caller] = { before, after };
      before = after;
    }
    // Each allowed caller acts on a target of their own (a second delete would find nothing).
    for (const caller of callers.filter((caller) => row.rule.allows.includes(caller))) {
      const own = await shop.prepare(row.needs, [caller]);
      answers[caller] = await shop.send(callFor(row, own.vars), caller, own.as);
    }

    expect(answers).toEqual(Object.fromEntries(callers.map((caller) => [caller, expectedOutcome(row, caller)])));
    expect(changed).toEqual({});
  });
}
