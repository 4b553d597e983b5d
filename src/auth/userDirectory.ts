import type { Clock } from '../clock.js';
import type { UserRow, UsersRepository } from '../db/usersRepository.js';

/** Who a user is for authorisation: read through a short cache so a request does not cost a query. */
export interface UserDirectory {
  /** The stored user, or null when there is none (a token for a deleted user is refused). */
  get(userId: string): Promise<UserRow | null>;
  /** Forgets a user, so the next read sees a tier change made in this process. */
  invalidate(userId: string): void;
}

export interface UserDirectoryOptions {
  repository: Pick<UsersRepository, 'getUser'>;
  clock: Clock;
  /** How long a row is trusted; a tier changed by `npm run token` shows after at most this. */
  ttlMs?: number;
  maxEntries?: number;
}

/**
 * Every authenticated call needs the caller's tier; reading PostgreSQL for it per request would cap the
 * API at the pool's round-trip rate. Rows are cached for a few seconds and concurrent misses for one user
 * share one query. Missing users are not cached, so a user created a moment ago is found at once.
 */
export function createUserDirectory(options: UserDirectoryOptions): UserDirectory {
  const ttlMs = options.ttlMs ?? 5_000;
  const maxEntries = options.maxEntries ?? 10_000;
  const cache = new Map<string, { row: UserRow; until: number }>();
  const inFlight = new Map<string, Promise<UserRow | null>>();

  const load = (userId: string): Promise<UserRow | null> => {
    const pending = inFlight.get(userId);
    if (pending) return pending;
    const promise = options.repository
      .getUser(userId)
      .then((row) => {
        if (row) {
          if (cache.size >= maxEntries) {
            const oldest = cache.keys().next().value;
            if (oldest !== undefined) cache.delete(oldest);
          }
          cache.set(userId, { row, until: options.clock.now() + ttlMs });
        }
        return row;
      })
      .finally(() => inFlight.delete(userId));
    inFlight.set(userId, promise);
    return promise;
  };

  return {
    get(userId) {
      const hit = cache.get(userId);
      if (hit && hit.until > options.clock.now()) return Promise.resolve(hit.row);
      return load(userId);
    },
    invalidate(userId) {
      cache.delete(userId);
    },
  };
}
