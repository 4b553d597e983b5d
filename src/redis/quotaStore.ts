import type { Redis } from 'ioredis';
import { z } from 'zod';
import { nextUtcMidnight, utcDate, type Clock } from '../clock.js';
import type { Keys } from './keys.js';
import { loadScripts } from './luaScripts.js';
import { assertCount, assertId } from './storeArgs.js';

/** The answer to a daily admission. Times are ms since the epoch. */
export interface QuotaAdmission {
  admitted: boolean;
  /** Jobs counted today, including this one when admitted. */
  used: number;
  remaining: number;
  /** The next UTC midnight: when the count starts again. */
  resetsAt: number;
  /** The UTC date (YYYY-MM-DD) the admission counted against; pass it to refund(). */
  date: string;
}

export interface QuotaUsage {
  used: number;
  remaining: number;
  limit: number;
  resetsAt: number;
  date: string;
}

/**
 * Daily jobs per user per UTC date (SPEC §3, §4). The count lives under a key named by the date, so a
 * new day starts from zero by construction; the key also expires at that day's end (set once).
 */
export interface QuotaStore {
  /** Check and count one job in one atomic step: N concurrent admits with k left admit exactly k. */
  admit(userId: string, limit: number): Promise<QuotaAdmission>;
  /** Undoes one admission (e.g. the queue was full); never below zero. Returns the count after. */
  refund(userId: string, date?: string): Promise<number>;
  usage(userId: string, limit: number): Promise<QuotaUsage>;
  /** When the counter of that date (default today) expires, in ms; null when there is no counter. */
  expiresAt(userId: string, date?: string): Promise<number | null>;
  /** Raises the user's count for `date` to `count` (what PostgreSQL recorded); never lowers it. */
  restore(userId: string, date: string, count: number): Promise<void>;
}

const admitReplySchema = z.tuple([z.union([z.literal(0), z.literal(1)]), z.number().int().nonnegative()]);

/** The QuotaStore on Redis (admitJob.lua, refundJob.lua). */
export function createRedisQuotaStore(redis: Redis, keys: Keys, clock: Clock): QuotaStore {
  const scripts = loadScripts(redis);
  return {
    async admit(userId, limit) {
      assertId('userId', userId);
      assertCount('limit', limit);
      const now = clock.now();
      const date = utcDate(now);
      const resetsAt = nextUtcMidnight(now);
      const [admitted, used] = admitReplySchema.parse(
        await scripts.admitJob([keys.dailyJobs(userId, date)], [limit, resetsAt]),
      );
      return { admitted: admitted === 1, used, remaining: Math.max(limit - used, 0), resetsAt, date };
    },

    async refund(userId, date = utcDate(clock.now())) {
      assertId('userId', userId);
      return z.number().int().parse(await scripts.refundJob([keys.dailyJobs(userId, date)], []));
    },

    async usage(userId, limit) {
      assertId('userId', userId);
      assertCount('limit', limit);
      const now = clock.now();
      const date = utcDate(now);
      const used = Number((await redis.get(keys.dailyJobs(userId, date))) ?? 0);
      return { used, remaining: Math.max(limit - used, 0), limit, resetsAt: nextUtcMidnight(now), date };
    },

    async restore(userId, date, count) {
      assertId('userId', userId);
      assertCount('count', count);
      await scripts.restoreCounter([keys.dailyJobs(userId, date)], [count, nextUtcMidnight(Date.parse(`${date}T00:00:00Z`))]);
    },

    async expiresAt(userId, date = utcDate(clock.now())) {
      const ms = await redis.pexpiretime(keys.dailyJobs(userId, date));
      // -2: no key; -1: a key without expiry (which this store never leaves behind).
      return ms < 0 ? null : ms;
    },
  };
}
