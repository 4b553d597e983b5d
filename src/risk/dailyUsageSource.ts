import type { Redis } from 'ioredis';
import type { Keys } from '../redis/keys.js';
import type { TokenStore } from '../redis/tokenStore.js';

/**
 * Where the risk monitor reads the day's token usage in bulk. Only users with tokens counted today can
 * cross the usage threshold (no counter reads as 0), so a source yields just those users, in pages.
 */
export interface UsagePage {
  userIds: string[];
  /** Tokens used on the date, aligned with `userIds`; every entry > 0. */
  used: number[];
}

export interface DailyUsageSource {
  /** Every user with tokens counted on the UTC date `YYYY-MM-DD`, each exactly once. */
  pages(date: string): AsyncIterable<UsagePage>;
}

export interface RedisUsageSourceOptions {
  redis: Redis;
  keys: Keys;
  /**
   * SCAN COUNT per call (default 4,000): how much of the keyspace Redis walks per round trip. Larger
   * replies take fewer round trips but hold the event loop longer while parsed.
   */
  scanCount?: number;
}

/**
 * On Redis: SCAN the day's counters by key pattern and MGET their values, one page per SCAN reply, with
 * the next SCAN sent before the current MGET is awaited. It needs no index maintained beside the
 * counters; its cost grows with the whole keyspace (every key is walked once), not with the number of
 * users — about 0.1 s per million keys here. SCAN may return a key twice; duplicates are dropped.
 */
export function createRedisUsageSource(options: RedisUsageSourceOptions): DailyUsageSource {
  const { redis, keys } = options;
  const count = options.scanCount ?? 4000;
  return {
    async *pages(date) {
      // The prefix allows no glob characters (config.ts), so only the user id part is a wildcard.
      const pattern = keys.dailyTokens('*', date);
      const [head = '', tail = ''] = keys.dailyTokens('\u0000', date).split('\u0000');
      const seen = new Set<string>();
      let reply = await redis.scan('0', 'MATCH', pattern, 'COUNT', count);
      for (;;) {
        const [cursor, found] = reply;
        const fresh = found.filter((key) => !seen.has(key) && seen.add(key));
        const values = fresh.length > 0 ? redis.mget(fresh) : Promise.resolve([]);
        const next = cursor === '0' ? null : redis.scan(cursor, 'MATCH', pattern, 'COUNT', count);
        // Awaited below unless the MGET fails first; then its own failure must not go unhandled.
        next?.catch(() => {});
        const page: UsagePage = { userIds: [], used: [] };
        (await values).forEach((value, i) => {
          const used = value === null ? 0 : Number(value);
          // A counter that expired between SCAN and MGET reads null: nothing used.
          if (used > 0 && Number.isFinite(used)) {
            page.userIds.push(fresh[i]!.slice(head.length, fresh[i]!.length - tail.length));
            page.used.push(used);
          }
        });
        if (page.userIds.length > 0) yield page;
        if (!next) return;
        reply = await next;
      }
    },
  };
}

export interface TokenStoreUsageSourceOptions {
  tokens: Pick<TokenStore, 'usedMany'>;
  /** Every user id, in pages (riskScanRepository.userIdPages). */
  userIdPages: () => AsyncIterable<string[]>;
}

/**
 * On any TokenStore (the in-process stand-in included): every user's count through `usedMany`. Reads
 * all users, so it is the fallback for the embedded single-process mode. The TokenStore counts by its own
 * clock's date, which is the scan's date except across midnight.
 */
export function createTokenStoreUsageSource(options: TokenStoreUsageSourceOptions): DailyUsageSource {
  return {
    async *pages() {
      for await (const ids of options.userIdPages()) {
        const counts = await options.tokens.usedMany(ids);
        const page: UsagePage = { userIds: [], used: [] };
        counts.forEach((used, i) => {
          if (used > 0) {
            page.userIds.push(ids[i]!);
            page.used.push(used);
          }
        });
        if (page.userIds.length > 0) yield page;
      }
    },
  };
}
