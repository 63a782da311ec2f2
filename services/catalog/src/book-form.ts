/**
 * The seller's add and edit forms as a browser posts them: what the fields mean as a book, or a
 * sentence per field saying what to change; and the sentences about a cover that cannot be used.
 */
import { ProblemError } from '@bookstore/shared/errors';
import { bookInput, maxPriceCents, maxStock, type BookFormFields, type BookInput } from './schemas.ts';

export type BookFormField = 'title' | 'author' | 'description' | 'price' | 'stock' | 'cover';
/** The form's fields in the order they are shown: the first with an error gets the focus. */
export const bookFormOrder: readonly BookFormField[] = ['title', 'author', 'description', 'price', 'stock', 'cover'];
export type BookFormErrors = Partial<Record<BookFormField, string>>;

const limits = { title: 300, author: 200, description: 5000 } as const;
const labels: Record<Exclude<BookFormField, 'cover'>, string> = { title: 'The title', author: 'The author', description: 'The description', price: 'The price', stock: 'Copies in stock' };

/**
 * @example
 * const parsed = readBookForm(bookFormFields.parse(await readForm(c)));
 * if (!parsed.ok) return c.html(bookForm({ values: fields, errors: parsed.errors }), 400);
 */
export function readBookForm(fields: BookFormFields): { ok: true; input: BookInput } | { ok: false; errors: BookFormErrors } {
  const errors: BookFormErrors = {};
  for (const name of ['title', 'author', 'description'] as const) {
    const value = fields[name].trim();
    if (value === '' && name !== 'description') errors[name] = name === 'title' ? 'Enter the book’s title.' : 'Enter the author’s name.';
    else if (value.length > limits[name]) errors[name] = `${labels[name]} can be at most ${limits[name].toLocaleString('en-US')} characters; this one has ${value.length.toLocaleString('en-US')}.`;
  }
  const price = fields.price.trim().replace(/^\$\s*/, '');
  const priceCents = /^\d+(\.\d{1,2})?$/.test(price) ? Math.round(Number(price) * 100) : undefined;
  if (price === '') errors.price = 'Enter a price, like 12.50.';
  else if (priceCents === undefined) errors.price = /^\d*\.\d{3,}$/.test(price) ? 'The price can have at most two decimals, like 12.50.' : 'The price must be a number, like 12.50.';
  else if (priceCents < 1) errors.price = 'The price must be at least $0.01.';
  else if (priceCents > maxPriceCents) errors.price = `The price can be at most $${(maxPriceCents / 100).toLocaleString('en-US')}.`;
  const stockText = fields.stock.trim();
  const stock = /^\d+$/.test(stockText) ? Number(stockText) : undefined;
  if (stockText === '') errors.stock = 'Enter how many copies you have, like 3 (0 if none yet).';
  else if (stock === undefined) errors.stock = 'Copies in stock must be a whole number, like 3.';
  else if (stock > maxStock) errors.stock = `Copies in stock can be at most ${maxStock.toLocaleString('en-US')}.`;

  const parsed = bookInput.safeParse({ title: fields.title, author: fields.author, description: fields.description, priceCents, stock });
  if (parsed.success && Object.keys(errors).length === 0) return { ok: true, input: parsed.data };
  // Anything the checks above did not name (a control character, say) still gets its sentence.
  for (const issue of parsed.success ? [] : parsed.error.issues) {
    const name = issue.path[0] === 'priceCents' ? 'price' : (issue.path[0] as Exclude<BookFormField, 'cover'>);
    if (name in labels) errors[name] ??= `${labels[name]} ${issue.message}.`;
  }
  return { ok: false, errors };
}

/** 2 097 152 → "2 MB", 262 144 → "256 KB": sizes as people read them. */
export function formatBytes(bytes: number): string {
  const mega = 1024 * 1024;
  if (bytes < mega) return `${Math.ceil(bytes / 1024)} KB`;
  return `${(bytes / mega).toFixed(1).replace(/\.0$/, '')} MB`;
}

/** Beside the cover field when the image chosen (`size` bytes) is over the limit. */
export function coverTooLarge(size: number, maxBytes: number): string {
  return `The image is ${formatBytes(size)}: a cover can be at most ${formatBytes(maxBytes)}. Choose a smaller image, or save this one at a lower quality.`;
}

/** What the seller reads beside the cover field when `error` refused their image (`size` bytes). */
export function coverErrorSentence(error: ProblemError, size: number, maxBytes: number): string {
  if (error.status === 413) return coverTooLarge(size, maxBytes);
  if (error.status === 415) return 'The file must be a JPEG, PNG or WebP image.';
  const detail = error.detail ?? 'This image cannot be used';
  return /[.!?]$/.test(detail) ? detail : `${detail}.`;
}
