/** `cli.ts covers-backfill`: covers stored as uploaded (before re-encoding) are re-encoded, books repointed, old files removed. */
import { afterAll, beforeAll, expect, test } from 'bun:test';
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import sharp from 'sharp';
import { bearer } from '@bookstore/shared/testing/http';
import { backfillCovers, cardFileOf } from '../src/covers.ts';
import type { BookJson } from '../src/schemas.ts';
import { startCatalogWithSeller, type TestCatalog } from './support.ts';

let catalog: TestCatalog;
let seller: string;
let close: () => Promise<void>;
beforeAll(async () => ({ catalog, seller, close } = await startCatalogWithSeller({ maxCoverBytes: 2 * 1024 * 1024 })));
afterAll(async () => {
  await close();
  rmSync(catalog.uploadsDir, { recursive: true, force: true });
});

const cli = join(import.meta.dir, '../src/cli.ts');

/** Runs the command as an operator would, beside the running catalog; answers what it printed. */
function runBackfillCommand(): string {
  const run = Bun.spawnSync(['bun', cli, 'covers-backfill'], {
    env: { ...process.env, DATABASE_URL: catalog.url, UPLOADS_DIR: catalog.uploadsDir, LOG_LEVEL: 'warn' },
  });
  const stdout = run.stdout.toString();
  expect({ exitCode: run.exitCode, stderr: run.stderr.toString() }).toEqual({ exitCode: 0, stderr: '' });
  return stdout;
}

let colours = 0;
const create = (width = 600, height = 400) => sharp({ create: { width, height, channels: 3, background: { r: (++colours * 37) % 256, g: 120, b: 30 } } });
const gpsExif = {
  IFD0: { Make: 'PhoneMaker', Model: 'Phone 12', Copyright: 'Jane Doe, 12 Secret Street' },
  IFD3: { GPSLatitudeRef: 'N', GPSLatitude: '48/1 51/1 2400/100', GPSLongitudeRef: 'E', GPSLongitude: '2/1 21/1 300/100' },
};
/** A phone's photo: EXIF with GPS and the camera, turned by an orientation tag (shown 400 wide, 600 high). */
const photoWithGps = () => create().jpeg().withExif(gpsExif).withMetadata({ orientation: 6 }).toBuffer();

/** Puts `bytes` where the code before re-encoding stored an upload: as they came, named by their own hash. */
function storeAsBefore(bytes: Uint8Array, ext: 'jpg' | 'png' | 'webp'): string {
  const file = `${createHash('sha256').update(bytes).digest('hex').slice(0, 40)}.${ext}`;
  writeFileSync(join(catalog.uploadsDir, file), bytes);
  return file;
}

async function bookShowing(file: string | null): Promise<number> {
  const book = await catalog.addBook(seller);
  if (file) await catalog.orm.em.execute('update books set cover_file = ? where id = ?', [file, book.id]);
  return book.id;
}

async function coverOf(bookId: number): Promise<string | null> {
  const book = (await (await catalog.app.request(`/api/books/${bookId}`)).json()) as BookJson;
  return book.coverUrl?.slice('/covers/'.length) ?? null;
}

const stored = (file: string) => join(catalog.uploadsDir, file);
const files = () => readdirSync(catalog.uploadsDir).sort();

let converted: { photo: string; webp: string };

test('old covers are re-encoded without metadata, with card files; books follow, old files go; unreadable ones are reported and left alone', async () => {
  const photo = storeAsBefore(await photoWithGps(), 'jpg');
  const oldWebp = storeAsBefore(await create(500, 700).webp().withExif(gpsExif).toBuffer(), 'webp');
  const corruptBytes = Buffer.concat([Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]), Buffer.from('not really a picture')]);
  const corrupt = storeAsBefore(corruptBytes, 'png');
  const missing = `${'0'.repeat(40)}.jpg`;
  expect((await sharp(stored(photo)).metadata()).exif).toBeDefined(); // the old files do carry metadata
  expect((await sharp(stored(oldWebp)).metadata()).exif).toBeDefined();

  const [photoBook, samePhotoBook, webpBook, corruptBook, missingBook, uploadedBook] = [
    await bookShowing(photo),
    await bookShowing(photo),
    await bookShowing(oldWebp),
    await bookShowing(corrupt),
    await bookShowing(missing),
    await bookShowing(null),
  ];
  const form = new FormData();
  form.set('cover', new File([await create().png().toBuffer()], 'cover.png', { type: 'image/png' }));
  expect((await catalog.app.request(`/api/books/${uploadedBook}/cover`, { method: 'PUT', headers: bearer(seller), body: form })).status).toBe(200);
  const uploaded = (await coverOf(uploadedBook))!;

  const output = runBackfillCommand();
  expect(output).toContain('converted:        2 (3 books now show the new files)');
  expect(output).toContain('already fine:     1');
  expect(output).toContain('unreadable:       2 (left as they are)');
  expect(output).toContain(`${corrupt} (book ${corruptBook}): The cover must be a JPEG, PNG or WebP image`);
  expect(output).toContain(`${missing} (book ${missingBook}): the file is missing`);
  expect(output).toContain('Converted 2 covers.');

  const newPhoto = (await coverOf(photoBook))!;
  const newWebp = (await coverOf(webpBook))!;
  expect(await coverOf(samePhotoBook)).toBe(newPhoto);
  for (const file of [newPhoto, newWebp]) {
    expect(file).toMatch(/^[a-f0-9]{40}\.webp$/);
    expect(existsSync(stored(file))).toBe(true);
    const metadata = await sharp(stored(file)).metadata();
    expect({ format: metadata.format, exif: metadata.exif, xmp: metadata.xmp, icc: metadata.icc, orientation: metadata.orientation }).toEqual({ format: 'webp', exif: undefined, xmp: undefined, icc: undefined, orientation: undefined });
    expect(readFileSync(stored(file)).includes('Secret Street')).toBe(false);
    expect((await sharp(stored(cardFileOf(file))).metadata()).width).toBe(320);
  }
  expect((await sharp(stored(newPhoto)).metadata()).height).toBe(600); // turned upright
  expect(existsSync(stored(photo))).toBe(false);
  expect(existsSync(stored(oldWebp))).toBe(false);

  expect(await coverOf(corruptBook)).toBe(corrupt);
  expect(readFileSync(stored(corrupt)).equals(corruptBytes)).toBe(true);
  expect(await coverOf(missingBook)).toBe(missing);
  expect(await coverOf(uploadedBook)).toBe(uploaded);
  expect(files().filter((name) => name.startsWith('.'))).toEqual([]); // no marker, no temporary file left
  converted = { photo: newPhoto, webp: newWebp };

  const before = files();
  const again = runBackfillCommand();
  expect(again).toContain('converted:        0\n');
  expect(again).toContain('already fine:     3');
  expect(again).toContain('unreadable:       2');
  expect(again).toContain('Nothing to do: no cover changed.');
  expect(files()).toEqual(before);
  expect(await coverOf(photoBook)).toBe(newPhoto);
}, 60_000);

test('the catalog serves a converted cover and its card at /covers/<file>', async () => {
  for (const file of [converted.photo, cardFileOf(converted.photo), converted.webp]) {
    const response = await catalog.app.request(`/covers/${file}`);
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toBe('image/webp');
    expect(Buffer.from(await response.arrayBuffer()).equals(readFileSync(stored(file)))).toBe(true);
  }
});

test('a run that stopped midway is finished by the next: an old file already let go of is removed, one still shown is converted', async () => {
  const letGo = storeAsBefore(await photoWithGps(), 'jpg'); // its books were repointed, then the run stopped
  const stillShown = storeAsBefore(await create().png().toBuffer(), 'png'); // the run stopped before repointing its book
  const book = await bookShowing(stillShown);
  for (const file of [letGo, stillShown]) writeFileSync(stored(`.${file}.replaced`), '');

  const report = await backfillCovers(catalog.orm.em, catalog.uploadsDir);
  expect(report.converted.map(({ from, books }) => ({ from, books }))).toEqual([{ from: stillShown, books: 1 }]);
  expect(await coverOf(book)).toBe(report.converted[0]!.to);
  expect(existsSync(stored(letGo))).toBe(false);
  expect(existsSync(stored(stillShown))).toBe(false);
  expect(files().filter((name) => name.startsWith('.'))).toEqual([]);
});

test('the limits of an upload apply: an old cover too large to decode is reported and left alone', async () => {
  const tooWide = storeAsBefore(await create(6100, 64).png().toBuffer(), 'png');
  const book = await bookShowing(tooWide);
  const report = await backfillCovers(catalog.orm.em, catalog.uploadsDir);
  expect(report.converted).toEqual([]);
  expect(report.unreadable.find(({ file }) => file === tooWide)).toEqual({ file: tooWide, books: [book], reason: 'The cover is 6100 × 64 pixels: at most 6000 × 6000' });
  expect(await coverOf(book)).toBe(tooWide);
  expect(existsSync(stored(tooWide))).toBe(true);
});
