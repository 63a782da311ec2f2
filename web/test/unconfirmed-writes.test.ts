/**
 * A form the web front sent but whose answer never came (the service took it, then its connection
 * died): the shopper is told "we could not confirm", never "nothing was changed"; a service that
 * surely never got it (connection refused) is "nothing was changed".
 */
import { afterAll, beforeAll, expect, test } from 'bun:test';
import { serveTestAuth, type ServedTestAuth } from '../../services/auth/test/support.ts';
import { downUrl, sessionCookieFrom, startTestWeb } from './support.ts';

let auth: ServedTestAuth;
/** Reads each request, then hangs up without a word: the request was delivered, its outcome unknown. */
let hangsUp: Bun.TCPSocketListener<undefined>;
/** Answers every request 503, as a service whose time budget ran out while the change went on. */
let gaveUp: ReturnType<typeof Bun.serve>;
let cookie = '';

beforeAll(async () => {
  auth = await serveTestAuth();
  hangsUp = Bun.listen({ hostname: '127.0.0.1', port: 0, socket: { data: (socket) => void socket.end() } });
  gaveUp = Bun.serve({ hostname: '127.0.0.1', port: 0, fetch: () => Response.json({ title: 'Service Unavailable', status: 503, detail: 'This took too long to confirm' }, { status: 503, headers: { 'content-type': 'application/problem+json' } }) });
  const seller = await auth.signUp('Unsure Seller');
  const front = startTestWeb({ auth: auth.url });
  try {
    cookie = sessionCookieFrom(await front.submit('/login', { email: seller.email, password: seller.password }));
  } finally {
    front.close(); // its token checker would poll this file's auth for ever, and reach whatever takes that port next
  }
});
afterAll(async () => {
  hangsUp.stop(true);
  await gaveUp.stop(true);
  await auth.close();
});

const book = { title: 'Maybe Added', author: 'A', description: '', price: '5.00', stock: '1', key: 'unsure-key-1' };

test('a form delivered but never answered: "we could not confirm", with where to check', async () => {
  const web = startTestWeb({ auth: auth.url, catalog: `http://127.0.0.1:${hangsUp.port}` });
  try {
    const response = await web.submit('/sell/new', book, { cookie });
    expect(response.status).toBe(503);
    const page = await response.text();
    expect(page).toContain('We could not confirm whether this went through');
    expect(page).toContain('<a href="/sell">the page it would change</a>');
    expect(page).not.toContain('Nothing was changed');
  } finally {
    web.close();
  }
});

test('a form that surely never arrived (connection refused): "nothing was changed"', async () => {
  const web = startTestWeb({ auth: auth.url, catalog: downUrl });
  try {
    const response = await web.submit('/sell/new', book, { cookie });
    expect(response.status).toBe(503);
    const page = await response.text();
    expect(page).toContain('Nothing was changed');
    expect(page).not.toContain('could not confirm');
  } finally {
    web.close();
  }
});

test('a form the service answered with a 5xx (it gave up waiting, the work may go on): "we could not confirm"', async () => {
  const web = startTestWeb({ auth: auth.url, catalog: `http://127.0.0.1:${gaveUp.port}` });
  try {
    const response = await web.submit('/sell/new', book, { cookie });
    expect(response.status).toBe(503);
    const page = await response.text();
    expect(page).toContain('We could not confirm whether this went through');
    expect(page).not.toContain('Nothing was changed');
  } finally {
    web.close();
  }
});
