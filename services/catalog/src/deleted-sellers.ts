/**
 * The books of deleted accounts leave the catalog. Auth lists deleted accounts on a feed (service
 * token); each catalog process follows it from the start, as the token check follows revocations,
 * and removes every live book of those sellers the way a seller's own "delete" does: a book with
 * orders is retired, any other deleted, its cover removed once unused.
 *
 * Reading from the start after each restart makes this need no stored position: a seller already
 * handled has no live book left, so it costs one indexed read per page of the feed. A failed pass
 * keeps its position and is tried again by the next one; two replicas removing one book at once
 * meet on the book's row lock, and the later one finds it gone.
 */
import { deletedUsersFeed } from '@bookstore/shared/contracts/auth';
import { ProblemError } from '@bookstore/shared/errors';
import type { HttpClient } from '@bookstore/shared/http';
import { every, type Job } from '@bookstore/shared/jobs';
import type { EntityManager, Orm } from '@bookstore/shared/db';
import type { Logger } from '@bookstore/shared/log';
import { removeBook, sellerDeleted } from './books.ts';
import { Book } from './entities.ts';

/** How far back each poll reaches before the previous answer's time: late commits and clock skew. */
const overlapMs = 5000;

export interface DeletedSellersDeps {
  orm: Orm;
  /** Auth, called with the service token. */
  auth: HttpClient;
  uploadsDir: string;
  log?: Logger;
}

/** Follows auth's feed of deleted accounts every `intervalMs`; stop it on SIGTERM. */
export function followDeletedSellers(deps: DeletedSellersDeps, intervalMs: number): Job {
  let since = 0;
  return every(
    'deleted-sellers',
    intervalMs,
    async () => {
      // At most 10 pages a pass, so one pass never runs for long.
      for (let page = 0; page < 10; page++) {
        const response = await deps.auth.request(`/api/deleted-users?since=${since}`);
        if (!response.ok) throw new Error(`deleted-users feed answered ${response.status}`);
        const feed = deletedUsersFeed.parse(await response.json());
        await removeBooksOfSellers(deps.orm.em.fork(), feed.items.map((item) => item.userId), deps);
        since = feed.more ? feed.serverTime : Math.max(0, feed.serverTime - overlapMs);
        if (!feed.more) break;
      }
    },
    { log: deps.log },
  );
}

/** Removes every live book of these sellers; answers how many books went. */
async function removeBooksOfSellers(em: EntityManager, sellerIds: number[], deps: Pick<DeletedSellersDeps, 'uploadsDir' | 'log'>): Promise<number> {
  if (sellerIds.length === 0) return 0;
  const books = await em.find(Book, { sellerId: { $in: sellerIds }, deletedAt: null }, { fields: ['id', 'sellerId'], connectionType: 'write' });
  let removed = 0;
  for (const book of books) {
    try {
      await removeBook(em.fork(), book.id, sellerDeleted, { uploadsDir: deps.uploadsDir });
      removed++;
    } catch (error) {
      // Removed meanwhile (by another replica, or its seller just before the account went).
      if (!(error instanceof ProblemError && error.status === 404)) throw error;
    }
  }
  if (removed) deps.log?.info('books of deleted accounts removed', { books: removed, sellers: new Set(books.map((book) => book.sellerId)).size });
  return removed;
}
