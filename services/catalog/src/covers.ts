/** Book covers: checked by their content, stored under UPLOADS_DIR by content hash, shared by all replicas. */
import { createHash } from 'node:crypto';
import { mkdir, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { ProblemError } from '@bookstore/shared/errors';

const signatures = [
  { type: 'jpeg', ext: 'jpg', mime: 'image/jpeg', matches: (b: Uint8Array) => b[0] === 0xff && b[1] === 0xd8 && b[2] === 0xff },
  { type: 'png', ext: 'png', mime: 'image/png', matches: (b: Uint8Array) => [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a].every((v, i) => b[i] === v) },
  {
    type: 'webp',
    ext: 'webp',
    mime: 'image/webp',
    matches: (b: Uint8Array) => ascii(b, 0, 4) === 'RIFF' && ascii(b, 8, 12) === 'WEBP',
  },
] as const;

function ascii(bytes: Uint8Array, from: number, to: number): string {
  return String.fromCharCode(...bytes.subarray(from, to));
}

export const coverMimeTypes: Record<string, string> = Object.fromEntries(signatures.map((s) => [s.ext, s.mime]));

/** The image type of `bytes` by its magic number (whatever name or content type it came with), or null. */
export function detectImageType(bytes: Uint8Array) {
  return signatures.find((signature) => bytes.length >= 12 && signature.matches(bytes)) ?? null;
}

/**
 * Stores a cover and returns its file name: the SHA-256 of the content plus the extension, so the
 * same image is stored once and a name never changes meaning (served with immutable caching).
 * Written to a temporary name first, then renamed: readers on other nodes never see half a file.
 */
export async function storeCover(dir: string, bytes: Uint8Array, maxBytes: number): Promise<string> {
  if (bytes.length === 0) throw new ProblemError(400, 'The cover file is empty', { errors: { cover: 'is empty' } });
  if (bytes.length > maxBytes) {
    throw new ProblemError(413, `The cover is too large: at most ${Math.floor(maxBytes / 1024)} KiB`, { errors: { cover: 'is too large' } });
  }
  const kind = detectImageType(bytes);
  if (!kind) throw new ProblemError(415, 'The cover must be a JPEG, PNG or WebP image', { errors: { cover: 'must be a JPEG, PNG or WebP image' } });
  const name = `${createHash('sha256').update(bytes).digest('hex').slice(0, 40)}.${kind.ext}`;
  await mkdir(dir, { recursive: true });
  const temporary = join(dir, `.${name}.${crypto.randomUUID()}.tmp`);
  await writeFile(temporary, bytes);
  await rename(temporary, join(dir, name));
  return name;
}

export const coverFileName = /^[a-f0-9]{40}\.(jpg|png|webp)$/;
