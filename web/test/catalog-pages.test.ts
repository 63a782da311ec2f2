/** Catalog pages through the web front: search in the URL, htmx results, book pages, escaping, outages. */
import { afterAll, beforeAll, describe, expect, test } from 'bun:test';
import { serveTestAuth, type ServedTestAuth } from '../../services/auth/test/support.ts';
import { startTestCatalog, type TestCatalog } from '../../services/catalog/test/support.ts';
import { downUrl, sessionCookieFrom, startTestWeb } from './support.ts';

let auth: ServedTestAuth;
let catalog: TestCatalog;
let server: ReturnType<typeof Bun.serve>;
let web: ReturnType<typeof startTestWeb>;
let seller: Awaited<ReturnType<ServedTestAuth['signUp']>>;
const xss = '<script>alert(1)</script>';

beforeAll(async () => {
  auth = await serveTestAuth();
  catalog = await startTestCatalog(auth.url);
  server = Bun.serve({ port: 0, hostname: '127.0.0.1', fetch: catalog.app.fetch });
  web = startTestWeb({ auth: auth.url, catalog: `http://127.0.0.1:${server.port}` });
  seller = await auth.signUp('Page Seller');
  for (let i = 1; i <= 30; i++) await catalog.addBook(seller.token, { title: `Volume ${String(i).padStart(2, '0')}`, author: 'Serial Writer', priceCents: 100 * i, stock: i % 5 });
  await catalog.addBook(seller.token, { title: 'Middlemarch', author: 'George Eliot', priceCents: 1500, stock: 2 });
});
afterAll(async () => {
  web.close();
  await server.stop(true);
  await catalog.close();
  await auth.close();
});

describe('catalog page', () => {
  test('search, filters and page live in the URL and come back filled in', async () => {
    const page = await (await web.browse('/catalog?q=Volume&minPrice=5&maxPrice=20&inStock=true&sort=price_desc')).text();
    expect(page).toContain('value="Volume"');
    expect(page).toContain('name="minPrice" value="5"');
    expect(page).toContain('<option value="price_desc" selected>');
    expect(page).toContain('name="inStock" value="true" hx-get="/catalog" checked');
    // Volumes 05..20 cost $5..$20; stock is i % 5, so multiples of 5 are out of stock: 16 - 4 = 12.
    expect(page).toContain('12 books for “Volume”');
    const titles = [...page.matchAll(/class="title" href="\/books\/\d+">([^<]+)</g)].map((match) => match[1]);
    expect(titles.slice(0, 3)).toEqual(['Volume 19', 'Volume 18', 'Volume 17']);
  });

  test('pagination links keep the filters', async () => {
    const page = await (await web.browse('/catalog?author=Serial&sort=title&pageSize=10')).text();
    expect(page).toContain('Page 1 of 3');
    expect(page).toContain('href="/catalog?author=Serial&amp;sort=title&amp;pageSize=10&amp;page=2#results-status"');
  });

  test('htmx search gets only the results, a plain request the whole page', async () => {
    const fragment = await web.browse('/catalog?q=middle', { htmx: true, headers: { 'hx-target': 'book-results' } });
    const html = await fragment.text();
    expect(html).toStartWith('<title>Search: middle · Bookstore</title><div id="book-results"');
    expect(html).toContain('Middlemarch');
    expect(html).not.toContain('Volume');
    expect(await (await web.browse('/catalog?q=middle')).text()).toStartWith('<!doctype html>');
  });

  test('a search with no letter or digit says what search needs, instead of "no books match"', async () => {
    const symbols = await (await web.browse(`/catalog?q=${encodeURIComponent('%!')}`, { htmx: true, headers: { 'hx-target': 'book-results' } })).text();
    expect(symbols).toContain('Search matches words: type at least one letter or digit.');
    const nothing = await (await web.browse('/catalog?q=zzzzqqqq', { htmx: true, headers: { 'hx-target': 'book-results' } })).text();
    expect(nothing).toContain('No books match.');
  });

  test('a nonsense query string gets a clear message and the first page, not an error page', async () => {
    const response = await web.browse('/catalog?page=abc&pageSize=1000000000');
    expect(response.status).toBe(400);
    const page = await response.text();
    expect(page).toContain('Pages are numbered from 1: here is the first one.');
    expect(page).toContain('Volume 30');
    expect(page).toContain('id="account-menu"');
  });

  test('a book page shows its details and seller; a missing book is a 404 page', async () => {
    const listing = (await (await catalog.app.request('/api/books?q=Middlemarch')).json()) as { items: { id: number }[] };
    const page = await (await web.browse(`/books/${listing.items[0]!.id}`)).text();
    expect(page).toContain('<h1>Middlemarch</h1>');
    expect(page).toContain('by George Eliot');
    expect(page).toContain('$15.00');
    expect(page).toContain('Only 2 left');
    expect(page).toContain('Sold by Page Seller');
    const missing = await web.browse('/books/99999999');
    expect(missing.status).toBe(404);
    expect(await missing.text()).toContain('not in the catalog');
    expect((await web.browse('/books/not-a-number')).status).toBe(404);
  });
});

test(`a title like ${xss} shows as text everywhere`, async () => {
  const book = await catalog.addBook(seller.token, { title: xss, author: `<img src=x onerror=alert(2)>`, description: `<b>bold?</b>` });
  const cookie = sessionCookieFrom(await web.submit('/login', { email: seller.email, password: seller.password }));
  const pages = [
    await web.browse('/'),
    await web.browse('/catalog?q=script'),
    await web.browse(`/books/${book.id}`),
    await web.browse('/sell', { cookie }),
    await web.browse(`/sell/${book.id}/edit`, { cookie }),
  ];
  for (const response of pages) {
    const html = await response.text();
    expect(html).toContain('&lt;script&gt;alert(1)&lt;/script&gt;');
    expect(html).not.toContain(xss);
    expect(html).not.toContain('<img src=x');
  }
});

test('links in pages never come from the Host header: a retry link stays on this site', async () => {
  const orphan = startTestWeb({ auth: auth.url, catalog: downUrl });
  try {
    const cookie = sessionCookieFrom(await orphan.submit('/login', { email: seller.email, password: seller.password }));
    for (const path of ['/catalog?q=x', '/books/1', '/sell']) {
      const response = await orphan.app.request(`http://evil.example${path}`, { headers: { cookie, host: 'evil.example' } });
      const page = await response.text();
      expect(page).toContain('Retry');
      expect(page).not.toContain('evil.example');
      expect(page).toContain(`href="${path.replace('&', '&amp;')}"`);
    }
  } finally {
    orphan.close();
  }
});

test('with catalog down, catalog pages show a retry box and the account menu still works', async () => {
  const orphan = startTestWeb({ auth: auth.url, catalog: downUrl });
  try {
    const cookie = sessionCookieFrom(await orphan.submit('/login', { email: seller.email, password: seller.password }));
    for (const path of ['/catalog?q=x', '/books/1', '/sell', '/']) {
      const response = await orphan.browse(path, { cookie });
      expect(response.status).toBe(200);
      const page = await response.text();
      expect(page).toContain('unavailable right now');
      expect(page).toContain('Retry');
      expect(page).toContain('Signed in as <strong>Page Seller</strong>');
    }
    const save = await orphan.submit('/sell/new', { title: 'T', author: 'A', price: '1', stock: '1' }, { cookie });
    expect(save.status).toBe(503);
    expect(await save.text()).toContain('Nothing was changed');
  } finally {
    orphan.close();
  }
});

test('a crafted address cannot put markup into a page', async () => {
  const cookie = sessionCookieFrom(await web.submit('/login', { email: seller.email, password: seller.password }));
  const attack = '/sell/a%5C%3Cdiv%20hx-post=%5Csell%5C1%5Cdelete%20hx-trigger=load%3Ex%3C%5Cdiv%3E/edit';
  for (const path of [attack, '/books/1%3Cscript%3E', '/catalog?q=%3Cdiv%20hx-get=x%3E', '/covers/..%2F..%2Fetc%2Fpasswd']) {
    const response = await web.browse(path, { cookie });
    expect(response.status).toBeLessThan(500);
    const body = await response.text();
    expect(body).not.toContain('hx-trigger=load');
    expect(body).not.toContain('<div hx-get=x>');
    expect(body).not.toContain('<script>');
  }
  // A service answering JSON where HTML was expected is shown as unavailable, never pasted in.
  const json = Bun.serve({ port: 0, hostname: '127.0.0.1', fetch: () => Response.json({ detail: '<b hx-get="/x">injected</b>' }, { status: 404 }) });
  const odd = startTestWeb({ auth: auth.url, catalog: `http://127.0.0.1:${json.port}` });
  try {
    const page = await (await odd.browse('/books/1')).text();
    expect(page).not.toContain('injected');
    expect(page).toContain('unavailable right now');
  } finally {
    odd.close();
    await json.stop(true);
  }
});

test('a service that sends its headers but not its body in time leaves a retry box, not an error page', async () => {
  const dribble = Bun.serve({
    port: 0,
    hostname: '127.0.0.1',
    fetch: () =>
      new Response(
        new ReadableStream({
          async start(controller) {
            controller.enqueue(new TextEncoder().encode('<div>'));
            await Bun.sleep(1500); // the late body is the scenario under test, not a wait for a condition
            controller.enqueue(new TextEncoder().encode('late</div>'));
            controller.close();
          },
        }),
        { headers: { 'content-type': 'text/html; charset=utf-8' } },
      ),
  });
  const web2 = startTestWeb({ auth: auth.url, catalog: `http://127.0.0.1:${dribble.port}` }, { budgetMs: 300 });
  try {
    const response = await web2.browse('/catalog');
    expect(response.status).toBe(200);
    expect(await response.text()).toContain('The catalog is unavailable right now');
  } finally {
    web2.close();
    await dribble.stop(true);
  }
});

describe('the storefront', () => {
  /** 64 × 96 pixels: covers smaller than 64 px a side are refused. */
  const png = Buffer.from('iVBORw0KGgoAAAANSUhEUgAAAEAAAABgCAMAAACaG4TaAAAAA1BMVEWKK+JzrN2xAAAACXBIWXMAAAPoAAAD6AG1e1JrAAAAHUlEQVRYw+3BMQEAAADCoPVPbQZ/oAAAAAAAAD4DGGAAASibr7UAAAAASUVORK5CYII=', 'base64');
  const sellForm = (fields: Record<string, string>, cover?: File) => {
    const body = new FormData();
    for (const [name, value] of Object.entries(fields)) body.set(name, value);
    body.set('key', crypto.randomUUID());
    if (cover) body.set('cover', cover);
    return body;
  };
  const logIn = async () => sessionCookieFrom(await web.submit('/login', { email: seller.email, password: seller.password }));

  test('a plain form leaves its empty fields out of the address: 303 to the clean one', async () => {
    const response = await web.browse('/catalog?q=Volume&author=&minPrice=&maxPrice=&sort=newest');
    expect(response.status).toBe(303);
    expect(response.headers.get('location')).toBe('/catalog?q=Volume');
    const filters = await web.browse('/catalog?q=&author=Serial&minPrice=3&maxPrice=&sort=title&page=1');
    expect(filters.headers.get('location')).toBe('/catalog?author=Serial&minPrice=3&sort=title');
    expect((await web.browse('/catalog?q=Volume')).status).toBe(200); // nothing to clean: no redirect
  });

  test('htmx is told the clean address to show: typing replaces the entry, a page link adds one', async () => {
    const typed = await web.browse('/catalog?q=Volume&author=&minPrice=&maxPrice=&sort=newest', { htmx: true, headers: { 'hx-target': 'book-results', 'hx-trigger-name': 'q' } });
    expect(typed.status).toBe(200);
    expect(typed.headers.get('hx-replace-url')).toBe('/catalog?q=Volume');
    expect(typed.headers.get('hx-push-url')).toBeNull();
    expect(await typed.text()).toStartWith('<title>Search: Volume · Bookstore</title><div id="book-results"');
    const paged = await web.browse('/catalog?q=Volume&page=2', { htmx: true, headers: { 'hx-target': 'book-results' } });
    expect(paged.headers.get('hx-push-url')).toBe('/catalog?q=Volume&page=2');
    expect(await paged.text()).toStartWith('<title>Search: Volume, page 2 · Bookstore</title>');
  });

  test('page titles say what is shown: a search, a book with its author', async () => {
    expect(await (await web.browse('/catalog?q=middlemarch')).text()).toContain('<title>Search: middlemarch · Bookstore</title>');
    expect(await (await web.browse('/catalog')).text()).toContain('<title>Catalog · Bookstore</title>');
    const emma = await catalog.addBook(seller.token, { title: 'Emma', author: 'Jane Austen', priceCents: 1250 });
    expect(await (await web.browse(`/books/${emma.id}`)).text()).toContain('<title>Emma — Jane Austen · Bookstore</title>');
    const odd = await catalog.addBook(seller.token, { title: 'Tom & "Jerry" <Live>', author: "O'Neil" });
    const page = await (await web.browse(`/books/${odd.id}`)).text();
    expect(page).toContain('<title>Tom &amp; &quot;Jerry&quot; &lt;Live&gt; — O&#39;Neil · Bookstore</title>');
    expect(await (await web.browse('/books/99999999')).text()).toContain('<title>Book not found · Bookstore</title>');
  });

  test("a book's page puts title, price and the buy box before the cover (what a phone shows first)", async () => {
    const book = await catalog.addBook(seller.token, { title: 'Order Of Things', author: 'Layout Tester', priceCents: 4321, description: 'About it.' });
    const page = await (await web.browse(`/books/${book.id}`)).text();
    const at = (text: string) => {
      expect(page).toContain(text);
      return page.indexOf(text);
    };
    const order = [at('<h1>Order Of Things</h1>'), at('$43.21'), at('<div class="book-buy">'), at('<div class="book-cover"><svg class="cover generated"'), at('<p>About it.</p>')];
    expect([...order].sort((a, b) => a - b)).toEqual(order);
    expect(page).not.toContain('<!--buy-box-->');
  });

  test('a book with no copy left says "out of stock" where the buy box would be, instead of offering "Add to cart"', async () => {
    const soldOut = await catalog.addBook(seller.token, { title: 'All Gone', author: 'Sold Out', stock: 0 });
    const inStock = await catalog.addBook(seller.token, { title: 'Still Here', author: 'In Stock', stock: 3 });
    const gone = await (await web.browse(`/books/${soldOut.id}`)).text();
    expect(gone).toContain('Out of stock: this book cannot be bought right now.');
    expect(gone).not.toContain('Add to cart');
    // (Purchase is not running in this file: a book in stock gets the buy box's "unavailable" box.)
    expect(await (await web.browse(`/books/${inStock.id}`)).text()).not.toContain('Out of stock');
  });

  test('bad filter values: a sentence beside the field, with and without htmx; a page past the end links to the last', async () => {
    const plain = await web.browse('/catalog?q=Volume&minPrice=abc&maxPrice=2');
    expect(plain.status).toBe(400);
    const page = await plain.text();
    expect(page).toContain('<p class="field-error" id="field-minPrice-error">Min price must be a number, like 12.50.</p>');
    expect(page).toContain('value="abc"');
    expect(page).toContain('2 books for “Volume”');
    const swapped = await web.browse('/catalog?q=Volume&minPrice=30&maxPrice=2', { htmx: true, headers: { 'hx-target': 'book-results', 'hx-trigger-name': 'maxPrice' } });
    expect(swapped.status).toBe(400);
    expect(await swapped.text()).toContain('<p class="field-error" id="field-maxPrice-error" hx-swap-oob="true">Max price must be at least the min price ($30): it was left out.</p>');

    const past = await web.browse('/catalog?author=Serial&page=7');
    expect(past.status).toBe(404);
    const text = await past.text();
    expect(text).toContain('There is no page 7: these results end at page 2.');
    expect(text).toContain('href="/catalog?author=Serial&amp;page=2#results-status"');
    expect(text).toContain('id="account-menu"');
  });

  test('a cover sent with a new book: card-size in listings, full size on its page, through the web proxy', async () => {
    const cookie = await logIn();
    const added = await web.browse('/sell/new', { method: 'POST', cookie, body: sellForm({ title: 'Covered Novel', author: 'Pic Author', price: '5', stock: '2' }, new File([png], 'c.png', { type: 'image/png' })) });
    expect(added.status).toBe(303);
    const [book] = ((await (await catalog.app.request('/api/books?q=Covered+Novel')).json()) as { items: { id: number; coverUrl: string }[] }).items;
    expect(book!.coverUrl).toMatch(/^\/covers\/[0-9a-f]{40}\.webp$/);
    const listing = await (await web.browse('/catalog?q=Covered+Novel')).text();
    const card = listing.match(/<img class="cover" src="(\/covers\/[0-9a-f]{40}\.webp)" alt="" loading="lazy"/)![1]!;
    expect(card).not.toBe(book!.coverUrl);
    expect((await web.browse(card)).status).toBe(200);
    const detail = await (await web.browse(`/books/${book!.id}`)).text();
    expect(detail).toContain(`<img class="cover" src="${book!.coverUrl}" alt="Cover of Covered Novel">`);
    expect((await web.browse(book!.coverUrl)).headers.get('content-type')).toBe('image/webp');
  });

  test('a cover over the limit keeps what was typed and states the limit beside the field, with and without htmx', async () => {
    const cookie = await logIn();
    const big = () => new File([new Uint8Array(400 * 1024).fill(9)], 'huge.png', { type: 'image/png' });
    for (const htmx of [false, true]) {
      const response = await web.browse('/sell/new', { method: 'POST', cookie, htmx, body: sellForm({ title: `Kept ${htmx}`, author: 'Kept Author', description: 'Kept words.', price: '7.25', stock: '4' }, big()) });
      expect(response.status).toBe(413);
      const html = await response.text();
      if (htmx) expect(html).toStartWith('<div id="book-editor">');
      else expect(html).toContain('<title>Sell · Bookstore</title>');
      for (const kept of [`value="Kept ${htmx}"`, 'value="Kept Author"', '>Kept words.</textarea>', 'value="7.25"', 'value="4"']) expect(html).toContain(kept);
      expect(html).toContain('The image is 400 KB: a cover can be at most 256 KB. Choose a smaller image, or save this one at a lower quality.');
    }
    expect(((await (await catalog.app.request('/api/books?q=Kept')).json()) as { total: number }).total).toBe(0);
  });

  test("a phone photo over the web front's own limit gets a page saying so, never a JSON problem pasted into the form", async () => {
    const cookie = await logIn();
    const photo = new File([new Uint8Array(7 * 1024 * 1024).fill(7)], 'photo.jpg', { type: 'image/jpeg' });
    for (const htmx of [false, true]) {
      const response = await web.browse('/sell/new', { method: 'POST', cookie, htmx, body: sellForm({ title: 'Too Big', author: 'A', description: '', price: '1.00', stock: '1' }, photo) });
      expect(response.status).toBe(413);
      expect(response.headers.get('content-type')).toStartWith('text/html');
      const html = await response.text();
      expect(html).toContain('larger than the shop accepts (6 MB)');
      expect(html).not.toContain('"status"');
    }
  });
});
