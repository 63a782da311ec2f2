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
    expect(page).toContain('name="minPrice" type="number" min="0" step="0.01" value="5"');
    expect(page).toContain('<option value="price_desc" selected>');
    expect(page).toContain('name="inStock" value="true" checked');
    // Volumes 05..20 cost $5..$20; stock is i % 5, so multiples of 5 are out of stock: 16 - 4 = 12.
    expect(page).toContain('12 books for “Volume”');
    const titles = [...page.matchAll(/class="title" href="\/books\/\d+">([^<]+)</g)].map((match) => match[1]);
    expect(titles.slice(0, 3)).toEqual(['Volume 19', 'Volume 18', 'Volume 17']);
  });

  test('pagination links keep the filters', async () => {
    const page = await (await web.browse('/catalog?author=Serial&sort=title&pageSize=10')).text();
    expect(page).toContain('Page 1 of 3');
    expect(page).toContain('href="/catalog?author=Serial&amp;sort=title&amp;page=2"');
  });

  test('htmx search gets only the results, a plain request the whole page', async () => {
    const fragment = await web.browse('/catalog?q=middle', { htmx: true, headers: { 'hx-target': 'book-results' } });
    const html = await fragment.text();
    expect(html).toStartWith('<div id="book-results"');
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

  test('a nonsense query string gets a clear message, not an error page', async () => {
    const response = await web.browse('/catalog?page=abc&pageSize=1000000000');
    expect(response.status).toBe(400);
    const page = await response.text();
    expect(page).toContain('That search is not valid');
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
