/**
 * Fragments kept in the web front's memory for as long as their service allows, by its
 * `Cache-Control`: `public, max-age=N` is shared by every visitor (catalog's listings), `private,
 * max-age=N` is kept for the one viewer it was made for (purchase's cart badge). The service says
 * what may be kept and for how long; the web front never decides that itself. A viewer who has
 * just changed something skips the cache altogether (render.ts).
 *
 * Visitors asking for a shared fragment while it is being renewed wait for that one request, so a
 * listing that expires under load costs its service one request, not one per visitor.
 */
import type { Fragment } from './compose.ts';

export interface CacheableFragment extends Fragment {
  /** What the service's Cache-Control allows. */
  keep: Keep;
}

export type Keep = { scope: 'public' | 'private'; maxAgeMs: number } | null;

export interface FragmentCacheOptions {
  /**
   * Memory each shelf (shared, private) may hold, in bytes of text: the oldest entries go first, and
   * expired ones whenever something is added. Counted in bytes, not entries: a seller's list can
   * be 200 KB where a cart badge is 150 bytes, and any query string makes a new key.
   */
  maxBytes?: number;
  now?: () => number;
}

interface Entry {
  fragment: Fragment;
  until: number;
  bytes: number;
}

/** Entries in the order they were stored, within a byte budget. */
class Shelf {
  readonly entries = new Map<string, Entry>();
  private bytes = 0;

  constructor(
    private readonly maxBytes: number,
    private readonly now: () => number,
  ) {}

  fresh(key: string): Fragment | null {
    const entry = this.entries.get(key);
    return entry && entry.until > this.now() ? entry.fragment : null;
  }

  store(key: string, fragment: Fragment, maxAgeMs: number) {
    const bytes = String(fragment.html).length * 2; // JavaScript strings: two bytes a character
    if (bytes > this.maxBytes / 16) return; // one huge page may not push out everything else
    this.drop(key); // stored again last, so the oldest entry is always first
    for (const [oldest, entry] of this.entries) {
      if (this.bytes + bytes <= this.maxBytes && entry.until > this.now()) break;
      this.drop(oldest);
    }
    const { html, status, ok } = fragment;
    this.entries.set(key, { fragment: { html, status, ok }, until: this.now() + maxAgeMs, bytes });
    this.bytes += bytes;
  }

  private drop(key: string) {
    const entry = this.entries.get(key);
    if (!entry) return;
    this.entries.delete(key);
    this.bytes -= entry.bytes;
  }
}

/**
 * @example
 * const cache = new FragmentCache();
 * const badge = await cache.get('purchase /fragments/cart-badge', `user ${principal.userId}`, () => fetchFragment(...));
 */
export class FragmentCache {
  private readonly shared: Shelf;
  private readonly private: Shelf;
  private readonly inFlight = new Map<string, Promise<CacheableFragment>>();

  constructor(options: FragmentCacheOptions = {}) {
    const now = options.now ?? Date.now;
    this.shared = new Shelf(options.maxBytes ?? 16 * 1024 * 1024, now);
    this.private = new Shelf(options.maxBytes ?? 16 * 1024 * 1024, now);
  }

  /** The fragment at `key` for `viewer` (null: a visitor without a session): kept, or loaded. */
  async get(key: string, viewer: string | null, load: () => Promise<CacheableFragment>): Promise<Fragment> {
    const privateKey = viewer === null ? null : `${key}\n${viewer}`;
    const kept = this.shared.fresh(key) ?? (privateKey ? this.private.fresh(privateKey) : null);
    if (kept) return kept;
    // Only a key that was shared before is worth waiting for: another visitor's page is not.
    const known = this.shared.entries.has(key);
    const pending = known ? this.inFlight.get(key) : undefined;
    if (pending) {
      const answer = await pending;
      if (answer.keep?.scope === 'public') return answer;
    }
    const loading = load();
    if (known && !pending) this.inFlight.set(key, loading);
    try {
      const answer = await loading;
      if (answer.keep?.scope === 'public') this.shared.store(key, answer, answer.keep.maxAgeMs);
      else if (answer.keep && privateKey) this.private.store(privateKey, answer, answer.keep.maxAgeMs);
      return answer;
    } finally {
      if (this.inFlight.get(key) === loading) this.inFlight.delete(key);
    }
  }
}

/** What a `Cache-Control` header lets the web front keep: `public` or `private` with `max-age`, else nothing. */
export function keepFromCacheControl(cacheControl: string | null): Keep {
  if (!cacheControl) return null;
  const directives = cacheControl.toLowerCase().split(',').map((part) => part.trim());
  if (directives.some((part) => part === 'no-store' || part === 'no-cache')) return null;
  const scope = directives.includes('public') ? 'public' : directives.includes('private') ? 'private' : null;
  const maxAge = directives.map((part) => /^max-age=(\d{1,6})$/.exec(part)).find(Boolean);
  return scope && maxAge && Number(maxAge[1]) > 0 ? { scope, maxAgeMs: Number(maxAge[1]) * 1000 } : null;
}
