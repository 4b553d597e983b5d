import type { Redis } from 'ioredis';
import { z } from 'zod';
import { nextUtcMidnight, utcDate, type Clock } from '../clock.js';
import type { Keys } from './keys.js';
import { loadScripts } from './luaScripts.js';
import { assertCount, assertId, assertLimit } from './storeArgs.js';

/** The answer to "may this user make an LLM call now?". Times are ms since the epoch. */
export type TokenCheck = {
  allowed: boolean;
  used: number;
  /** The budget; -1 is unlimited. */
  limit: number;
  /** The next UTC midnight, when the day's count starts again. */
  resetsAt: number;
};

/**
 * Tokens used per user per UTC date (SPEC §4). As with the job quota, the date is in the key name, so a
 * day starts from zero by construction.
 *
 * Expiry: the next UTC midnight plus one day of grace, set once. The grace is for readers whose clock is
 * a little behind Redis' around midnight (another process, a risk scan that straddles midnight): they
 * still read yesterday's true count instead of a vanished key that reads as 0 and would let an
 * over-budget call through. It costs one small key per active user for one extra day.
 */
export interface TokenStore {
  /** Adds a call's input + output tokens to today's count; returns the count after. */
  add(userId: string, tokens: number): Promise<number>;
  used(userId: string): Promise<number>;
  /** Refuses (allowed: false) once used ≥ budget; a budget of -1 is unlimited. */
  check(userId: string, budget: number): Promise<TokenCheck>;
  /** Today's count of many users, in the order given (0 for none); read in pipelined chunks. */
  usedMany(userIds: readonly string[]): Promise<number[]>;
  /** Raises the user's count for `date` to `count` (what PostgreSQL recorded); never lowers it. */
  restore(userId: string, date: string, count: number): Promise<void>;
}

export const TOKEN_GRACE_MS = 86_400_000;
/** Keys per MGET: large enough to amortise round trips, small enough not to stall Redis. */
export const USED_MANY_CHUNK = 500;

/** Whether a call may go ahead with `used` tokens spent of `budget` (-1: unlimited). */
export function tokenCheck(used: number, budget: number, now: number): TokenCheck {
  assertLimit('budget', budget);
  return { allowed: budget === -1 || used < budget, used, limit: budget, resetsAt: nextUtcMidnight(now) };
}

const countSchema = z.coerce.number().int().nonnegative();

/** The TokenStore on Redis (addTokens.lua; reads are plain GET/MGET). */
export function createRedisTokenStore(redis: Redis, keys: Keys, clock: Clock): TokenStore {
  const scripts = loadScripts(redis);
  const used = async (userId: string) => {
    assertId('userId', userId);
    return countSchema.parse((await redis.get(keys.dailyTokens(userId, utcDate(clock.now())))) ?? 0);
  };
  return {
    async add(userId, tokens) {
      assertId('userId', userId);
      assertCount('tokens', tokens);
      const now = clock.now();
      const reply = await scripts.addTokens(
        [keys.dailyTokens(userId, utcDate(now))],
        [tokens, nextUtcMidnight(now) + TOKEN_GRACE_MS],
      );
      return countSchema.parse(reply);
    },

    used,

    async check(userId, budget) {
      return tokenCheck(await used(userId), budget, clock.now());
    },

    async restore(userId, date, count) {
      assertId('userId', userId);
      assertCount('count', count);
      const expiry = nextUtcMidnight(Date.parse(`${date}T00:00:00Z`)) + TOKEN_GRACE_MS;
      await scripts.restoreCounter([keys.dailyTokens(userId, date)], [count, expiry]);
    },

    async usedMany(userIds) {
      if (userIds.length === 0) return [];
      const date = utcDate(clock.now());
      const pipeline = redis.pipeline();
      for (let i = 0; i < userIds.length; i += USED_MANY_CHUNK) {
        pipeline.mget(userIds.slice(i, i + USED_MANY_CHUNK).map((id) => keys.dailyTokens(id, date)));
      }
      const results = (await pipeline.exec()) ?? [];
      const counts: number[] = [];
      for (const [error, values] of results) {
        if (error) throw error;
        for (const value of z.array(z.string().nullable()).parse(values)) counts.push(countSchema.parse(value ?? 0));
      }
      return counts;
    },
  };
}
