/**
 * Only a book's seller (or an admin) may change it, checked by catalog itself; the seller is whoever
 * the token says. Through the API and through the web pages alike.
 */
import { afterAll, beforeAll, describe, expect, test } from 'bun:test';
import { bearer, jsonInit } from '@bookstore/shared/testing/http';
import { serveTestAuth, type ServedTestAuth } from '../../auth/test/support.ts';
import { sessionCookieFrom, startTestWeb } from '../../../web/test/support.ts';
import type { BookJson } from '../src/schemas.ts';
import { startTestCatalog, type TestCatalog } from './support.ts';

let auth: ServedTestAuth;
let catalog: TestCatalog;
let catalogServer: ReturnType<typeof Bun.serve>;
let web: ReturnType<typeof startTestWeb>;
let alice: Awaited<ReturnType<ServedTestAuth['signUp']>>;
let bob: Awaited<ReturnType<ServedTestAuth['signUp']>>;

beforeAll(async () => {
  auth = await serveTestAuth();
  catalog = await startTestCatalog(auth.url);
  catalogServer = Bun.serve({ port: 0, hostname: '127.0.0.1', fetch: catalog.app.fetch });
  web = startTestWeb({ auth: auth.url, catalog: `http://127.0.0.1:${catalogServer.port}` });
  alice = await auth.signUp('Alice Seller');
  bob = await auth.signUp('Bob Seller');
});
afterAll(async () => {
  web.close();
  await catalogServer.stop(true);
  await catalog.close();
  await auth.close();
});

const bookOf = async (id: number) => (await (await catalog.app.request(`/api/books/${id}`)).json()) as BookJson;

describe('through the API', () => {
  test('a book is sold by the caller, whatever seller id the body claims', async () => {
    const response = await catalog.app.request(
      '/api/books',
      jsonInit('POST', { title: 'Forged', author: 'X', priceCents: 100, stock: 1, sellerId: bob.userId, sellerName: 'Bob' }, bearer(alice.token)),
    );
    expect(response.status).toBe(201);
    const book = (await response.json()) as BookJson;
    expect(book.sellerId).toBe(alice.userId);
    expect(book.sellerName).toBe('Alice Seller');
  });

  test('without logging in nobody can add a book', async () => {
    const response = await catalog.app.request('/api/books', jsonInit('POST', { title: 'Anon', author: 'X', priceCents: 100, stock: 1 }));
    expect(response.status).toBe(401);
    expect(response.headers.get('content-type')).toContain('application/problem+json');
  });

  test("seller B cannot edit or delete seller A's book (403), and the book is unchanged", async () => {
    const book = await catalog.addBook(alice.token, { title: "Alice's Book", priceCents: 1000 });
    const edit = await catalog.app.request(`/api/books/${book.id}`, jsonInit('PATCH', { priceCents: 1 }, bearer(bob.token)));
    expect(edit.status).toBe(403);
    const remove = await catalog.app.request(`/api/books/${book.id}`, { method: 'DELETE', headers: bearer(bob.token) });
    expect(remove.status).toBe(403);
    expect((await bookOf(book.id)).priceCents).toBe(1000);
  });

  test('the seller and an admin can change it; the seller id cannot be changed by a patch', async () => {
    const book = await catalog.addBook(alice.token, { title: 'Editable', priceCents: 1000 });
    const own = await catalog.app.request(`/api/books/${book.id}`, jsonInit('PATCH', { priceCents: 1250, sellerId: bob.userId }, bearer(alice.token)));
    expect(own.status).toBe(200);
    expect(await own.json()).toMatchObject({ priceCents: 1250, sellerId: alice.userId });
    const admin = await auth.signUp('Catalog Admin', 'admin');
    const byAdmin = await catalog.app.request(`/api/books/${book.id}`, jsonInit('PATCH', { stock: 9 }, bearer(admin.token)));
    expect(byAdmin.status).toBe(200);
    expect((await bookOf(book.id)).stock).toBe(9);
  });

  test('"my books" lists only the caller\'s books; an id in the query changes nothing', async () => {
    await catalog.addBook(bob.token, { title: 'Only Bob Sells This' });
    const mine = await catalog.app.request(`/api/sellers/me/books?sellerId=${bob.userId}`, { headers: bearer(alice.token) });
    const listing = (await mine.json()) as { items: BookJson[] };
    expect(listing.items.length).toBeGreaterThan(0);
    expect(listing.items.every((book) => book.sellerId === alice.userId)).toBe(true);
    expect((await catalog.app.request('/api/sellers/me/books')).status).toBe(401);
  });

  test('a deleted book leaves the catalog', async () => {
    const book = await catalog.addBook(alice.token, { title: 'Short Lived' });
    expect((await catalog.app.request(`/api/books/${book.id}`, { method: 'DELETE', headers: bearer(alice.token) })).status).toBe(204);
    expect((await catalog.app.request(`/api/books/${book.id}`)).status).toBe(404);
  });
});

describe('through the web', () => {
  const login = async (who: typeof alice) => sessionCookieFrom(await web.submit('/login', { email: who.email, password: who.password }));

  test("seller B gets 403 editing, deleting or re-covering seller A's book, and nothing changes", async () => {
    const book = await catalog.addBook(alice.token, { title: 'Guarded', priceCents: 2000 });
    const cookie = await login(bob);
    const form = await web.browse(`/sell/${book.id}/edit`, { cookie });
    expect(form.status).toBe(403);
    const edit = await web.submit(`/sell/${book.id}/edit`, { title: 'Stolen', author: 'B', price: '0.01', stock: '1' }, { cookie });
    expect(edit.status).toBe(403);
    expect(await edit.text()).toContain('You can only change books you sell');
    expect((await web.submit(`/sell/${book.id}/delete`, {}, { cookie })).status).toBe(403);
    expect((await web.browse(`/sell/${book.id}/delete`, { cookie })).status).toBe(403);
    const cover = new FormData();
    cover.set('cover', new File([new Uint8Array([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0, 0, 0])], 'c.png', { type: 'image/png' }));
    const recover = await web.browse(`/sell/${book.id}/cover`, { method: 'POST', body: cover, cookie });
    expect(recover.status).toBe(403);
    expect(await bookOf(book.id)).toMatchObject({ title: 'Guarded', priceCents: 2000, coverUrl: null });
  });

  test('the seller adds, edits and deletes a book through the pages', async () => {
    const cookie = await login(alice);
    const invalid = await web.submit('/sell/new', { title: '', author: 'Someone', price: 'free', stock: '-2' }, { cookie, htmx: true });
    expect(invalid.status).toBe(400);
    const form = await invalid.text();
    expect(form).toStartWith('<div id="book-editor">');
    expect(form).toContain('<p class="field-error" id="field-title-error">Enter the book’s title.</p>');
    expect(form).toContain('<p class="field-error" id="field-price-error">The price must be a number, like 12.50.</p>');
    expect(form).toContain('<p class="field-error" id="field-stock-error">Copies in stock must be a whole number, like 3.</p>');
    expect(form).toMatch(/<input id="field-title" [^>]* autofocus>/); // the first field to correct
    expect(form).toContain('value="Someone"');

    const created = await web.submit('/sell/new', { title: 'Persuasion', author: 'Jane Austen', description: 'Anne Elliot.', price: '12.50', stock: '4' }, { cookie });
    expect(created.status).toBe(303);
    expect(created.headers.get('location')).toBe('/sell?done=created');
    const mine = await (await web.browse('/sell?done=created', { cookie })).text();
    expect(mine).toContain('Your book is in the catalog.');
    const id = Number(mine.match(/href="\/books\/(\d+)">Persuasion</)![1]);
    expect(await bookOf(id)).toMatchObject({ title: 'Persuasion', priceCents: 1250, stock: 4, sellerId: alice.userId });

    const saved = await web.submit(`/sell/${id}/edit`, { title: 'Persuasion', author: 'Jane Austen', description: 'Anne Elliot.', price: '$9.99', stock: '3' }, { cookie });
    expect(saved.headers.get('location')).toBe('/sell?done=saved');
    expect(await bookOf(id)).toMatchObject({ priceCents: 999, stock: 3 });

    // "Delete" asks first; the question's form removes the book.
    expect(mine).toContain(`<a href="/sell/${id}/delete">Delete<span class="visually-hidden"> Persuasion</span></a>`);
    const question = await web.browse(`/sell/${id}/delete`, { cookie });
    expect(question.status).toBe(200);
    const asked = await question.text();
    expect(asked).toContain('<title>Remove a book · Bookstore</title>');
    expect(asked).toContain('<h1>Remove “Persuasion” from the catalog?</h1>');
    expect(asked).toContain(`<form method="post" action="/sell/${id}/delete" class="actions">`);
    expect((await bookOf(id)).title).toBe('Persuasion');
    const deleted = await web.submit(`/sell/${id}/delete`, {}, { cookie });
    expect(deleted.headers.get('location')).toBe('/sell?done=deleted');
    expect((await catalog.app.request(`/api/books/${id}`)).status).toBe(404);
  });

  test('selling pages send a visitor who is not logged in to the login page', async () => {
    const response = await web.browse('/sell/new');
    expect(response.status).toBe(303);
    expect(response.headers.get('location')).toBe('/login?next=%2Fsell%2Fnew');
    const post = await web.submit('/sell/new', { title: 'X', author: 'Y', price: '1', stock: '1' });
    expect(post.headers.get('location')).toStartWith('/login');
  });
});

test('saving the edit form keeps copies reserved meanwhile: stock moves by what the seller changed', async () => {
  const book = await catalog.addBook(alice.token, { title: 'Busy Seller', stock: 29 });
  const cookie = sessionCookieFrom(await web.submit('/login', { email: alice.email, password: alice.password }));
  const form = await (await web.browse(`/sell/${book.id}/edit`, { cookie })).text();
  expect(form).toContain('name="stockWas" value="29"');
  // While the form is open, a buyer reserves 5 copies.
  expect((await catalog.asService('/api/reservations', 'POST', { orderId: 'while-editing', items: [{ bookId: book.id, quantity: 5 }] })).status).toBe(201);
  // The seller changes only the description and saves the stock figure they saw.
  await web.submit(`/sell/${book.id}/edit`, { title: 'Busy Seller', author: 'An Author', description: 'New words.', price: '10.00', stock: '29', stockWas: '29' }, { cookie });
  expect(await bookOf(book.id)).toMatchObject({ stock: 24, description: 'New words.' });
  // Adding 6 copies in the form adds 6 to what is there now.
  await web.submit(`/sell/${book.id}/edit`, { title: 'Busy Seller', author: 'An Author', description: 'New words.', price: '10.00', stock: '30', stockWas: '24' }, { cookie });
  expect((await bookOf(book.id)).stock).toBe(30);
  // Repeated "add 100,000" saves stop at the maximum, and the form still saves afterwards.
  for (let i = 0; i < 2; i++) {
    const stockWas = String((await bookOf(book.id)).stock);
    const saved = await web.submit(`/sell/${book.id}/edit`, { title: 'Busy Seller', author: 'An Author', description: '', price: '10.00', stock: '100000', stockWas }, { cookie });
    expect(saved.status).toBe(303);
  }
  expect((await bookOf(book.id)).stock).toBe(100_000);
});

test('only edit, delete and cover are seller actions: anything else is not found', async () => {
  const book = await catalog.addBook(alice.token, { title: 'Not To Be Deleted' });
  const cookie = sessionCookieFrom(await web.submit('/login', { email: alice.email, password: alice.password }));
  for (const path of [`/sell/${book.id}/xdelete`, `/sell/${book.id}/foo/delete`, `/sell/${book.id}/zzcover`, `/sell/x${book.id}/delete`]) {
    expect((await web.submit(path, {}, { cookie })).status).toBe(404);
  }
  expect((await catalog.app.request(`/api/books/${book.id}`)).status).toBe(200);
});
