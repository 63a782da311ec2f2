/** Book covers through the API: checked by content, re-encoded, stored by content hash, served for a year, shared by replicas. */
import { afterAll, beforeAll, expect, test } from 'bun:test';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { join } from 'node:path';
import { deflateSync } from 'node:zlib';
import sharp from 'sharp';
import { bearer, eventually, testServiceToken } from '@bookstore/shared/testing/http';
import type { ServedTestAuth } from '../../auth/test/support.ts';
import type { BookJson } from '../src/schemas.ts';
import { startCatalogWithSeller, startTestCatalog, type TestCatalog } from './support.ts';
import { pngChunk } from './png.ts';

let auth: ServedTestAuth;
let catalog: TestCatalog;
let seller: string;
let close: () => Promise<void>;
beforeAll(async () => ({ auth, catalog, seller, close } = await startCatalogWithSeller()));
afterAll(async () => {
  await close();
  rmSync(catalog.uploadsDir, { recursive: true, force: true });
});

// --- images ------------------------------------------------------------------------------------


type Bytes = Uint8Array<ArrayBuffer>;

/** A valid 1x1 RGBA PNG of the given colour: a real PNG, but too small to be a cover. */
function png([r, g, b, a]: [number, number, number, number]): Bytes {
  const header = new Uint8Array(13);
  const view = new DataView(header.buffer);
  view.setUint32(0, 1); // width
  view.setUint32(4, 1); // height
  header.set([8, 6, 0, 0, 0], 8); // 8 bits, RGBA, deflate, no filter method, no interlace
  const pixels = deflateSync(Uint8Array.from([0, r, g, b, a])); // one scanline: filter type 0, one pixel
  return new Uint8Array(
    Buffer.concat([
      Uint8Array.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
      pngChunk('IHDR', header),
      pngChunk('IDAT', pixels),
      pngChunk('IEND', new Uint8Array()),
    ]),
  );
}

let colours = 0;
/** A 200 × 300 image of a colour no other test uploads, in `format`: a different colour is a different file. */
async function image(format: 'png' | 'jpeg' | 'webp' = 'png'): Promise<Bytes> {
  const n = ++colours;
  const picture = sharp({ create: { width: 200, height: 300, channels: 3, background: { r: n % 256, g: (n * 7) % 256, b: 0x80 } } });
  return new Uint8Array(await picture.toFormat(format).toBuffer());
}

// --- calls ---------------------------------------------------------------------------------------

function coverForm(bytes: Bytes, name = 'x.png', type = 'image/png'): FormData {
  const form = new FormData();
  form.set('cover', new File([bytes], name, { type }));
  return form;
}

function putCover(bookId: number, body: FormData, token = seller, app = catalog.app): Promise<Response> {
  return Promise.resolve(app.request(`/api/books/${bookId}/cover`, { method: 'PUT', headers: bearer(token), body }));
}

/** Uploads a cover that must be accepted; returns the book as answered. */
async function upload(bookId: number, bytes: Bytes, name = 'x.png', type = 'image/png', token = seller): Promise<BookJson> {
  const response = await putCover(bookId, coverForm(bytes, name, type), token);
  expect(response.status).toBe(200);
  return (await response.json()) as BookJson;
}

async function getBook(id: number, app = catalog.app): Promise<BookJson> {
  const response = await app.request(`/api/books/${id}`);
  expect(response.status).toBe(200);
  return (await response.json()) as BookJson;
}

async function expectProblem(response: Response, status: number): Promise<string> {
  expect(response.status).toBe(status);
  expect(response.headers.get('content-type')).toContain('application/problem+json');
  const problem = (await response.json()) as { status: number; detail: string };
  expect(problem.status).toBe(status);
  return problem.detail;
}

const fileOf = (coverUrl: string | null) => {
  expect(coverUrl).toMatch(/^\/covers\/[0-9a-f]{40}\.webp$/);
  return coverUrl!.slice('/covers/'.length);
};

/** The cover as stored: what every replica serves. */
const storedBytes = (coverUrl: string | null) => new Uint8Array(readFileSync(join(catalog.uploadsDir, fileOf(coverUrl))));

// --- tests -------------------------------------------------------------------------------------

test('a PNG cover is stored re-encoded (WebP) under its content hash and served with a year of immutable caching', async () => {
  const book = await catalog.addBook(seller);
  expect(book.coverUrl).toBeNull();
  const bytes = await image();

  const updated = await upload(book.id, bytes);
  expect(updated.id).toBe(book.id);
  const name = fileOf(updated.coverUrl);
  expect((await getBook(book.id)).coverUrl).toBe(updated.coverUrl);

  const served = await catalog.app.request(updated.coverUrl!);
  expect(served.status).toBe(200);
  expect(served.headers.get('content-type')).toBe('image/webp');
  const caching = served.headers.get('cache-control') ?? '';
  expect(caching).toContain('immutable');
  expect(caching).toContain('max-age=31536000');
  const servedBytes = new Uint8Array(await served.arrayBuffer());
  expect(servedBytes).not.toEqual(bytes); // re-encoded, never the bytes as sent

  const stored = join(catalog.uploadsDir, name);
  expect(existsSync(stored)).toBe(true);
  expect(new Uint8Array(readFileSync(stored))).toEqual(servedBytes);
  expect(name.slice(0, 40)).toBe(createHash('sha256').update(servedBytes).digest('hex').slice(0, 40));
  expect(await sharp(servedBytes).metadata()).toMatchObject({ format: 'webp', width: 200, height: 300 });
  // Written to a temporary name and renamed: nothing half-written is left behind.
  expect(readdirSync(catalog.uploadsDir).filter((file) => file.endsWith('.tmp'))).toEqual([]);
});

test('the same image for another book is the same file; JPEG and WebP are accepted too (stored as WebP)', async () => {
  const [first, second, third] = [await catalog.addBook(seller), await catalog.addBook(seller), await catalog.addBook(seller)];
  const bytes = await image();
  const a = await upload(first.id, bytes, 'front.png');
  const b = await upload(second.id, bytes, 'another-name.png');
  expect(b.coverUrl).toBe(a.coverUrl!);
  const c = await upload(third.id, await image());
  expect(c.coverUrl).not.toBe(a.coverUrl!); // a different image is a different file
  expect(readdirSync(catalog.uploadsDir).filter((file) => file === fileOf(a.coverUrl))).toHaveLength(1);

  const jpegBook = await catalog.addBook(seller);
  const withJpeg = await upload(jpegBook.id, await image('jpeg'), 'photo.jpeg', 'image/jpeg');

  const webpBook = await catalog.addBook(seller);
  const withWebp = await upload(webpBook.id, await image('webp'), 'art.webp', 'image/webp');

  for (const url of [withJpeg.coverUrl, withWebp.coverUrl]) {
    const served = await catalog.app.request(url!);
    expect(served.status).toBe(200);
    expect(served.headers.get('content-type')).toBe('image/webp');
    expect(new Uint8Array(await served.arrayBuffer())).toEqual(storedBytes(url));
  }
});

test('the type comes from the content: PNG bytes named notes.txt are a cover', async () => {
  const book = await catalog.addBook(seller);
  const updated = await upload(book.id, await image(), 'notes.txt', 'text/plain');
  expect(updated.coverUrl).toMatch(/^\/covers\/[0-9a-f]{40}\.webp$/);
});

test('a real PNG of 1 × 1 pixel is refused with 400: too small to be a cover', async () => {
  const book = await catalog.addBook(seller);
  const detail = await expectProblem(await putCover(book.id, coverForm(png([1, 2, 3, 4]))), 400);
  expect(detail).toContain('too small');
  expect((await getBook(book.id)).coverUrl).toBeNull();
});

test('a text file renamed cover.png is refused with 415 and the cover stays what it was', async () => {
  const book = await catalog.addBook(seller);
  const before = await upload(book.id, await image());
  expect(before.coverUrl).not.toBeNull();
  const filesBefore = readdirSync(catalog.uploadsDir).sort();

  const text = new TextEncoder().encode('This is not an image, whatever its name says.\n');
  const detail = await expectProblem(await putCover(book.id, coverForm(text, 'cover.png', 'image/png')), 415);
  expect(detail).toContain('JPEG, PNG or WebP');

  expect((await getBook(book.id)).coverUrl).toBe(before.coverUrl);
  expect(readdirSync(catalog.uploadsDir).sort()).toEqual(filesBefore);
});

test('an empty file is refused with 400', async () => {
  const book = await catalog.addBook(seller);
  await expectProblem(await putCover(book.id, coverForm(new Uint8Array(), 'empty.png')), 400);
  expect((await getBook(book.id)).coverUrl).toBeNull();
});

test('a cover over the limit is refused with 413', async () => {
  const book = await catalog.addBook(seller);
  const big = new Uint8Array(300 * 1024).fill(7);
  big.set(png([1, 2, 3, 4]).subarray(0, 8)); // a PNG signature, so only the size is wrong
  expect(big.length).toBeGreaterThan(256 * 1024);
  const filesBefore = readdirSync(catalog.uploadsDir).sort();

  const detail = await expectProblem(await putCover(book.id, coverForm(big, 'big.png')), 413);
  expect(detail).toContain('256 KiB');

  expect((await getBook(book.id)).coverUrl).toBeNull();
  expect(readdirSync(catalog.uploadsDir).sort()).toEqual(filesBefore);
});

test("another seller cannot change a book's cover (403); an admin can", async () => {
  const book = await catalog.addBook(seller);
  const original = await upload(book.id, await image());

  const other = await auth.signUp('Other Seller');
  await expectProblem(await putCover(book.id, coverForm(await image()), other.token), 403);
  expect((await getBook(book.id)).coverUrl).toBe(original.coverUrl);

  const admin = await auth.signUp('Admin', 'admin');
  const byAdmin = await upload(book.id, await image(), 'x.png', 'image/png', admin.token);
  expect(byAdmin.coverUrl).toMatch(/^\/covers\/[0-9a-f]{40}\.webp$/);
  expect(byAdmin.coverUrl).not.toBe(original.coverUrl);
  expect(byAdmin.sellerId).toBe(original.sellerId); // still the seller's book
  expect((await getBook(book.id)).coverUrl).toBe(byAdmin.coverUrl);
});

test('a form without a "cover" file is refused with 400', async () => {
  const book = await catalog.addBook(seller);

  const otherField = new FormData();
  otherField.set('image', new File([await image()], 'x.png', { type: 'image/png' }));
  const detail = await expectProblem(await putCover(book.id, otherField), 400);
  expect(detail.length).toBeGreaterThan(5);

  const textField = new FormData();
  textField.set('cover', 'x.png');
  await expectProblem(await putCover(book.id, textField), 400);

  expect((await getBook(book.id)).coverUrl).toBeNull();
});

test('a second replica on the same database and uploads volume serves the same cover', async () => {
  const book = await catalog.addBook(seller);
  const bytes = await image();
  const updated = await upload(book.id, bytes);

  const replica = await startTestCatalog(auth.url, { databaseUrl: catalog.url, uploadsDir: catalog.uploadsDir });
  try {
    expect(replica.app).not.toBe(catalog.app);
    expect((await getBook(book.id, replica.app)).coverUrl).toBe(updated.coverUrl);
    const served = await replica.app.request(updated.coverUrl!);
    expect(served.status).toBe(200);
    expect(served.headers.get('content-type')).toBe('image/webp');
    expect(served.headers.get('cache-control')).toContain('immutable');
    expect(new Uint8Array(await served.arrayBuffer())).toEqual(storedBytes(updated.coverUrl));
  } finally {
    await replica.close();
  }
  // Closing the replica left the shared database to the first app.
  expect((await getBook(book.id)).coverUrl).toBe(updated.coverUrl);
});

test('path tricks and unknown cover names answer 404', async () => {
  // Files that exist in (or next to) the uploads directory but are not covers.
  writeFileSync(join(catalog.uploadsDir, 'notes.txt'), 'not a cover');
  mkdirSync(join(catalog.uploadsDir, 'sub'), { recursive: true });
  writeFileSync(join(catalog.uploadsDir, 'sub', `${'b'.repeat(40)}.png`), png([9, 9, 9, 9]));
  const hidden = `.${'c'.repeat(40)}.png.0000.tmp`;
  writeFileSync(join(catalog.uploadsDir, hidden), png([8, 8, 8, 8]));

  const names = [
    '/covers/../../etc/passwd',
    '/covers/..%2F..%2F..%2Fetc%2Fpasswd',
    '/covers/%2e%2e%2f%2e%2e%2fetc%2fpasswd',
    '/covers/..%5C..%5Cetc%5Cpasswd',
    '/covers/%2Fetc%2Fpasswd',
    '/covers/notes.txt',
    `/covers/sub%2F${'b'.repeat(40)}.png`,
    `/covers/${encodeURIComponent(hidden)}`,
    `/covers/${'a'.repeat(40)}.png`, // the right shape, no such file
    `/covers/${'a'.repeat(40)}.gif`,
    `/covers/${'A'.repeat(40)}.PNG`,
    '/covers/',
    '/covers/nothing.png',
  ];
  for (const name of names) {
    const response = await catalog.app.request(name);
    expect({ name, status: response.status }).toEqual({ name, status: 404 });
    expect(response.headers.get('content-type')).toContain('application/problem+json');
    expect(await response.text()).not.toContain('root:');
  }
});

test('a second catalog process on the same database and uploads directory serves the same cover', async () => {
  const book = await catalog.addBook(seller);
  const bytes = await image();
  const updated = await upload(book.id, bytes);
  const port = 41_000 + Math.floor(Math.random() * 2000);
  const second = Bun.spawn(['bun', join(import.meta.dir, '../src/main.ts')], {
    env: { ...process.env, PORT: String(port), DATABASE_URL: catalog.url, UPLOADS_DIR: catalog.uploadsDir, AUTH_URL: auth.url, SERVICE_TOKEN: testServiceToken, LOG_LEVEL: 'warn' },
    stdout: 'ignore',
    stderr: 'ignore',
  });
  try {
    const base = `http://127.0.0.1:${port}`;
    const live = await eventually(async () => (await fetch(`${base}/health/live`).catch(() => null))?.ok === true, 15_000, 100);
    expect(live).not.toBeNull();
    const fromSecond = (await (await fetch(`${base}/api/books/${book.id}`)).json()) as BookJson;
    expect(fromSecond.coverUrl).toBe(updated.coverUrl);
    const served = await fetch(`${base}${updated.coverUrl}`);
    expect(served.status).toBe(200);
    expect(served.headers.get('cache-control')).toContain('max-age=31536000');
    expect(new Uint8Array(await served.arrayBuffer())).toEqual(storedBytes(updated.coverUrl));
  } finally {
    second.kill('SIGTERM');
    await second.exited;
  }
});
