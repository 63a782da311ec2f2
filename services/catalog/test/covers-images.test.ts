/** Covers are decoded with limits and re-encoded without metadata, in two sizes; unused ones are removed; uploads are rate limited. */
import { afterAll, beforeAll, expect, test } from 'bun:test';
import { existsSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { deflateSync } from 'node:zlib';
import sharp from 'sharp';
import { createMemoryLogger } from '@bookstore/shared/log';
import { bearer, jsonInit, testServiceToken } from '@bookstore/shared/testing/http';
import { testVerifier } from '@bookstore/shared/testing/token-check';
import type { ServedTestAuth } from '../../auth/test/support.ts';
import { createApp } from '../src/app.ts';
import { cardFileOf, encodeCover, keepCoverStored, removeUnusedCover, storeCover } from '../src/covers.ts';
import type { BookJson } from '../src/schemas.ts';
import { startCatalogWithSeller, type TestCatalog } from './support.ts';
import { pngChunk } from './png.ts';

let auth: ServedTestAuth;
let catalog: TestCatalog;
let seller: string;
let close: () => Promise<void>;
beforeAll(async () => ({ auth, catalog, seller, close } = await startCatalogWithSeller({ maxCoverBytes: 2 * 1024 * 1024 })));
afterAll(async () => {
  await close();
  rmSync(catalog.uploadsDir, { recursive: true, force: true });
});

// --- images ------------------------------------------------------------------------------------

let colours = 0;
/** A real image no other test uploads: a flat colour, `width` × `height`, in `format`. */
async function image(format: 'png' | 'jpeg' | 'webp' = 'png', width = 400, height = 600): Promise<Uint8Array<ArrayBuffer>> {
  const n = ++colours;
  const picture = sharp({ create: { width, height, channels: 3, background: { r: (n * 37) % 256, g: (n * 91) % 256, b: (n * 53) % 256 } } });
  return new Uint8Array(await picture.toFormat(format).toBuffer());
}

/** A JPEG as a phone takes it: EXIF with GPS coordinates and the camera, rotated by an orientation tag. */
async function photoWithGps(): Promise<Uint8Array<ArrayBuffer>> {
  const n = ++colours;
  const bytes = await sharp({ create: { width: 600, height: 400, channels: 3, background: { r: n % 256, g: 120, b: 30 } } })
    .jpeg()
    .withExif({
      IFD0: { Make: 'PhoneMaker', Model: 'Phone 12', Copyright: 'Jane Doe, 12 Secret Street' },
      IFD3: { GPSLatitudeRef: 'N', GPSLatitude: '48/1 51/1 2400/100', GPSLongitudeRef: 'E', GPSLongitude: '2/1 21/1 300/100' },
    })
    .withMetadata({ orientation: 6 }) // "rotate 90° clockwise to view": shown 400 wide, 600 high
    .toBuffer();
  return new Uint8Array(bytes);
}


/** A decompression bomb: a small PNG whose header declares `side` × `side` RGBA pixels (3.6 GB at 30000). */
function pngBomb(side: number): Uint8Array<ArrayBuffer> {
  const header = new Uint8Array(13);
  const view = new DataView(header.buffer);
  view.setUint32(0, side);
  view.setUint32(4, side);
  header.set([8, 6, 0, 0, 0], 8);
  const rows = deflateSync(new Uint8Array(200 * (1 + side * 4)), { level: 9 }); // the first 200 rows of zeros
  return new Uint8Array(
    Buffer.concat([Uint8Array.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]), pngChunk('IHDR', header), pngChunk('IDAT', rows), pngChunk('IEND', new Uint8Array())]),
  );
}

// --- calls ---------------------------------------------------------------------------------------

function coverForm(bytes: Uint8Array<ArrayBuffer>, name = 'x.png', type = 'image/png'): FormData {
  const form = new FormData();
  form.set('cover', new File([bytes], name, { type }));
  return form;
}

function putCover(bookId: number, bytes: Uint8Array<ArrayBuffer>, options: { name?: string; type?: string; token?: string; app?: { request: TestCatalog['app']['request'] } } = {}): Promise<Response> {
  const app = options.app ?? catalog.app;
  return Promise.resolve(app.request(`/api/books/${bookId}/cover`, { method: 'PUT', headers: bearer(options.token ?? seller), body: coverForm(bytes, options.name, options.type) }));
}

async function upload(bookId: number, bytes: Uint8Array<ArrayBuffer>, name?: string): Promise<BookJson> {
  const response = await putCover(bookId, bytes, { name });
  expect({ status: response.status, body: response.status === 200 ? '' : await response.text() }).toEqual({ status: 200, body: '' });
  return (await response.json()) as BookJson;
}

async function expectProblem(response: Response, status: number): Promise<string> {
  expect(response.status).toBe(status);
  expect(response.headers.get('content-type')).toContain('application/problem+json');
  return ((await response.json()) as { detail: string }).detail;
}

async function served(url: string): Promise<Buffer> {
  const response = await catalog.app.request(url);
  expect(response.status).toBe(200);
  return Buffer.from(await response.arrayBuffer());
}

/** The cover files of the catalog's listing and a book's page, as their fragments show them. */
async function coverSources(path: string): Promise<string[]> {
  const response = await catalog.app.request(path);
  expect(response.status).toBe(200);
  return [...(await response.text()).matchAll(/<img class="cover[^"]*" src="([^"]+)"/g)].map((match) => match[1]!);
}

const fileOf = (url: string) => url.slice('/covers/'.length);
const files = () => readdirSync(catalog.uploadsDir).filter((name) => !name.startsWith('.')).sort();

// --- tests -------------------------------------------------------------------------------------

test('a photo comes back re-encoded, turned upright, without any metadata (no EXIF, no GPS)', async () => {
  const book = await catalog.addBook(seller);
  const photo = await photoWithGps();
  const sent = await sharp(photo).metadata();
  expect(sent.exif).toBeDefined(); // the test image does carry them
  expect(sent.orientation).toBe(6);

  const updated = await upload(book.id, photo, 'holiday.jpg');
  const stored = await served(updated.coverUrl!);
  const kept = await sharp(stored).metadata();
  expect(kept.exif).toBeUndefined();
  expect(kept.xmp).toBeUndefined();
  expect(kept.iptc).toBeUndefined();
  expect(kept.icc).toBeUndefined();
  expect(kept.orientation).toBeUndefined();
  expect({ width: kept.width, height: kept.height }).toEqual({ width: 400, height: 600 }); // upright
  expect(stored.includes(Buffer.from('Secret Street'))).toBe(false);
  expect(stored.includes(Buffer.from('PhoneMaker'))).toBe(false);
  expect(Buffer.from(photo).equals(stored)).toBe(false);
});

test('a decompression bomb (a PNG declaring 30000 × 30000) is refused at once, without decoding it', async () => {
  const book = await catalog.addBook(seller);
  const bomb = pngBomb(30_000);
  expect(bomb.length).toBeLessThan(2 * 1024 * 1024);
  const before = files();
  const rssBefore = process.memoryUsage.rss();
  const started = performance.now();

  const detail = await expectProblem(await putCover(book.id, bomb, { name: 'bomb.png' }), 400);
  expect(performance.now() - started).toBeLessThan(2000);
  expect(process.memoryUsage.rss() - rssBefore).toBeLessThan(200 * 1024 * 1024);
  expect(detail).toContain('6000');
  expect(files()).toEqual(before);
});

test('too small an image is refused with 400', async () => {
  const book = await catalog.addBook(seller);
  const detail = await expectProblem(await putCover(book.id, await image('png', 10, 10)), 400);
  expect(detail).toContain('too small');
});

test('bytes that only look like a PNG (the signature, then anything) are refused with 415, whatever the name and type say', async () => {
  const book = await catalog.addBook(seller);
  const fake = new Uint8Array(4096).fill(0x41);
  fake.set([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
  const before = files();
  const detail = await expectProblem(await putCover(book.id, fake, { name: 'cover.png', type: 'image/png' }), 415);
  expect(detail).toContain('JPEG, PNG or WebP');
  const text = new TextEncoder().encode('Not an image at all.\n'.repeat(20));
  await expectProblem(await putCover(book.id, text, { name: 'cover.png', type: 'image/png' }), 415);
  const gif = new Uint8Array(await sharp({ create: { width: 100, height: 100, channels: 3, background: 'red' } }).gif().toBuffer());
  await expectProblem(await putCover(book.id, gif, { name: 'cover.png', type: 'image/png' }), 415);
  expect(files()).toEqual(before);
});

test('a cover is stored at full size (at most 1600 px) and card size (320 px wide); listings show the card, the book page the full size', async () => {
  const book = await catalog.addBook(seller, { title: 'Card Size Test' });
  const updated = await upload(book.id, await image('png', 2000, 3000));
  expect(updated.coverUrl).toMatch(/^\/covers\/[0-9a-f]{40}\.webp$/);

  const full = await sharp(await served(updated.coverUrl!)).metadata();
  expect({ format: full.format, width: full.width, height: full.height }).toEqual({ format: 'webp', width: 1067, height: 1600 });

  const [cardUrl] = await coverSources(`/fragments/catalog?q=${encodeURIComponent('Card Size Test')}`);
  expect(cardUrl).toMatch(/^\/covers\/[0-9a-f]{40}\.webp$/); // the web front's proxy takes this name
  expect(cardUrl).not.toBe(updated.coverUrl);
  const card = await sharp(await served(cardUrl!)).metadata();
  expect({ format: card.format, width: card.width, height: card.height }).toEqual({ format: 'webp', width: 320, height: 480 });
  expect(existsSync(join(catalog.uploadsDir, fileOf(cardUrl!)))).toBe(true);

  expect(await coverSources(`/fragments/books/${book.id}`)).toEqual([updated.coverUrl!]);
  // Small images are not enlarged.
  const small = await upload((await catalog.addBook(seller)).id, await image('jpeg', 200, 300));
  expect((await sharp(await served(small.coverUrl!)).metadata()).width).toBe(200);
});

test("a replaced cover's files are removed; files another book still shows stay until it lets go too", async () => {
  const [first, second] = [await catalog.addBook(seller, { title: 'Shared Cover One' }), await catalog.addBook(seller, { title: 'Shared Cover Two' })];
  const alone = await upload(first.id, await image());
  const [aloneCard] = await coverSources(`/fragments/catalog?q=${encodeURIComponent('Shared Cover One')}`);
  const aloneFiles = [fileOf(alone.coverUrl!), fileOf(aloneCard!)];
  for (const name of aloneFiles) expect(existsSync(join(catalog.uploadsDir, name))).toBe(true);

  const sharedImage = await image();
  const replaced = await upload(first.id, sharedImage);
  for (const name of aloneFiles) expect(existsSync(join(catalog.uploadsDir, name))).toBe(false);

  await upload(second.id, sharedImage);
  const [sharedCard] = await coverSources(`/fragments/catalog?q=${encodeURIComponent('Shared Cover Two')}`);
  const sharedFiles = [fileOf(replaced.coverUrl!), fileOf(sharedCard!)];
  await upload(first.id, await image()); // the first book lets go; the second still shows it
  for (const name of sharedFiles) expect(existsSync(join(catalog.uploadsDir, name))).toBe(true);
  expect((await served(replaced.coverUrl!)).length).toBeGreaterThan(0);

  // Deleting the second book (never ordered: deleted outright) lets go of the last reference.
  expect((await catalog.app.request(`/api/books/${second.id}`, { method: 'DELETE', headers: bearer(seller) })).status).toBe(204);
  for (const name of sharedFiles) expect(existsSync(join(catalog.uploadsDir, name))).toBe(false);
});

test('a book retired with order history lets go of its cover too', async () => {
  const book = await catalog.addBook(seller, { title: 'Retired With Cover' });
  const updated = await upload(book.id, await image());
  const reserved = await catalog.asService('/api/reservations', 'POST', { orderId: `order-${crypto.randomUUID()}`, items: [{ bookId: book.id, quantity: 1 }] });
  expect(reserved.status).toBe(201);
  expect((await catalog.app.request(`/api/books/${book.id}`, { method: 'DELETE', headers: bearer(seller) })).status).toBe(204);
  expect(existsSync(join(catalog.uploadsDir, fileOf(updated.coverUrl!)))).toBe(false);
});

test('cover uploads are limited per user and hour: then 429 with Retry-After, for the API and the form', async () => {
  const { verifier } = testVerifier(auth.url);
  const limited = createApp({
    orm: catalog.orm,
    verifier,
    log: createMemoryLogger('catalog'),
    config: { SERVICE_TOKEN: testServiceToken, UPLOADS_DIR: catalog.uploadsDir, MAX_COVER_BYTES: 2 * 1024 * 1024, COVER_UPLOADS_PER_HOUR: 2 },
  });
  try {
    const uploader = (await auth.signUp('Busy Seller')).token;
    const response = await limited.request('/api/books', jsonInit('POST', { title: 'Limited', author: 'A', description: '', priceCents: 100, stock: 1 }, bearer(uploader)));
    const book = (await response.json()) as BookJson;
    for (let n = 0; n < 2; n++) expect((await putCover(book.id, await image(), { token: uploader, app: limited })).status).toBe(200);

    const refused = await putCover(book.id, await image(), { token: uploader, app: limited });
    const detail = await expectProblem(refused, 429);
    expect(detail).toContain('2 cover uploads per hour');
    const retryAfter = Number(refused.headers.get('retry-after'));
    expect(retryAfter).toBeGreaterThan(3500);
    expect(retryAfter).toBeLessThanOrEqual(3600);

    const form = await limited.request(`/fragments/sell/${book.id}/cover`, { method: 'POST', headers: bearer(uploader), body: coverForm(await image()) });
    expect(form.status).toBe(429);
    expect(form.headers.get('retry-after')).not.toBeNull();
    expect(await form.text()).toContain('cover uploads per hour');

    // Another user has their own allowance; the limit is in the database, shared by every replica.
    const other = (await auth.signUp('Calm Seller')).token;
    const otherBook = await catalog.addBook(other);
    expect((await putCover(otherBook.id, await image(), { token: other, app: limited })).status).toBe(200);
  } finally {
    verifier.stop();
  }
});

test('a cover whose files another book removed just before the commit is written again after it', async () => {
  const cover = await encodeCover(await image());
  const file = await storeCover(catalog.uploadsDir, cover);
  // Another book let go of the same image between storeCover and the commit: its files went.
  for (const name of [file, cardFileOf(file)]) rmSync(join(catalog.uploadsDir, name));
  await keepCoverStored(catalog.uploadsDir, file, cover);
  expect(new Uint8Array(readFileSync(join(catalog.uploadsDir, file)))).toEqual(new Uint8Array(cover.full));
  expect(new Uint8Array(readFileSync(join(catalog.uploadsDir, cardFileOf(file))))).toEqual(new Uint8Array(cover.card));
  // Nobody shows it: the clean-up removes both.
  await removeUnusedCover(catalog.orm.em.fork(), catalog.uploadsDir, file);
  expect(existsSync(join(catalog.uploadsDir, file)) || existsSync(join(catalog.uploadsDir, cardFileOf(file)))).toBe(false);
});
