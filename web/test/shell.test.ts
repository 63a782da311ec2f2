/**
 * The shell every page shares, over the whole shop (auth, catalog, purchase on MariaDB, the web front
 * in process): a skip link first, landmarks, titles named after the page, the footer's own pages,
 * the account menu, why the login page is asked for, the welcome after registering, tables that
 * label every cell for phones, fields with labels, and the focus on what to fix after a refusal.
 */
import { afterAll, beforeAll, describe, expect, test } from 'bun:test';
import { formatPrice } from '@bookstore/shared/html';
import { cookiesFrom, startShopWithWeb, startTestWeb } from './support.ts';

let whole: Awaited<ReturnType<typeof startShopWithWeb>>;
let shop: typeof whole.shop;
let purchase: typeof whole.purchase;
let web: typeof whole.web;
const cookies = { buyer: '', seller: '', admin: '' };
let bookId = 0;
let orderId = '';

beforeAll(async () => {
  whole = await startShopWithWeb();
  ({ shop, purchase, web } = whole);
  cookies.buyer = await whole.logIn('Shell Buyer');
  cookies.admin = await whole.logIn('Shell Admin', 'admin');
  // The catalog's seller, whose token the session cookie carries as a login would.
  cookies.seller = `bookstore_session=${shop.seller}`;
  bookId = (await shop.catalog.addBook(shop.seller, { title: 'The Shell Book', author: 'Ann Author', priceCents: 1500, stock: 20 })).id;
  // One paid order (my orders, the order page, all orders) and one copy left in the cart.
  orderId = await whole.placePaidOrder(cookies.buyer, bookId, 'Shell Buyer');
  expect((await web.submit('/cart/items', { bookId: String(bookId), quantity: '1' }, { cookie: cookies.buyer })).status).toBe(303);
}, 60_000);

afterAll(() => whole?.close());

async function pageOf(path: string, as: keyof typeof cookies | null = null) {
  const response = await web.browse(path, as ? { cookie: cookies[as] } : {});
  return { status: response.status, html: await response.text() };
}

/** What a page is made of, read with Bun's HTMLRewriter (a real HTML parser, not patterns). */
async function inspect(html: string) {
  const found = {
    firstInBody: '',
    landmarks: [] as string[],
    cells: [] as { dataLabel: string | null }[],
    fields: [] as { tag: string; id: string | null; name: string | null; inLabel: boolean }[],
    labelFor: new Set<string>(),
    ids: new Set<string>(),
    autofocus: [] as string[],
    invalid: [] as { id: string | null; describedBy: string | null }[],
  };
  let labelDepth = 0;
  let bodyOpen = false;
  const rewriter = new HTMLRewriter()
    .on('body', { element: () => void (bodyOpen = true) })
    .on('*', {
      element(element) {
        if (bodyOpen && !found.firstInBody && element.tagName !== 'body') found.firstInBody = `<${element.tagName} ${[...element.attributes].map(([name, value]) => `${name}="${value}"`).join(' ')}>`;
        const id = element.getAttribute('id');
        if (id) found.ids.add(id);
        if (element.hasAttribute('autofocus')) found.autofocus.push(id ?? element.tagName);
        if (element.getAttribute('aria-invalid') === 'true') found.invalid.push({ id, describedBy: element.getAttribute('aria-describedby') });
      },
    })
    .on('header, nav, main, footer', { element: (element) => void found.landmarks.push(element.tagName) })
    .on('td', { element: (element) => void found.cells.push({ dataLabel: element.getAttribute('data-label') }) })
    .on('label', {
      element(element) {
        const target = element.getAttribute('for');
        if (target) found.labelFor.add(target);
        labelDepth++;
        element.onEndTag(() => void labelDepth--);
      },
    })
    .on('input, select, textarea', {
      element(element) {
        const type = element.getAttribute('type');
        if (type === 'hidden' || type === 'submit') return;
        found.fields.push({ tag: element.tagName, id: element.getAttribute('id'), name: element.getAttribute('name'), inLabel: labelDepth > 0 });
      },
    });
  await rewriter.transform(new Response(html)).text();
  return found;
}

describe('every page', () => {
  const paths = (): [string, keyof typeof cookies | null][] => [
    ['/', null],
    ['/login', null],
    ['/register', null],
    ['/catalog', null],
    ['/about', null],
    ['/cart', 'buyer'],
    ['/checkout', 'buyer'],
    ['/orders', 'buyer'],
    [`/orders/${orderId}`, 'buyer'],
    ['/sales', 'seller'],
    ['/account', 'buyer'],
    ['/admin/users', 'admin'],
    ['/admin/actions', 'admin'],
    ['/admin/orders', 'admin'],
    ['/no-such-page', null],
  ];

  test('opens with a skip link to the main content, and has a header, navigation, main and footer', async () => {
    for (const [path, as] of paths()) {
      const page = await inspect((await pageOf(path, as)).html);
      expect({ path, first: page.firstInBody }).toEqual({ path, first: '<a class="skip-link" href="#main">' });
      expect({ path, main: page.ids.has('main') }).toEqual({ path, main: true });
      for (const landmark of ['header', 'nav', 'main', 'footer']) expect({ path, landmark, present: page.landmarks.includes(landmark) }).toEqual({ path, landmark, present: true });
    }
    expect((await pageOf('/')).html).toContain('<a class="skip-link" href="#main">Skip to content</a>');
  });

  test('labels every field it shows', async () => {
    for (const [path, as] of paths()) {
      const page = await inspect((await pageOf(path, as)).html);
      const unlabelled = page.fields.filter((field) => !field.inLabel && !(field.id && page.labelFor.has(field.id)));
      expect({ path, unlabelled }).toEqual({ path, unlabelled: [] });
    }
  });

  test('is titled after what it shows', async () => {
    const titles: [string, keyof typeof cookies | null, string][] = [
      ['/', null, 'Books from readers, for readers'],
      ['/login', null, 'Log in'],
      ['/register', null, 'Create your account'],
      ['/cart', 'buyer', 'Your cart'],
      ['/checkout', 'buyer', 'Checkout: delivery'],
      ['/orders', 'buyer', 'My orders'],
      [`/orders/${orderId}`, 'buyer', `Order ${orderId}`],
      ['/sales', 'buyer', 'My sales'],
      ['/account', 'buyer', 'Your account'],
      ['/admin/users', 'admin', 'Users'],
      ['/admin/actions', 'admin', 'What admins did'],
      ['/admin/orders', 'admin', 'All orders'],
      ['/shipping', null, 'Shipping and delivery'],
      ['/no-such-page', null, 'Page not found'],
    ];
    for (const [path, as, title] of titles) {
      const { html } = await pageOf(path, as);
      expect({ path, title: html.match(/<title>([^<]*)<\/title>/)?.[1] }).toEqual({ path, title: `${title} · Bookstore` });
    }
  });
});

describe('the footer', () => {
  test('links to About, Shipping and delivery, Returns, Privacy and Contact, each a page of its own', async () => {
    const { html } = await pageOf('/');
    const footer = html.slice(html.indexOf('<footer'), html.indexOf('</footer>'));
    const links = [...footer.matchAll(/<a href="([^"]+)">([^<]+)<\/a>/g)].map((match) => [match[1]!, match[2]!]);
    expect(links).toEqual([
      ['/about', 'About'],
      ['/shipping', 'Shipping and delivery'],
      ['/returns', 'Returns'],
      ['/privacy', 'Privacy'],
      ['/contact', 'Contact'],
    ]);
    for (const [path] of links) {
      const page = await pageOf(path!);
      expect({ path, status: page.status }).toEqual({ path, status: 200 });
      expect(page.html).toStartWith('<!doctype html>');
      expect(page.html.match(/<h1>[^<]+<\/h1>/)).not.toBeNull();
    }
  });

  test('the shipping page lists every carrier at the price checkout charges, as purchase defines them', async () => {
    const items = (await (await fetch(`${purchase.baseUrl}/api/delivery-providers`)).json()) as { name: string; priceCents: number }[];
    expect(items.length).toBe(4);
    const { html } = await pageOf('/shipping');
    for (const provider of items) expect(html).toMatch(new RegExp(`<td data-label="Carrier">${provider.name}</td>.*?<td data-label="Delivery per order">\\${formatPrice(provider.priceCents)}</td>`, 's'));
  });

  test('the privacy page says what is kept and where to delete the account', async () => {
    const { html } = await pageOf('/privacy');
    for (const kept of ['name', 'email', 'argon2 hash', 'orders', 'last four digits']) expect(html.toLowerCase()).toContain(kept);
    expect(html).toContain('href="/account"');
  });

  test('with purchase down, the shipping page still answers, with a retry box instead of the prices', async () => {
    const orphan = startTestWeb({ auth: shop.auth.url, catalog: shop.catalogUrl });
    try {
      const response = await orphan.browse('/shipping');
      expect(response.status).toBe(200);
      expect(await response.text()).toContain('The list of carriers is unavailable right now');
    } finally {
      orphan.close();
    }
  });
});

describe('the header', () => {
  test('a visitor gets "Log in" and "Register"; a signed-in user a menu (<details>, no JavaScript needed) with their pages and "Log out"', async () => {
    const visitor = (await pageOf('/')).html;
    expect(visitor).toContain('<a href="/login">Log in</a>');
    expect(visitor).toContain('href="/register"');
    expect(visitor).not.toContain('<details');

    const signedIn = (await pageOf('/', 'buyer')).html;
    const menu = signedIn.slice(signedIn.indexOf('<details class="account-menu menu" id="account-menu">'), signedIn.indexOf('</details>'));
    expect(menu).toContain('<summary>');
    expect(menu).toContain('Signed in as <strong>Shell Buyer</strong>');
    for (const path of ['/account', '/orders', '/sell', '/sales']) expect(menu).toContain(`href="${path}"`);
    expect(menu).toContain('action="/logout"');
    expect(menu).not.toContain('/admin/');
  });

  test("every admin page is in the admin's menu, and each admin page links to the others", async () => {
    const adminPages = ['/admin/users', '/admin/actions', '/admin/orders'];
    const home = (await pageOf('/', 'admin')).html;
    const menu = home.slice(home.indexOf('id="account-menu"'), home.indexOf('</details>'));
    for (const path of adminPages) expect(menu).toContain(`href="${path}"`);
    for (const current of adminPages) {
      const { html } = await pageOf(current, 'admin');
      const nav = html.slice(html.indexOf('<nav class="sub-nav" aria-label="Administration">'), html.indexOf('</nav>', html.indexOf('class="sub-nav"')));
      for (const path of adminPages) expect(nav).toContain(`href="${path}"${path === current ? ' aria-current="page"' : ''}>`);
    }
    expect((await pageOf('/orders', 'buyer')).html).not.toContain('class="sub-nav"');
  });
});

describe('logging in and registering', () => {
  test('the login page says why when a page sent the visitor there: selling, adding to the cart', async () => {
    const sell = await web.browse('/sell');
    expect(sell.headers.get('location')).toBe('/login?next=%2Fsell');
    expect((await pageOf('/login?next=%2Fsell')).html).toContain('Log in to sell books.');

    const add = await web.submit('/cart/items', { bookId: String(bookId), quantity: '1' });
    expect(add.headers.get('location')).toBe('/login?next=%2Fcart');
    const login = await web.browse(add.headers.get('location')!, { cookie: cookiesFrom(add) });
    expect(await login.text()).toContain('Log in to add this book to your cart — it will be added right after.');
  });

  test('the reason is one of the shop\'s own sentences, never text from the address', async () => {
    expect((await pageOf('/login?next=%2Forders')).html).toContain('Log in to see your orders.');
    for (const next of ['/constructor', '/__proto__', '/<b>hi</b>', 'https://evil.example/sell', '/nothing-here']) {
      const { html } = await pageOf(`/login?next=${encodeURIComponent(next)}`);
      expect({ next, notice: html.includes('class="notice"') }).toEqual({ next, notice: false });
    }
    expect((await pageOf('/login')).html).not.toContain('class="notice"');
  });

  test('a new user is welcomed by name on the page they land on, once', async () => {
    const email = `ada.${crypto.randomUUID().slice(0, 8)}@example.test`;
    const created = await web.submit('/register', { name: 'Ada Lovelace', email, password: 'analytical-engine' });
    expect(created.status).toBe(303);
    expect(created.headers.get('location')).toBe('/');
    let cookie = cookiesFrom(created);
    const first = await web.browse('/', { cookie });
    expect(await first.text()).toContain('Welcome, Ada Lovelace — your account is ready.');
    cookie = cookiesFrom(first, cookie);
    expect(await (await web.browse('/', { cookie })).text()).not.toContain('Welcome, Ada Lovelace');
    // A plain visitor with the cookie set by hand gets nothing: the name comes from the session alone.
    expect(await (await web.browse('/', { cookie: 'bookstore_notice=welcome' })).text()).not.toContain('Welcome,');
  });

  test('registering from a page that asked for a login goes back to it', async () => {
    const login = (await pageOf('/login?next=%2Fsell')).html;
    expect(login).toContain('href="/register?next=%2Fsell"');
    const form = (await pageOf('/register?next=%2Fsell')).html;
    expect(form).toContain('<input type="hidden" name="next" value="/sell">');
    const email = `grace.${crypto.randomUUID().slice(0, 8)}@example.test`;
    const created = await web.submit('/register', { name: 'Grace Hopper', email, password: 'compiler-1952', next: '/sell' });
    expect(created.headers.get('location')).toBe('/sell');
    const elsewhere = await web.submit('/register', { name: 'Mallory Other', email: `m.${email}`, password: 'compiler-1952', next: '//evil.example' });
    expect(elsewhere.headers.get('location')).toBe('/');
  });

  test('a refused form puts the focus on what to fix: the first field in error, tied to its sentence', async () => {
    for (const htmx of [false, true]) {
      const refused = await web.submit('/register', { name: '', email: 'not-an-email', password: 'short' }, { htmx });
      const form = await inspect(await refused.clone().text());
      expect(form.autofocus).toEqual(['field-name']);
      expect(form.invalid.map((field) => field.id)).toEqual(['field-name', 'field-email', 'field-password']);
      for (const field of form.invalid) expect(form.ids.has(field.describedBy!)).toBe(true);
      const text = await refused.text();
      expect(text).toContain('Enter your name, as buyers and sellers will see it.');
      expect(text).toContain('Email must be a valid email address, like ada@example.com.');
      expect(text).toContain('Password must be at least 8 characters.');
    }
    const wrong = await web.submit('/login', { email: 'nobody@example.test', password: 'not the password' }, { htmx: true });
    const alert = (await wrong.text()).match(/<p class="alert"[^>]*>[^<]*<\/p>/)?.[0];
    expect(alert).toBe('<p class="alert" role="alert" tabindex="-1" autofocus>Email or password is incorrect.</p>');
  });
});

describe('tables on a phone', () => {
  test('every cell of every table says which column it is in (data-label), so rows can stack as cards', async () => {
    const tables: [string, keyof typeof cookies | null][] = [
      ['/cart', 'buyer'],
      ['/orders', 'buyer'],
      [`/orders/${orderId}`, 'buyer'],
      ['/sales', 'seller'],
      ['/admin/users', 'admin'],
      ['/admin/actions', 'admin'],
      ['/admin/orders', 'admin'],
      ['/shipping', null],
    ];
    // An admin has done something, so the record has a row.
    const target = await shop.auth.signUp('Shell Target');
    expect((await web.submit(`/admin/users/${target.userId}/disable`, {}, { cookie: cookies.admin })).status).toBe(303);
    for (const [path, as] of tables) {
      const page = await inspect((await pageOf(path, as)).html);
      const unlabelled = page.cells.filter((cell) => cell.dataLabel === null).length;
      expect({ path, cells: page.cells.length > 0, unlabelled }).toEqual({ path, cells: true, unlabelled: 0 });
    }
  });
});
