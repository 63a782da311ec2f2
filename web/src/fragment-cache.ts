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
  /** Shared fragments kept at most, the oldest going first: a listing is ~16 KB, so 500 stay under 20 MB. */
  maxShared?: number;
  /** Private fragments kept at most (a cart badge is ~150 bytes). */
  maxPrivate?: number;
  now?: () => number;
}

interface Entry {
  fragment: Fragment;
  until: number;
}

/**
 * @example
 * const cache = new FragmentCache();
 * const menu = await cache.get('purchase /fragments/cart-badge', `user ${principal.userId}`, () => fetchFragment(...));
 */
export class FragmentCache {
  private readonly shared = new Map<string, Entry>();
  private readonly private = new Map<string, Entry>();
  private readonly inFlight = new Map<string, Promise<CacheableFragment>>();
  private readonly limits: Map<Map<string, Entry>, number>;
  private readonly now: () => number;

  constructor(options: FragmentCacheOptions = {}) {
    this.limits = new Map([
      [this.shared, options.maxShared ?? 500],
      [this.private, options.maxPrivate ?? 10_000],
    ]);
    this.now = options.now ?? Date.now;
  }

  /** The fragment at `key` for `viewer` (null: a visitor without a session): kept, or loaded. */
  async get(key: string, viewer: string | null, load: () => Promise<CacheableFragment>): Promise<Fragment> {
    const privateKey = viewer === null ? null : `${key}\n${viewer}`;
    const kept = this.fresh(this.shared, key) ?? (privateKey ? this.fresh(this.private, privateKey) : null);
    if (kept) return kept;
    // Only a key that was shared before is worth waiting for: another visitor's page is not.
    const pending = this.shared.has(key) ? this.inFlight.get(key) : undefined;
    if (pending) {
      const answer = await pending;
      if (answer.keep?.scope === 'public') return answer;
    }
    const loading = load();
    if (this.shared.has(key) && !pending) this.inFlight.set(key, loading);
    try {
      const answer = await loading;
      if (answer.keep?.scope === 'public') this.remember(this.shared, key, answer, answer.keep.maxAgeMs);
      else if (answer.keep && privateKey) this.remember(this.private, privateKey, answer, answer.keep.maxAgeMs);
      return answer;
    } finally {
      if (this.inFlight.get(key) === loading) this.inFlight.delete(key);
    }
  }

  private fresh(entries: Map<string, Entry>, key: string): Fragment | null {
    const entry = entries.get(key);
    return entry && entry.until > this.now() ? entry.fragment : null;
  }

  private remember(entries: Map<string, Entry>, key: string, fragment: Fragment, maxAgeMs: number) {
    entries.delete(key); // re-inserted last: the oldest entry is always first
    if (entries.size >= this.limits.get(entries)!) entries.delete(entries.keys().next().value!);
    const { html, status, ok } = fragment;
    entries.set(key, { fragment: { html, status, ok }, until: this.now() + maxAgeMs });
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
