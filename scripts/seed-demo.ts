/**
 * Fills an empty catalog with the demo books, through the public APIs: each demo seller logs in and
 * adds their books, exactly as a person would. Does nothing when the catalog already has books.
 */
import { demoBooks } from './demo-books.ts';

const sellers = {
  admin: { email: 'admin@bookstore.test', password: 'admin-demo-pass' },
  alice: { email: 'alice@bookstore.test', password: 'alice-demo-pass' },
  bob: { email: 'bob@bookstore.test', password: 'bob-demo-pass' },
} as const;

export async function seedDemoBooks(urls: { auth: string; catalog: string }): Promise<number> {
  const listing = (await (await fetch(`${urls.catalog}/api/books?pageSize=1`)).json()) as { total: number };
  if (listing.total > 0) return 0;
  const tokens: Record<string, string> = {};
  for (const [name, credentials] of Object.entries(sellers)) {
    const response = await fetch(`${urls.auth}/api/sessions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(credentials),
    });
    if (!response.ok) throw new Error(`demo seller ${name} cannot log in (${response.status})`);
    tokens[name] = ((await response.json()) as { token: string }).token;
  }
  for (const { seller, ...book } of demoBooks) {
    const response = await fetch(`${urls.catalog}/api/books`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${tokens[seller]}` },
      body: JSON.stringify(book),
    });
    if (response.status !== 201) throw new Error(`could not add "${book.title}": ${response.status} ${await response.text()}`);
  }
  for (const token of Object.values(tokens)) {
    await fetch(`${urls.auth}/api/sessions/current`, { method: 'DELETE', headers: { authorization: `Bearer ${token}` } });
  }
  return demoBooks.length;
}
