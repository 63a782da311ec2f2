/**
 * The security suite of the web front, over the whole shop (auth, catalog, purchase served, the web
 * front in front): markup typed into any field a page shows comes back as text on every page; every
 * page carries the secure headers; a form posted from anywhere but the shop is refused, whatever the
 * variant of the request; and every form, fuzzed, never gets a server error.
 */
import { afterAll, beforeAll, expect, test } from 'bun:test';
import fc from 'fast-check';
import { startShopWithWeb, webOrigin } from './support.ts';

/** Written into every field a page shows. Each differs, so a leak names its field. */
const payload = (field: string) => `<img src=x onerror=alert('${field}')><script>alert('${field}')</script>"'`;
const fields = ['seller', 'buyer', 'title', 'author', 'description', 'tracking', 'search'] as const;

let whole: Awaited<ReturnType<typeof startShopWithWeb>>;
let shop: typeof whole.shop;
let web: typeof whole.web;
const cookies: Record<'seller' | 'buyer' | 'admin', string> = { seller: '', buyer: '', admin: '' };
let bookId = 0;
let orderId = '';
const logIn: typeof whole.logIn = (...args) => whole.logIn(...args);

beforeAll(async () => {
  whole = await startShopWithWeb();
  ({ shop, web } = whole);
  cookies.seller = await logIn(payload('seller'));
  cookies.buyer = await logIn(payload('buyer'));
  cookies.admin = await logIn('Ada Admin', 'admin');
  const added = await web.submit('/sell/new', { title: payload('title'), author: payload('author'), description: payload('description'), price: '12.00', stock: '5' }, { cookie: cookies.seller });
  expect(added.status).toBe(303);
  const mine = await (await web.browse('/sell', { cookie: cookies.seller })).text();
  bookId = Number(mine.match(/\/sell\/(\d+)\/edit/)![1]);
  orderId = await whole.placePaidOrder(cookies.buyer, bookId, 'B');
  const shipped = await web.submit(`/sales/${orderId}/${bookId}/ship`, { trackingCode: payload('tracking') }, { cookie: cookies.seller });
  expect(shipped.status).toBeLessThan(500);
}, 60_000);

afterAll(() => whole?.close());

/** Every page that shows what was typed above, as whom. */
const pages = (): [path: string, as: keyof typeof cookies | null][] => [
  ['/', null],
  ['/catalog', null],
  [`/catalog?q=${encodeURIComponent(payload('search'))}`, null],
  [`/books/${bookId}`, null],
  [`/books/${bookId}`, 'seller'],
  ['/sell', 'seller'],
  [`/sell/${bookId}/edit`, 'seller'],
  ['/cart', 'buyer'],
  ['/orders', 'buyer'],
  [`/orders/${orderId}`, 'buyer'],
  ['/sales', 'seller'],
  ['/admin/users', 'admin'],
  ['/admin/orders', 'admin'],
];

test('markup typed into any field comes back as text on every page that shows it', async () => {
  for (const [path, as] of pages()) {
    const response = await web.browse(path, as ? { cookie: cookies[as] } : {});
    expect({ path, status: response.status }).toEqual({ path, status: 200 });
    const page = await response.text();
    for (const field of fields) {
      const leaks = page.includes(`<img src=x onerror=alert('${field}')>`) || page.includes(`<script>alert('${field}')</script>`);
      expect({ path, field, leaks }).toEqual({ path, field, leaks: false });
    }
  }
  // And the text does show, escaped, where it belongs.
  expect(await (await web.browse(`/books/${bookId}`)).text()).toContain('&lt;img src=x onerror=alert(');
});

test('every page, error pages and htmx fragments included, carries the secure headers', async () => {
  const requests: [string, Record<string, string>][] = [
    ...pages().map(([path, as]): [string, Record<string, string>] => [path, as ? { cookie: cookies[as] } : {}]),
    ['/no-such-page', {}],
    ['/books/999999999', {}],
    ['/catalog?page=abc', {}],
    ['/catalog?q=x', { 'hx-request': 'true', 'hx-target': 'book-results' }],
  ];
  for (const [path, headers] of requests) {
    const response = await web.browse(path, { headers });
    await response.arrayBuffer();
    const csp = response.headers.get('content-security-policy') ?? '';
    expect({
      path,
      defaultSrcSelf: csp.includes("default-src 'self'"),
      noInlineScripts: !csp.includes('unsafe-inline') && !csp.includes('unsafe-eval'),
      framesRefused: csp.includes("frame-ancestors 'none'"),
      nosniff: response.headers.get('x-content-type-options'),
      referrer: response.headers.get('referrer-policy'),
    }).toEqual({ path, defaultSrcSelf: true, noInlineScripts: true, framesRefused: true, nosniff: 'nosniff', referrer: 'no-referrer' });
  }
});

test('a form posted from anywhere but the shop is refused (403), whatever the variant', async () => {
  const forms: [string, Record<string, string>][] = [
    ['/cart/items', { bookId: String(bookId), quantity: '1' }],
    ['/sell/new', { title: 'Forged', author: 'F', price: '1', stock: '1' }],
    [`/orders/${orderId}/cancel`, {}],
    ['/logout', {}],
  ];
  const variants: [string, Record<string, string>][] = [
    ['another site', { origin: 'https://evil.example' }],
    ['a look-alike host', { origin: `${webOrigin}.evil.example` }],
    ['an opaque origin', { origin: 'null' }],
    ['no Origin at all', {}],
  ];
  const contentTypes = ['application/x-www-form-urlencoded', 'multipart/form-data; boundary=x', 'text/plain'];
  for (const [path, fields] of forms) {
    for (const [variant, headers] of variants) {
      for (const type of contentTypes) {
        const body = type.startsWith('multipart') ? `--x\r\nContent-Disposition: form-data; name="quantity"\r\n\r\n1\r\n--x--\r\n` : new URLSearchParams(fields).toString();
        const response = await web.app.request(`${webOrigin}${path}`, { method: 'POST', headers: { ...headers, cookie: cookies.buyer, 'content-type': type }, body });
        expect({ path, variant, type, status: response.status }).toEqual({ path, variant, type, status: 403 });
      }
    }
  }
  // Nothing of it happened: the buyer is still signed in, the order still there, no forged book.
  expect(await (await web.browse('/orders', { cookie: cookies.buyer })).text()).toContain(orderId);
  expect(await (await web.browse('/sell', { cookie: cookies.seller })).text()).not.toContain('Forged');
});

test('every form, sent with generated and mutated fields (fast-check), never gets a 5xx', async () => {
  const year = String(new Date().getUTCFullYear() + 1);
  const forms: [path: string, as: keyof typeof cookies | null, fields: Record<string, string>][] = [
    ['/login', null, { email: 'someone@example.test', password: 'not the password' }],
    ['/register', null, { name: 'Fuzzy Newcomer', email: 'fuzzy@example.test', password: 'long enough pw' }],
    ['/cart/items', 'buyer', { bookId: '{book}', quantity: '1' }],
    ['/cart/items/{book}', 'buyer', { quantity: '2' }],
    ['/cart/items/{book}/remove', 'buyer', {}],
    ['/checkout', 'buyer', { providerId: '1', key: 'fuzz-checkout-key' }],
    ['/orders/{order}/pay', 'buyer', { cardNumber: '4242 4242 4242 4242', expMonth: '12', expYear: year, cvc: '123', holder: 'B', key: 'fuzz-pay-key' }],
    ['/orders/{order}/delivery', 'buyer', { providerId: '2' }],
    ['/orders/{order}/cancel', 'buyer', {}],
    ['/sales/{order}/{book}/ship', 'seller', { trackingCode: 'SV-9' }],
    ['/sell/new', 'seller', { title: 'Fuzzed', author: 'F', description: '', price: '3.50', stock: '2', key: 'fuzz-sell-key' }],
    ['/sell/{book}/edit', 'seller', { title: 'Fuzzed', author: 'F', description: '', price: '3.50', stock: '2', stockWas: '5' }],
    ['/admin/users/1/role', 'admin', { role: 'customer' }],
  ];
  const odd = fc.oneof(fc.string({ unit: 'binary', maxLength: 200 }), fc.constantFrom('', '0', '-1', '1e400', 'NaN', '\u0000', '\u202e', 'x'.repeat(20_000), '12.345', '９', "' or 1=1 --"));
  let sent = 0;
  for (const [template, as, fields] of forms) {
    const path = template.replace('{book}', String(bookId)).replace('{order}', orderId);
    const names = [...Object.keys(fields), 'bookId', 'quantity', 'key', 'next'];
    const mutated = fc.oneof(
      fc.constant(fields),
      fc.constantFrom(...names).map((drop) => Object.fromEntries(Object.entries(fields).filter(([name]) => name !== drop))),
      fc.tuple(fc.constantFrom(...names), odd).map(([name, value]) => ({ ...fields, [name]: value })),
      fc.dictionary(odd, odd, { maxKeys: 4 }),
    );
    await fc.assert(
      fc.asyncProperty(mutated, fc.boolean(), async (body, htmx) => {
        const response = await web.submit(path, Object.fromEntries(Object.entries(body).map(([name, value]) => [name, String(value).replaceAll('{book}', String(bookId))])), { ...(as ? { cookie: cookies[as] } : {}), htmx });
        await response.arrayBuffer();
        sent++;
        expect({ path, body: JSON.stringify(body).slice(0, 200), status: response.status < 500 ? 'below 500' : response.status }).toMatchObject({ status: 'below 500' });
      }),
      { numRuns: 25, seed: 20261126 },
    );
  }
  expect(sent).toBe(forms.length * 25);
}, 120_000);
