/**
 * The catalog's fragments as a shopper meets them: a cover for every book, one link per card,
 * filters that say what is wrong beside the field (whole page and htmx's swaps), a page past the end
 * that says so, addresses without empty fields; and the seller's forms that forgive.
 */
import { afterAll, beforeAll, describe, expect, test } from 'bun:test';
import { bearer } from '@bookstore/shared/testing/http';
import { readCatalogQuery } from '../src/catalog-query.ts';
import { coverColour, coverInk, wrap } from '../src/generated-cover.ts';
import type { BookJson } from '../src/schemas.ts';
import { startCatalogWithSeller, type TestCatalog } from './support.ts';

let catalog: TestCatalog;
let seller: string;
let close: () => Promise<void>;
const tricky = 'Pride & <Prejudice> "1813"';
let trickyBook: BookJson;

beforeAll(async () => {
  ({ catalog, seller, close } = await startCatalogWithSeller());
  for (let i = 1; i <= 30; i++) await catalog.addBook(seller, { title: `Shelf Volume ${String(i).padStart(2, '0')}`, author: 'Shelf Writer', priceCents: 100 * i, stock: 2 });
  trickyBook = await catalog.addBook(seller, { title: tricky, author: "Jane O'Austen", priceCents: 1250 });
});
afterAll(() => close());

const page = async (path: string, headers: Record<string, string> = {}) => {
  const response = await catalog.app.request(path, { headers });
  return { status: response.status, html: await response.text() };
};
/** The inside of each card of a listing. */
const cards = (html: string) => [...html.matchAll(/<li class="book-card">([\s\S]*?)<\/li>/g)].map((match) => match[1]!);

describe('covers', () => {
  test('a book without an uploaded cover gets a generated one: its title and author, escaped, on its own colour', async () => {
    const { html } = await page(`/fragments/catalog?q=${encodeURIComponent('Prejudice')}`);
    const [card] = cards(html);
    expect(card).toContain('<svg class="cover generated" viewBox="0 0 200 300" aria-hidden="true" focusable="false"');
    expect(card).toContain('<tspan x="100" dy="0">Pride &amp;</tspan><tspan x="100" dy="24">&lt;Prejudice&gt;</tspan><tspan x="100" dy="24">&quot;1813&quot;</tspan>');
    expect(card).toContain('Jane O&#39;Austen');
    expect(card).not.toContain('<Prejudice>');
    expect(card).not.toContain('<img');
    expect(card).toContain(`fill="${coverColour(trickyBook.id)}"`);
    // The same cover on the book's page, and every time: the colour comes from the book.
    const detail = await page(`/fragments/books/${trickyBook.id}`);
    expect(detail.html).toContain(`<rect width="200" height="300" fill="${coverColour(trickyBook.id)}"/>`);
    expect((await page(`/fragments/catalog?q=${encodeURIComponent('Prejudice')}`)).html).toBe(html);
  });

  test('generated covers: neighbours differ, text reads on every colour (4.5:1), long titles are cut with "…"', () => {
    const luminance = (hex: string) =>
      [1, 3, 5]
        .map((at) => parseInt(hex.slice(at, at + 2), 16) / 255)
        .map((c) => (c <= 0.03928 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4))
        .reduce((sum, c, i) => sum + c * [0.2126, 0.7152, 0.0722][i]!, 0);
    const contrast = (a: string, b: string) => (Math.max(luminance(a), luminance(b)) + 0.05) / (Math.min(luminance(a), luminance(b)) + 0.05);
    for (let id = 1; id <= 1000; id++) {
      expect(coverColour(id)).toBe(coverColour(id));
      expect(coverColour(id)).not.toBe(coverColour(id + 1));
      expect(contrast(coverColour(id), coverInk.title)).toBeGreaterThanOrEqual(4.5);
      expect(contrast(coverColour(id), coverInk.author)).toBeGreaterThanOrEqual(4.5);
    }
    const lines = wrap('The Strange Case of Doctor Jekyll and Mister Hyde, with Other Tales of Terror and Mystery', 16, 5);
    expect(lines).toHaveLength(5);
    expect(lines.every((line) => line.length <= 16)).toBe(true);
    expect(lines[4]).toEndWith('…');
    expect(wrap('Supercalifragilisticexpialidocious', 10, 5)).toEqual(['Supercalif', 'ragilistic', 'expialidoc', 'ious']);
  });
});

describe('cards', () => {
  test('one tab stop per card: the title is its only link, its only control; the cover is decorative', async () => {
    const { html } = await page('/fragments/catalog?q=Shelf');
    const shown = cards(html);
    expect(shown).toHaveLength(24);
    for (const card of shown) {
      expect(card.match(/<a /g)).toHaveLength(1);
      expect(card).toMatch(/<h2 class="book-card-title"><a class="title" href="\/books\/\d+">Shelf Volume \d\d<\/a><\/h2>/);
      expect(card).not.toMatch(/<button|<form|<input|tabindex/);
    }
    // On the home page the cards sit under "New in the catalog" (h2): their titles are h3.
    expect((await page('/fragments/new-books')).html).toContain('<h3 class="book-card-title">');
  });
});

describe('search and filters', () => {
  test('one live region says how many books and which page; the results are not a live region', async () => {
    const { html } = await page('/fragments/catalog?q=Shelf&page=2');
    expect(html.match(/role="status"|aria-live/g)).toHaveLength(1);
    expect(html).toContain('<p id="results-status" class="results-status" role="status">30 books for “Shelf” · page 2 of 2</p>');
    // htmx: the results, and the same sentence out of band into the region that stays.
    const results = await page('/fragments/book-results?q=Shelf&page=2');
    expect(results.html).toStartWith('<div id="book-results"');
    expect(results.html).toContain('<p id="results-status" class="results-status" role="status" hx-swap-oob="innerHTML">30 books for “Shelf” · page 2 of 2</p>');
  });

  test('"Next" brings the next page in at the top of the results, and its address has no empty fields', async () => {
    const { html } = await page('/fragments/catalog?q=Shelf&author=&minPrice=&maxPrice=&sort=newest');
    expect(html).toContain('<a href="/catalog?q=Shelf&amp;page=2#results-status" rel="next" id="results-next" hx-get="/catalog?q=Shelf&amp;page=2" hx-target="#book-results" hx-swap="outerHTML show:#results-status:top">Next page</a>');
    const second = await page('/fragments/catalog?q=Shelf&sort=title&minPrice=2&page=2&pageSize=10');
    expect(second.html).toContain('href="/catalog?q=Shelf&amp;minPrice=2&amp;sort=title&amp;pageSize=10#results-status" rel="prev"');
  });

  test('a page past the end says so and links to the last page', async () => {
    const { status, html } = await page('/fragments/catalog?q=Shelf&page=9');
    expect(status).toBe(404);
    expect(html).toContain('There is no page 9: these results end at page 2. <a href="/catalog?q=Shelf&amp;page=2#results-status"');
    expect(html).toContain('>Go to page 2, the last one</a>.');
    expect(html).toContain('30 books for “Shelf” · there is no page 9');
    expect(html).not.toContain('class="pagination"');
  });

  test('bad values get a sentence beside their field, the rest is still searched (whole page: the filters open)', async () => {
    const { status, html } = await page('/fragments/catalog?q=Shelf&minPrice=abc&maxPrice=5');
    expect(status).toBe(400);
    expect(html).toContain('<details class="more-filters" open>');
    expect(html).toContain('<input id="field-minPrice" name="minPrice" value="abc" hx-get="/catalog" inputmode="decimal" autocomplete="off" size="8" aria-describedby="field-minPrice-error" aria-invalid="true">');
    expect(html).toContain('<p class="field-error" id="field-minPrice-error">Min price must be a number, like 12.50.</p>');
    expect(html).toContain('5 books for “Shelf”'); // max $5 still applies
    expect(html).toContain('<span class="visually-hidden">. Min price must be a number, like 12.50.</span>');

    const crossed = await page('/fragments/catalog?q=Shelf&minPrice=20&maxPrice=5');
    expect(crossed.status).toBe(400);
    expect(crossed.html).toContain('<p class="field-error" id="field-maxPrice-error">Max price must be at least the min price ($20): it was left out.</p>');
    expect(crossed.html).toContain('11 books for “Shelf”'); // $20 and more: volumes 20 to 30
    expect(crossed.html).toContain('<p class="field-error" id="field-minPrice-error"></p>');

    const zero = await page('/fragments/catalog?q=Shelf&page=0');
    expect(zero.status).toBe(400);
    expect(zero.html).toContain('<p class="notice">Pages are numbered from 1: here is the first one.</p>');
    expect(zero.html).toContain('page 1 of 2');
  });

  test('with htmx, the messages go beside their fields out of band, and the cleared ones are emptied', async () => {
    const { status, html } = await page('/fragments/book-results?q=Shelf&minPrice=-3&sort=cheapest');
    expect(status).toBe(400);
    expect(html).toContain('<p class="field-error" id="field-minPrice-error" hx-swap-oob="true">Min price cannot be negative.</p>');
    expect(html).toContain('<p class="field-error" id="field-sort-error" hx-swap-oob="true">Choose one of the orders in the list: the newest books come first meanwhile.</p>');
    for (const name of ['q', 'author', 'maxPrice']) expect(html).toContain(`<p class="field-error" id="field-${name}-error" hx-swap-oob="true"></p>`);
    const fine = await page('/fragments/book-results?q=Shelf&minPrice=3');
    expect(fine.status).toBe(200);
    expect(fine.html).toContain('<p class="field-error" id="field-minPrice-error" hx-swap-oob="true"></p>');
  });

  test('the query is read field by field: dollars as typed, nonsense left out with its reason', () => {
    expect(readCatalogQuery({ minPrice: '$12.5', maxPrice: ' 20 ', page: '3', pageSize: '1000' }).query).toMatchObject({ minPrice: 1250, maxPrice: 2000, page: 3, pageSize: 60 });
    expect(readCatalogQuery({ minPrice: 'abc' }).errors).toEqual({ minPrice: 'Min price must be a number, like 12.50.' });
    expect(readCatalogQuery({ maxPrice: '99999999' }).errors.maxPrice).toBe('Max price can be at most $1,000,000.');
    expect(readCatalogQuery({ q: 'x'.repeat(250) }).query.q).toHaveLength(200);
    expect(readCatalogQuery({ page: '-1', pageSize: 'x' })).toMatchObject({ query: { page: 1, pageSize: 24 }, pageNotice: 'Pages are numbered from 1: here is the first one.' });
    expect(readCatalogQuery({ q: '', author: '', minPrice: '', maxPrice: '', sort: '', inStock: '' })).toMatchObject({ errors: {}, query: { q: undefined, author: undefined, sort: 'newest', inStock: false } });
  });
});

describe("the seller's forms", () => {
  const form = (fields: Record<string, string>, cover?: File) => {
    const body = new FormData();
    for (const [name, value] of Object.entries(fields)) body.set(name, value);
    if (cover) body.set('cover', cover);
    return body;
  };
  const post = (path: string, body: FormData) => catalog.app.request(path, { method: 'POST', headers: bearer(seller), body });
  const tooBig = () => new File([new Uint8Array(300 * 1024).fill(7)], 'big.png', { type: 'image/png' });

  test('errors are sentences, and the first field with one gets the focus', async () => {
    const response = await post('/fragments/sell/new', form({ title: 'Kept Title', author: '', price: 'abc', stock: 'many' }));
    expect(response.status).toBe(400);
    const html = await response.text();
    expect(html).toContain('value="Kept Title"');
    expect(html).toContain('<p class="field-error" id="field-author-error">Enter the author’s name.</p>');
    expect(html).toContain('<p class="field-error" id="field-price-error">The price must be a number, like 12.50.</p>');
    expect(html).toContain('<p class="field-error" id="field-stock-error">Copies in stock must be a whole number, like 3.</p>');
    expect(html.match(/ autofocus/g)).toHaveLength(1);
    expect(html).toMatch(/<input id="field-author" [^>]*aria-invalid="true" aria-describedby="field-author-error" autofocus>/);
  });

  test('a cover too large on the add form: the form comes back filled in, the limit stated beside the field, no book added', async () => {
    const before = (await (await catalog.app.request('/api/sellers/me/books', { headers: bearer(seller) })).json()) as { total: number };
    const response = await post('/fragments/sell/new', form({ title: 'Big Cover Book', author: 'Ann Author', description: 'Kept words.', price: '9.50', stock: '3' }, tooBig()));
    expect(response.status).toBe(413);
    const html = await response.text();
    for (const kept of ['value="Big Cover Book"', 'value="Ann Author"', '>Kept words.</textarea>', 'value="9.50"', 'value="3"']) expect(html).toContain(kept);
    expect(html).toContain('<p class="field-error" id="field-cover-error">The image is 300 KB: a cover can be at most 256 KB. Choose a smaller image, or save this one at a lower quality.</p>');
    expect(html).toContain('<p class="hint" id="field-cover-hint">At most 256 KB.');
    expect(html).toMatch(/<input id="field-cover" [^>]*aria-invalid="true"[^>]* autofocus>/);
    const after = (await (await catalog.app.request('/api/sellers/me/books', { headers: bearer(seller) })).json()) as { total: number };
    expect(after.total).toBe(before.total);
  });

  test('a cover too large on the edit page: the page comes back whole, with the sentence beside the cover field', async () => {
    const response = await post(`/fragments/sell/${trickyBook.id}/cover`, form({}, tooBig()));
    expect(response.status).toBe(413);
    const html = await response.text();
    expect(html).toContain('value="Pride &amp; &lt;Prejudice&gt; &quot;1813&quot;"');
    expect(html).toContain('value="12.50"');
    expect(html).toContain('The image is 300 KB: a cover can be at most 256 KB.');
  });

  test('"Delete" asks first, without JavaScript too: the list links to a question whose form removes the book', async () => {
    const book = await catalog.addBook(seller, { title: 'Question First' });
    const list = await (await catalog.app.request('/fragments/sell', { headers: bearer(seller) })).text();
    expect(list).toContain(`<a href="/sell/${book.id}/delete">Delete<span class="visually-hidden"> Question First</span></a>`);
    expect(list).not.toContain(`action="/sell/${book.id}/delete"`);
    const question = await catalog.app.request(`/fragments/sell/${book.id}/delete`, { headers: bearer(seller) });
    expect(question.status).toBe(200);
    const html = await question.text();
    expect(html).toContain('<h1>Remove “Question First” from the catalog?</h1>');
    expect(html).toContain(`<form method="post" action="/sell/${book.id}/delete" class="actions">`);
    expect((await catalog.app.request(`/api/books/${book.id}`)).status).toBe(200); // asking removed nothing
  });
});
