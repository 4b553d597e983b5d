import { nextUtcMidnight, utcDate, type Clock } from '../../clock.js';
import { assertCount, assertId } from '../storeArgs.js';
import { TOKEN_GRACE_MS, tokenCheck, type TokenStore } from '../tokenStore.js';
import { atomically } from './atomically.js';
import { ExpiringMap, restoreCounter } from './expiringMap.js';

/** The stand-in's TokenStore: dated counters with the same expiry rule as addTokens.lua. */
export function createMemoryTokenStore(clock: Clock): TokenStore {
  const counters = new ExpiringMap<number>(clock);
  const key = (userId: string, date: string) => `${date}:${userId}`;
  const usedNow = (userId: string) => {
    assertId('userId', userId);
    return counters.get(key(userId, utcDate(clock.now()))) ?? 0;
  };
  return {
    add: (userId, tokens) =>
      atomically(() => {
        assertId('userId', userId);
        assertCount('tokens', tokens);
        const now = clock.now();
        const k = key(userId, utcDate(now));
        const used = (counters.get(k) ?? 0) + tokens;
        counters.set(k, used);
        counters.expireAtIfNone(k, nextUtcMidnight(now) + TOKEN_GRACE_MS);
        return used;
      }),
    used: (userId) => atomically(() => usedNow(userId)),
    check: (userId, budget) => atomically(() => tokenCheck(usedNow(userId), budget, clock.now())),
    usedMany: (userIds) => atomically(() => userIds.map((id) => usedNow(id))),
    restore: (userId, date, count) =>
      atomically(() => {
        assertId('userId', userId);
        assertCount('count', count);
        restoreCounter(counters, key(userId, date), count, nextUtcMidnight(Date.parse(`${date}T00:00:00Z`)) + TOKEN_GRACE_MS);
      }),
  };
}
