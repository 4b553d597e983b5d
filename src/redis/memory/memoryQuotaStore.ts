import { nextUtcMidnight, utcDate, type Clock } from '../../clock.js';
import type { QuotaStore } from '../quotaStore.js';
import { assertCount, assertId } from '../storeArgs.js';
import { atomically } from './atomically.js';
import { ExpiringMap, restoreCounter } from './expiringMap.js';

/** The stand-in's QuotaStore: the same dated counters and set-once expiry as admitJob.lua. */
export function createMemoryQuotaStore(clock: Clock): QuotaStore {
  const counters = new ExpiringMap<number>(clock);
  const key = (userId: string, date: string) => `${date}:${userId}`;
  return {
    admit: (userId, limit) =>
      atomically(() => {
        assertId('userId', userId);
        assertCount('limit', limit);
        const now = clock.now();
        const date = utcDate(now);
        const resetsAt = nextUtcMidnight(now);
        const k = key(userId, date);
        let used = counters.get(k) ?? 0;
        const admitted = used < limit;
        if (admitted) {
          used += 1;
          counters.set(k, used);
          counters.expireAtIfNone(k, resetsAt);
        }
        return { admitted, used, remaining: Math.max(limit - used, 0), resetsAt, date };
      }),

    refund: (userId, date = utcDate(clock.now())) =>
      atomically(() => {
        assertId('userId', userId);
        const k = key(userId, date);
        const used = counters.get(k) ?? 0;
        if (used <= 0) return 0;
        counters.set(k, used - 1);
        return used - 1;
      }),

    usage: (userId, limit) =>
      atomically(() => {
        assertId('userId', userId);
        assertCount('limit', limit);
        const now = clock.now();
        const date = utcDate(now);
        const used = counters.get(key(userId, date)) ?? 0;
        return { used, remaining: Math.max(limit - used, 0), limit, resetsAt: nextUtcMidnight(now), date };
      }),

    restore: (userId, date, count) =>
      atomically(() => {
        assertId('userId', userId);
        assertCount('count', count);
        restoreCounter(counters, key(userId, date), count, nextUtcMidnight(Date.parse(`${date}T00:00:00Z`)));
      }),

    expiresAt: (userId, date = utcDate(clock.now())) =>
      atomically(() => counters.expiresAt(key(userId, date)) ?? null),
  };
}
