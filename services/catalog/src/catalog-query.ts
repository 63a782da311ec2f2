/**
 * The catalog page's query string as a shopper's browser sends it (prices in dollars, fields left
 * empty). Each field is read alone: a bad value costs only itself, and says why in a sentence shown
 * beside its field, while the search goes on with the others.
 */
import { bookSorts, maxPageSize, maxPriceCents, type BookQuery, type BookSort } from './schemas.ts';

export type FilterField = 'q' | 'author' | 'minPrice' | 'maxPrice' | 'sort';

export interface CatalogRequest {
  /** What is searched: the fields that were valid, defaults for the others. */
  query: BookQuery;
  /** The page asked for, even past the end (`query.page` is capped for the database). */
  askedPage: number;
  /** What the shopper typed, as typed: the form shows it again, mistakes included. */
  typed: Record<'q' | 'author' | 'minPrice' | 'maxPrice', string>;
  /** A sentence per field whose value was not used. */
  errors: Partial<Record<FilterField, string>>;
  /** About the page number, which has no field: shown above the results. */
  pageNotice?: string;
}

const maxTextLength = 200;
const maxPage = 10_000;
/** Books on a catalog page unless the address asks for another number. */
export const defaultPageSize = 24;

/**
 * @example
 * const { query, errors } = readCatalogQuery(c.req.query());
 * // readCatalogQuery({ minPrice: 'abc' }).errors.minPrice === 'Min price must be a number, like 12.50.'
 */
export function readCatalogQuery(raw: Record<string, string | undefined>): CatalogRequest {
  const errors: CatalogRequest['errors'] = {};
  const text = (name: 'q' | 'author', label: string) => {
    const value = (raw[name] ?? '').trim();
    if (value.length <= maxTextLength) return value || undefined;
    errors[name] = `${label} can be at most ${maxTextLength} characters: only the first ${maxTextLength} were used.`;
    return value.slice(0, maxTextLength);
  };
  const q = text('q', 'The search');
  const author = text('author', 'Author');
  const minPrice = dollars(raw.minPrice, 'Min price', (message) => (errors.minPrice = message));
  let maxPrice = dollars(raw.maxPrice, 'Max price', (message) => (errors.maxPrice = message));
  if (minPrice !== undefined && maxPrice !== undefined && maxPrice < minPrice) {
    errors.maxPrice = `Max price must be at least the min price (${formatDollars(minPrice)}): it was left out.`;
    maxPrice = undefined;
  }
  const sortValue = raw.sort ?? '';
  const sort: BookSort = (bookSorts as readonly string[]).includes(sortValue) ? (sortValue as BookSort) : 'newest';
  if (sortValue !== '' && sort !== sortValue) errors.sort = 'Choose one of the orders in the list: the newest books come first meanwhile.';
  const { page, pageNotice } = pageNumber(raw.page);
  const pageSizeValue = Number(raw.pageSize);
  const pageSize = raw.pageSize && Number.isInteger(pageSizeValue) && pageSizeValue >= 1 ? Math.min(pageSizeValue, maxPageSize) : defaultPageSize;
  return {
    query: { q, author, minPrice, maxPrice, inStock: ['true', '1', 'on'].includes(raw.inStock ?? ''), sort, page: Math.min(page, maxPage), pageSize },
    askedPage: page,
    typed: { q: raw.q ?? '', author: raw.author ?? '', minPrice: (raw.minPrice ?? '').trim(), maxPrice: (raw.maxPrice ?? '').trim() },
    errors,
    pageNotice,
  };
}

/** "12", "12.5", "$12.50" as cents; anything else leaves the filter out and says why. */
function dollars(value: string | undefined, label: string, fail: (message: string) => void): number | undefined {
  const typed = (value ?? '').trim().replace(/^\$\s*/, '');
  if (typed === '') return undefined;
  if (!/^\d+(\.\d*)?$|^\.\d+$/.test(typed)) {
    fail(typed.startsWith('-') ? `${label} cannot be negative.` : `${label} must be a number, like 12.50.`);
    return undefined;
  }
  const cents = Math.round(Number(typed) * 100);
  if (cents > maxPriceCents) {
    fail(`${label} can be at most ${formatDollars(maxPriceCents)}.`);
    return undefined;
  }
  return cents;
}

function pageNumber(value: string | undefined): { page: number; pageNotice?: string } {
  if (value === undefined || value === '') return { page: 1 };
  const page = Number(value);
  if (/^\d+$/.test(value.trim()) && page >= 1) return { page };
  return { page: 1, pageNotice: 'Pages are numbered from 1: here is the first one.' };
}

function formatDollars(cents: number): string {
  return `$${(cents / 100).toLocaleString('en-US', { minimumFractionDigits: cents % 100 ? 2 : 0, maximumFractionDigits: 2 })}`;
}
