/**
 * The storefront in a real browser against the four real processes on MariaDB, with the demo
 * catalog: the shopper's journeys on a phone (390×844, touch) with JavaScript off; axe-core on every
 * page, in its error states too, at 1366 px and 390 px; and a full-page screenshot of each page at
 * both widths in artifacts/screenshots/, the folder CI keeps, for a reviewer to look at.
 */
import { afterAll, beforeAll, expect, test } from 'bun:test';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import { resolve } from 'node:path';
import type { Stack } from '../../scripts/stack.ts';
import { startTestStack } from '../../scripts/test-stack.ts';
import { seedDemoBooks } from '../../scripts/seed-demo.ts';
import { demoBooks } from '../../scripts/demo-books.ts';
import { createPageAudit, sidewaysOverflow } from './page-audit.ts';

const chromiumPath = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const screenshotDir = resolve(import.meta.dir, '../../artifacts/screenshots');
const phone = { viewport: { width: 390, height: 844 }, isMobile: true, hasTouch: true, deviceScaleFactor: 2 };
const desktop = { viewport: { width: 1366, height: 900 } };
const alice = { email: 'alice@bookstore.test', password: 'alice-demo-pass' };
const admin = { email: 'admin@bookstore.test', password: 'admin-demo-pass' };
const anne = { name: 'Anne Elliot', email: 'anne@example.test', password: 'kellynch-1817' };
const year = String(new Date().getFullYear() + 2);
const catalogPages = Math.ceil(demoBooks.length / 24);
const dickensBooks = demoBooks.filter((book) => book.author === 'Charles Dickens').length;

let stack: Stack;
let shop: Awaited<ReturnType<typeof startTestStack>>;
let browser: Browser;
const logs: string[] = [];
let audit: ReturnType<typeof createPageAudit>;

beforeAll(async () => {
  shop = await startTestStack('storefront', { onLine: (service, line) => logs.push(`${service} ${line}`) });
  stack = shop.stack;
  // A process that dies mid-run fails the pages after it: say which one, with its last words.
  void stack.exited.then(({ service, code }) => console.error(`${service} exited (code ${code}) during the browser tests; its last lines:\n${stack.logs(service).slice(-30).join('\n')}`));
  await seedDemoBooks(stack.urls);
  const registered = await fetch(`${stack.urls.auth}/api/users`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(anne) });
  if (registered.status !== 201) throw new Error(`could not register ${anne.email}: ${registered.status} ${await registered.text()}`);
  browser = await chromium.launch({
    executablePath: chromiumPath,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
  audit = createPageAudit(screenshotDir);
}, 120_000);

afterAll(async () => {
  await browser?.close();
  await shop?.stop();
  if (audit) console.log(`Screenshots of the storefront (${audit.screenshots()}, at 1366 px and 390 px): ${screenshotDir}`);
});

/** A fresh browser context (no cookies), a phone's or a laptop's. */
const newContext = (options: { width: 390 | 1366; javaScript: boolean }): Promise<BrowserContext> =>
  browser.newContext({ ...(options.width === 390 ? phone : desktop), javaScriptEnabled: options.javaScript, baseURL: stack.urls.web });

async function logIn(page: Page, who: { email: string; password: string }) {
  await page.getByLabel('Email').fill(who.email);
  await page.getByLabel('Password').fill(who.password);
  await page.getByRole('button', { name: 'Log in' }).click();
}

async function logOut(page: Page) {
  await page.locator('#account-menu summary').click();
  await page.getByRole('button', { name: 'Log out' }).click();
  await page.waitForURL(`${stack.urls.web}/`);
}

async function fillCard(page: Page, number: string) {
  await page.getByLabel('Card number').fill(number);
  await page.getByLabel('Expiry month').fill('12');
  await page.getByLabel('Expiry year').fill(year);
  await page.getByLabel('CVC').fill('123');
  await page.getByLabel('Name on card').fill('Alice Demo');
}

async function expectNoSidewaysScroll(page: Page) {
  const where = new URL(page.url()).pathname;
  expect(`${where} scrolls sideways by ${await sidewaysOverflow(page)} px`).toBe(`${where} scrolls sideways by 0 px`);
}

test('on a phone without JavaScript: browse, search, and the next page starts at the results', async () => {
  const context = await newContext({ width: 390, javaScript: false });
  const page = await context.newPage();
  await page.goto('/');
  await expectNoSidewaysScroll(page);
  await page.getByRole('link', { name: 'Browse the catalog' }).click();
  await page.waitForURL(/\/catalog$/);
  expect(await page.locator('#results-status').innerText()).toBe(`${demoBooks.length} books · page 1 of ${catalogPages}`);
  expect(await page.locator('.book-card').count()).toBe(24);
  // The first screen shows books, not only the header and the filters.
  const firstCardTop = await page.locator('.book-card').first().evaluate((card) => card.getBoundingClientRect().top);
  expect(firstCardTop).toBeLessThan(844);
  await expectNoSidewaysScroll(page);

  await page.getByLabel('Search title or author').fill('dickens');
  await page.getByRole('button', { name: 'Search', exact: true }).click();
  await page.waitForURL(/\/catalog\?q=dickens$/);
  expect(await page.locator('#results-status').innerText()).toBe(`${dickensBooks} books for “dickens”`);
  await page.locator('#book-results').getByRole('link', { name: 'Great Expectations' }).waitFor();

  await page.goto('/catalog');
  await page.getByRole('link', { name: 'Next page' }).click();
  await page.waitForURL(/\/catalog\?page=2/);
  expect(await page.locator('#results-status').innerText()).toBe(`${demoBooks.length} books · page 2 of ${catalogPages}`);
  // The browser lands on the results, not at the top of the page above the filters.
  const statusTop = await page.locator('#results-status').evaluate((status) => status.getBoundingClientRect().top);
  expect(statusTop).toBeGreaterThanOrEqual(0);
  expect(statusTop).toBeLessThan(100);
  await expectNoSidewaysScroll(page);
  await context.close();
}, 60_000);

test('on a phone without JavaScript: Add to cart asks to log in and says why, comes back with the book; checkout pays with the test card', async () => {
  const context = await newContext({ width: 390, javaScript: false });
  const page = await context.newPage();
  await page.goto('/catalog?q=great+expectations');
  await page.getByRole('link', { name: 'Great Expectations', exact: true }).click();
  await page.getByRole('heading', { name: 'Great Expectations' }).waitFor();
  await expectNoSidewaysScroll(page);
  await page.getByRole('button', { name: 'Add to cart' }).click();
  await page.waitForURL(/\/login\?next=%2Fcart$/);
  await page.getByText('Log in to add this book to your cart — it will be added right after.').waitFor();
  await logIn(page, anne);
  await page.waitForURL(/\/cart$/);
  await page.locator('#cart').getByRole('link', { name: 'Great Expectations' }).waitFor();
  expect(await page.locator('#cart-badge').textContent()).toBe('Cart 1 item');
  await expectNoSidewaysScroll(page);

  await page.getByRole('link', { name: 'Checkout' }).click();
  await page.waitForURL(/\/checkout$/);
  await page.getByLabel(/Servientrega/).check();
  await expectNoSidewaysScroll(page);
  await page.getByRole('button', { name: /Place order/ }).click();
  await page.waitForURL(/\/orders\/ord_[a-z2-7]{24}\/pay$/);
  // Without JavaScript the total is the order's, with the carrier chosen: $22.50 + $15.00.
  await page.getByRole('button', { name: 'Pay $37.50' }).waitFor();
  await expectNoSidewaysScroll(page);
  await fillCard(page, '4242 4242 4242 4242');
  await page.getByRole('button', { name: 'Pay $37.50' }).click();
  await page.waitForURL(/\/orders\/ord_[a-z2-7]{24}\?placed=1$/);
  await page.getByText('Thank you!').waitFor();
  expect(await page.locator('#order .status').innerText()).toBe('Paid');
  expect(await page.locator('#cart-badge').textContent()).toBe('Cart');
  await expectNoSidewaysScroll(page);
  await context.close();
}, 60_000);

test('on a phone without JavaScript: Sell asks to log in and comes back; a cover too large keeps what was typed and states the limit', async () => {
  const context = await newContext({ width: 390, javaScript: false });
  const page = await context.newPage();
  await page.goto('/');
  await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Sell' }).click();
  await page.waitForURL(/\/login\?next=%2Fsell$/);
  await page.getByText('Log in to sell books.').waitFor();
  await logIn(page, anne);
  await page.waitForURL(/\/sell$/);
  await page.getByRole('heading', { name: 'My books' }).waitFor();

  await page.getByRole('link', { name: 'Add a book' }).first().click();
  await page.waitForURL(/\/sell\/new$/);
  await page.getByText('At most 2 MB.').waitFor(); // the limit is said before a file is chosen
  const typed = { Title: 'The Naval Captain', Author: 'Anne Elliot', Description: 'Letters from Bath.', 'Price ($)': '14.50', 'Copies in stock': '2' };
  for (const [label, value] of Object.entries(typed)) await page.getByLabel(label, { exact: true }).fill(value);
  const photo = Buffer.alloc(3 * 1024 * 1024, 7);
  await page.getByLabel(/JPEG, PNG or WebP image/).setInputFiles({ name: 'photo.png', mimeType: 'image/png', buffer: photo });
  await page.getByRole('button', { name: 'Add book' }).click();
  await page.getByText('The image is 3 MB: a cover can be at most 2 MB.').waitFor();
  for (const [label, value] of Object.entries(typed)) expect(await page.getByLabel(label, { exact: true }).inputValue()).toBe(value);
  expect(await page.evaluate(() => document.activeElement?.id)).toBe('field-cover');
  await expectNoSidewaysScroll(page);

  // Without the cover, the same form adds the book.
  await page.getByRole('button', { name: 'Add book' }).click();
  await page.getByText('Your book is in the catalog.').waitFor();
  await page.locator('#seller-books').getByRole('link', { name: 'The Naval Captain', exact: true }).waitFor();
  await context.close();
}, 60_000);

test('with JavaScript, the next page of the catalog comes in at the top of the results', async () => {
  const context = await newContext({ width: 1366, javaScript: true });
  const page = await context.newPage();
  await page.goto('/catalog');
  await page.evaluate(() => window.scrollTo(0, document.body.scrollHeight));
  await page.getByRole('link', { name: 'Next page' }).click();
  await page.waitForURL(/\/catalog\?page=2$/);
  await page.locator('#results-status').getByText(/page 2 of/).waitFor();
  await page.waitForFunction(() => Math.abs(document.querySelector('#results-status')!.getBoundingClientRect().top) < 40);
  await context.close();
}, 60_000);

/**
 * Every page at one width, as a visitor, a customer (a cart, an order, her books) and an admin:
 * axe-core's serious and critical findings, sideways scrolling on a phone, and a screenshot of each.
 */
async function auditEveryPage(width: 390 | 1366) {
  const context = await newContext({ width, javaScript: true });
  const page = await context.newPage();
  const check = (name: string) => audit.check(page, name, width);

  await page.goto('/');
  await check('home');
  await page.goto('/catalog');
  await check('catalog');
  await page.goto('/catalog?q=austen');
  await check('search');
  await page.getByRole('link', { name: 'Persuasion', exact: true }).click();
  await page.getByRole('heading', { name: 'Persuasion' }).waitFor();
  await check('book');
  await page.goto('/catalog?q=emma');
  await page.getByRole('link', { name: 'Emma', exact: true }).click();
  await page.getByText('Out of stock: this book cannot be bought right now.').waitFor();
  await check('book-out-of-stock');
  await page.goto('/login?next=%2Fsell');
  await check('login');
  await logIn(page, { email: alice.email, password: 'not-her-password' });
  await page.getByText('Email or password is incorrect').waitFor();
  await check('login-error');
  await page.goto('/register');
  await check('register');
  await page.getByLabel('Name').fill('Walter Elliot');
  await page.getByLabel('Email').fill('walter@example.test');
  await page.getByLabel(/Password/).fill('short');
  await page.getByRole('button', { name: 'Register' }).click();
  await page.locator('.field-error').first().waitFor();
  await check('register-error');
  await page.goto('/shipping');
  await check('shipping');
  await page.goto('/no-such-page');
  await check('not-found');

  await page.goto('/login');
  await logIn(page, alice);
  await page.waitForURL(/\/$/);
  if (width === 390) {
    await page.locator('#account-menu summary').click();
    await check('account-menu');
  }
  // A book the admin sells: her sale is on the admin's "My sales" below.
  await page.goto('/catalog?q=northanger');
  await page.getByRole('link', { name: 'Northanger Abbey', exact: true }).click();
  await page.getByRole('button', { name: 'Add to cart' }).click();
  await page.getByText('Added to your cart.').waitFor();
  await check('book-added');
  await page.goto('/cart');
  await check('cart');
  await page.getByRole('link', { name: 'Checkout' }).click();
  await page.waitForURL(/\/checkout$/);
  await check('checkout');
  await page.getByRole('button', { name: /Place order/ }).click();
  await page.waitForURL(/\/pay$/);
  await check('payment');
  await fillCard(page, '4242 4242 4242 4241');
  await page.getByRole('button', { name: /^Pay/ }).click();
  await page.getByText('This card number is not valid').waitFor();
  await check('payment-error');
  await fillCard(page, '4242 4242 4242 4242');
  await page.getByRole('button', { name: /^Pay/ }).click();
  await page.getByText('Thank you!').waitFor();
  await check('order');
  await page.goto('/orders');
  await check('orders');
  await page.goto('/sell');
  await check('sell');
  await page.goto('/sell/new');
  await check('sell-new');
  await page.getByLabel('Title', { exact: true }).fill('Kellynch Hall');
  await page.getByLabel('Author', { exact: true }).fill('Walter Elliot');
  await page.getByLabel('Price ($)').fill('abc');
  await page.getByLabel('Copies in stock').fill('1');
  await page.getByLabel(/JPEG, PNG or WebP image/).setInputFiles({ name: 'photo.png', mimeType: 'image/png', buffer: Buffer.alloc(3 * 1024 * 1024, 7) });
  await page.getByRole('button', { name: 'Add book' }).click();
  await page.getByText('The price must be a number, like 12.50.').waitFor();
  await page.getByText('a cover can be at most 2 MB').waitFor();
  await check('sell-errors');
  await page.goto('/account');
  await check('account');
  await logOut(page);

  await page.goto('/login');
  await logIn(page, admin);
  await page.waitForURL(/\/$/);
  await page.goto('/sales');
  await check('sales');
  for (const path of ['/admin/users', '/admin/actions', '/admin/orders']) {
    await page.goto(path);
    await check(path.slice(1).replace('/', '-'));
  }
  await context.close();
}

test('every page at 1366 px: no serious or critical axe finding; screenshots', async () => {
  await auditEveryPage(1366);
}, 120_000);

test('every page at 390 px: no serious or critical axe finding, nothing scrolls sideways; screenshots', async () => {
  await auditEveryPage(390);
}, 120_000);

test('the pages audited have no serious or critical axe finding and none scrolls sideways on a phone', () => {
  expect(audit.problems).toEqual([]);
});

test('no page logged a server error', () => {
  expect(logs.filter((line) => line.includes('"level":"error"'))).toEqual([]);
});
