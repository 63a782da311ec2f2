/**
 * Book covers: decoded with limits and re-encoded (upright, no metadata) at full and card size,
 * stored under UPLOADS_DIR by content hash, shared by all replicas, removed when no book shows them;
 * the per-user limit on uploads; and the backfill that brings covers stored before all this into shape.
 */
import { createHash } from 'node:crypto';
import { mkdir, readdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import sharp from 'sharp';
import { dialectOfPlatform, transaction, type EntityManager } from '@bookstore/shared/db';
import { ProblemError } from '@bookstore/shared/errors';
import { Book, CoverUpload } from './entities.ts';

/** What a cover may be: checked on the image's header, before any pixel is decoded. */
const limits = {
  /** libvips refuses to decode more than this, whatever the header said (a second line of defence). */
  inputPixels: 40_000_000,
  maxSide: 6000,
  minSide: 64,
  /** The stored full-size cover fits in this square; the card is this wide. Never enlarged. */
  fullSide: 1600,
  cardWidth: 320,
  /** A decode that takes longer than this is given up (a crafted file, or a machine in trouble). */
  timeoutSeconds: 10,
};

// Each cover is decoded once: libvips' operation cache would only hold on to memory.
sharp.cache(false);

const signatures = [
  { format: 'jpeg', matches: (b: Uint8Array) => b[0] === 0xff && b[1] === 0xd8 && b[2] === 0xff },
  { format: 'png', matches: (b: Uint8Array) => [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a].every((v, i) => b[i] === v) },
  { format: 'webp', matches: (b: Uint8Array) => ascii(b, 0, 4) === 'RIFF' && ascii(b, 8, 12) === 'WEBP' },
] as const;

function ascii(bytes: Uint8Array, from: number, to: number): string {
  return String.fromCharCode(...bytes.subarray(from, to));
}

/** Stored covers are WebP; names of older ones (stored as uploaded) end in .jpg or .png too. */
export const coverMimeTypes: Record<string, string> = { jpg: 'image/jpeg', png: 'image/png', webp: 'image/webp' };
export const coverFileName = /^[a-f0-9]{40}\.(jpg|png|webp)$/;

const unreadable = () => new ProblemError(415, 'The cover must be a JPEG, PNG or WebP image', { errors: { cover: 'must be a JPEG, PNG or WebP image' } });

/**
 * The cover in the two sizes stored: upright (EXIF orientation applied), in sRGB, without any
 * metadata (EXIF with GPS, XMP, IPTC, ICC), as WebP. Only JPEG, PNG and WebP are decoded, by their
 * content (the magic number first, so no other decoder of libvips ever sees the bytes), and only
 * after their header's dimensions passed: a 30000 × 30000 "bomb" is refused without decoding a pixel.
 *
 * @example
 * const { full, card } = await encodeCover(new Uint8Array(await file.arrayBuffer()));
 */
export async function encodeCover(bytes: Uint8Array): Promise<{ full: Buffer; card: Buffer }> {
  const format = signatures.find((signature) => bytes.length >= 12 && signature.matches(bytes))?.format;
  if (!format) throw unreadable();
  const decoder = () => sharp(bytes, { limitInputPixels: limits.inputPixels, failOn: 'error', pages: 1 }).timeout({ seconds: limits.timeoutSeconds });
  // The header alone, read without the pixel limit (which would refuse a bomb as "unreadable"): dimensions are checked below.
  const header = await sharp(bytes, { limitInputPixels: false, pages: 1 })
    .metadata()
    .catch(() => null);
  if (!header || header.format !== format || !header.width || !header.height) throw unreadable();
  const { width, height } = header.autoOrient ?? header;
  if (width > limits.maxSide || height > limits.maxSide) {
    throw new ProblemError(400, `The cover is ${width} × ${height} pixels: at most ${limits.maxSide} × ${limits.maxSide}`, { errors: { cover: `must be at most ${limits.maxSide} × ${limits.maxSide} pixels` } });
  }
  if (width < limits.minSide || height < limits.minSide) {
    throw new ProblemError(400, `The cover is too small (${width} × ${height} pixels): at least ${limits.minSide} × ${limits.minSide}`, { errors: { cover: `is too small: at least ${limits.minSide} × ${limits.minSide} pixels` } });
  }
  // Decoded once, at full size; both files are encoded from those pixels.
  const decoded = await decoder()
    .autoOrient()
    .resize({ width: limits.fullSide, height: limits.fullSide, fit: 'inside', withoutEnlargement: true })
    .raw()
    .toBuffer({ resolveWithObject: true })
    .catch(() => {
      throw unreadable();
    });
  const pixels = () => sharp(decoded.data, { raw: decoded.info });
  const full = await pixels().webp({ quality: 82 }).toBuffer();
  const card = await pixels().resize({ width: limits.cardWidth, withoutEnlargement: true }).webp({ quality: 78 }).toBuffer();
  return { full, card };
}

/**
 * The card-size file of a cover: named from the full-size file's name (so a listing, which knows only
 * that, can point at it) in the same shape, which the web front's cover proxy accepts. Covers stored
 * before there were cards (.jpg, .png) have none: their card is the full-size file.
 */
export function cardFileOf(file: string): string {
  if (!file.endsWith('.webp')) return file;
  return `${createHash('sha256').update(`card:${file}`).digest('hex').slice(0, 40)}.webp`;
}

/**
 * Stores a cover, both sizes, and returns the full-size file's name: the SHA-256 of its content
 * (40 hex digits) plus `.webp`, so the same image is stored once and a name never changes meaning
 * (served with immutable caching). Each file is written to a temporary name, then renamed: readers
 * on other nodes never see half a file.
 */
export async function storeCover(dir: string, cover: { full: Buffer; card: Buffer }): Promise<string> {
  const file = `${createHash('sha256').update(cover.full).digest('hex').slice(0, 40)}.webp`;
  await mkdir(dir, { recursive: true });
  await writeAtomically(dir, file, cover.full);
  await writeAtomically(dir, cardFileOf(file), cover.card);
  return file;
}

/**
 * After a book was pointed at `file`: writes again whichever of its files is missing. A book letting
 * go of the same image at the same moment may have removed them between `storeCover` and the commit.
 */
export async function keepCoverStored(dir: string, file: string, cover: { full: Buffer; card: Buffer }): Promise<void> {
  for (const [name, bytes] of [[file, cover.full], [cardFileOf(file), cover.card]] as const) {
    if (!(await stat(join(dir, name)).catch(() => null))) await writeAtomically(dir, name, bytes);
  }
}

/**
 * Stores `cover` and points books at it: the files are written first, then `point` changes the rows in
 * one transaction (answering what it returns and the files the books let go of), then whichever of the
 * new files went meanwhile is written again, and last the files let go of are removed unless a book
 * still shows them. So no book ever points at a missing file, whenever the process stops. If `point`
 * fails, the new files are removed again (unless another book shows them) and its error is thrown.
 *
 * @example
 * const { file } = await replaceCover(em, dir, cover, async (tx, file) => {
 *   const book = await tx.findOneOrFail(Book, id, { lockMode: LockMode.PESSIMISTIC_WRITE });
 *   const previous = book.coverFile;
 *   tx.assign(book, { coverFile: file, updatedAt: new Date() });
 *   return { result: book, released: [previous] };
 * });
 */
export async function replaceCover<T>(
  em: EntityManager,
  dir: string,
  cover: { full: Buffer; card: Buffer },
  point: (tx: EntityManager, file: string) => Promise<{ result: T; released: (string | null | undefined)[] }>,
): Promise<{ file: string; result: T }> {
  const file = await storeCover(dir, cover);
  const { result, released } = await transaction(em, (tx) => point(tx, file)).catch(async (error: unknown) => {
    await removeUnusedCover(em, dir, file);
    throw error;
  });
  await keepCoverStored(dir, file, cover);
  for (const previous of new Set(released)) if (previous !== file) await removeUnusedCover(em, dir, previous);
  return { file, result };
}

async function writeAtomically(dir: string, name: string, bytes: Uint8Array): Promise<void> {
  const temporary = join(dir, `.${name}.${crypto.randomUUID()}.tmp`);
  await writeFile(temporary, bytes);
  await rename(temporary, join(dir, name));
}

/**
 * Removes a cover's files (full and card size) unless a book still shows it: files are shared by
 * every book with the same image. Call it after the change that let go of the file has committed.
 *
 * On MySQL/MariaDB the look-up is a locking read on the cover_file index: a book being pointed at this
 * file right now waits until the files are gone, and `keepCoverStored` then writes them again.
 *
 * @example
 * await removeUnusedCover(em, config.UPLOADS_DIR, 'b1946ac92492d2347c6235b4d2611184b1946ac9.webp');
 */
export async function removeUnusedCover(em: EntityManager, dir: string, file: string | null | undefined): Promise<void> {
  if (!file || !coverFileName.test(file)) return;
  const lock = dialectOfPlatform(em) === 'mysql' ? ' for update' : '';
  await transaction(em, async (tx) => {
    const [shown] = await tx.execute('select id from books where cover_file = ? limit 1' + lock, [file]);
    if (shown) return;
    await Promise.all([file, cardFileOf(file)].map((name) => rm(join(dir, name), { force: true })));
  });
}

const hourMs = 3_600_000;

/**
 * Counts a cover upload by `userId`, or refuses it (429 with Retry-After) when they made `perHour`
 * in the last hour. Counted in the database, so every replica shares the count: the upload is
 * written first, then the hour's are counted, so two at once can never both slip past the limit.
 *
 * @example
 * await countCoverUpload(em, principal.userId, config.COVER_UPLOADS_PER_HOUR);
 */
export async function countCoverUpload(em: EntityManager, userId: number, perHour: number): Promise<void> {
  const now = new Date();
  const since = new Date(now.getTime() - hourMs);
  const fork = em.fork();
  const mine = fork.create(CoverUpload, { userId, uploadedAt: now });
  await fork.flush();
  const recent = await fork.find(CoverUpload, { userId, uploadedAt: { $gt: since } }, { fields: ['id', 'uploadedAt'], orderBy: { uploadedAt: 'asc', id: 'asc' }, connectionType: 'write' });
  if (recent.length <= perHour) {
    await fork.nativeDelete(CoverUpload, { userId, uploadedAt: { $lte: since } });
    return;
  }
  await fork.nativeDelete(CoverUpload, { id: mine.id });
  // The others' count falls below the limit when this one of them is an hour old.
  const others = recent.filter((upload) => upload.id !== mine.id);
  const freedAt = others[Math.max(0, others.length - perHour)]!.uploadedAt.getTime() + hourMs;
  const retryAfter = Math.min(3600, Math.max(1, Math.ceil((freedAt - now.getTime()) / 1000)));
  throw new ProblemError(429, `At most ${perHour} cover uploads per hour: try again in ${Math.ceil(retryAfter / 60)} minutes`, { errors: { cover: `at most ${perHour} cover uploads per hour` } }, { 'retry-after': String(retryAfter) });
}

// --- covers stored before re-encoding ----------------------------------------------------------

/** What `backfillCovers` did with each cover file that books show. */
export interface CoverBackfillReport {
  /** Re-encoded: the `books` that showed `from` now show `to`, and `from` is gone. */
  converted: { from: string; to: string; books: number }[];
  /** Already in today's form (a .webp with its card file): left as they are. */
  current: number;
  /** Could not be re-encoded (missing, not an image, outside the limits): left as they are, still shown by `books`. */
  unreadable: { file: string; books: number[]; reason: string }[];
  /** No book showed it any more by the time it was re-encoded (replaced or deleted meanwhile): nothing to do. */
  gone: number;
}

/**
 * Brings the covers stored before re-encoding (as uploaded: .jpg, .png, or .webp without a card
 * file, metadata and all) into today's form, one file at a time, as an upload would: `encodeCover`
 * (limits, no metadata), then `replaceCover` pointing every book that shows the old file at the new
 * one, then the old file is removed. A file that cannot be re-encoded is reported and left alone.
 * Safe beside running replicas; a second run finds nothing to do. A run that stopped after pointing
 * the books but before removing the old file left a marker beside it (`.<file>.replaced`): the next
 * run removes that file first.
 *
 * @example
 * const report = await backfillCovers(orm.em, config.UPLOADS_DIR);
 */
export async function backfillCovers(em: EntityManager, dir: string): Promise<CoverBackfillReport> {
  await removeReplacedLeftovers(em, dir);
  const rows = await em.execute<{ id: number | string; cover_file: string }[]>('select id, cover_file from books where cover_file is not null order by id');
  const booksByFile = new Map<string, number[]>();
  for (const { id, cover_file: file } of rows) {
    const books = booksByFile.get(file) ?? [];
    booksByFile.set(file, books);
    books.push(Number(id));
  }
  const report: CoverBackfillReport = { converted: [], current: 0, unreadable: [], gone: 0 };
  for (const [file, books] of booksByFile) {
    const outcome = await backfillCover(em, dir, file);
    if (outcome.kind === 'converted') report.converted.push({ from: file, to: outcome.to, books: outcome.books });
    else if (outcome.kind === 'unreadable') report.unreadable.push({ file, books, reason: outcome.reason });
    else report[outcome.kind]++;
  }
  return report;
}

type BackfillOutcome = { kind: 'converted'; to: string; books: number } | { kind: 'unreadable'; reason: string } | { kind: 'current' | 'gone' };

const replacedMarker = /^\.([a-f0-9]{40}\.(?:jpg|png|webp))\.replaced$/;

async function backfillCover(em: EntityManager, dir: string, file: string): Promise<BackfillOutcome> {
  if (!coverFileName.test(file)) return { kind: 'unreadable', reason: 'not a cover file name' };
  if (file.endsWith('.webp') && (await isFile(join(dir, file))) && (await isFile(join(dir, cardFileOf(file))))) return { kind: 'current' };
  const read = await readFile(join(dir, file)).catch((error: NodeJS.ErrnoException) => ({ reason: error.code === 'ENOENT' ? 'the file is missing' : `the file cannot be read (${error.code ?? error.message})` }));
  if ('reason' in read) return { kind: 'unreadable', ...read };
  const cover = await encodeCover(read).catch((error: unknown) => ({ reason: error instanceof Error ? error.message : String(error) }));
  if ('reason' in cover) return { kind: 'unreadable', ...cover };
  const marker = join(dir, `.${file}.replaced`);
  await writeFile(marker, '');
  const { file: to, result: books } = await replaceCover(em, dir, cover, async (tx, to) => ({
    result: await tx.nativeUpdate(Book, { coverFile: file }, { coverFile: to, updatedAt: new Date() }),
    released: [file],
  }));
  await rm(marker, { force: true });
  if (books > 0) return { kind: 'converted', to, books };
  await removeUnusedCover(em, dir, to); // nobody showed the old file any more: nobody shows the new one either
  return { kind: 'gone' };
}

/** Removes the old files of covers a stopped run had already pointed their books away from. */
async function removeReplacedLeftovers(em: EntityManager, dir: string): Promise<void> {
  for (const name of await readdir(dir).catch(() => [])) {
    const file = replacedMarker.exec(name)?.[1];
    if (!file) continue;
    await removeUnusedCover(em, dir, file);
    await rm(join(dir, name), { force: true });
  }
}

async function isFile(path: string): Promise<boolean> {
  return (await stat(path).catch(() => null))?.isFile() ?? false;
}
