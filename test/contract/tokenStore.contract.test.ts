import { describe, expect, it } from 'vitest';
import { createManualClock, nextUtcMidnight } from '../../src/clock.js';
import { TOKEN_GRACE_MS, USED_MANY_CHUNK } from '../../src/redis/tokenStore.js';
import { storeImplementations, uid } from './storeImplementations.js';

const implementations = storeImplementations('tokens');
const NOON = '2031-06-01T12:00:00Z';

describe.each(implementations)('TokenStore on %s', (_name, impl) => {
  it('adds up the tokens of a UTC date', async () => {
    const { stores } = impl.open(createManualClock(NOON));
    const user = uid('u');
    expect(await stores.tokens.used(user)).toBe(0);
    expect(await stores.tokens.add(user, 1200)).toBe(1200);
    expect(await stores.tokens.add(user, 0)).toBe(1200);
    expect(await stores.tokens.add(user, 34)).toBe(1234);
    expect(await stores.tokens.used(user)).toBe(1234);
  });

  it('loses no addition under concurrency', async () => {
    const { stores, peers } = impl.open(createManualClock(NOON), { peers: 3 });
    const user = uid('many');
    await Promise.all(Array.from({ length: 300 }, (_, i) => peers[i % 3]!.tokens.add(user, i + 1)));
    expect(await stores.tokens.used(user)).toBe((300 * 301) / 2);
  });

  it('refuses once the budget is spent, with used, limit and the next midnight', async () => {
    const clock = createManualClock(NOON);
    const { stores } = impl.open(clock);
    const user = uid('budget');
    await stores.tokens.add(user, 499_999);
    expect(await stores.tokens.check(user, 500_000)).toEqual({
      allowed: true,
      used: 499_999,
      limit: 500_000,
      resetsAt: Date.parse('2031-06-02T00:00:00Z'),
    });
    await stores.tokens.add(user, 1);
    expect(await stores.tokens.check(user, 500_000)).toMatchObject({ allowed: false, used: 500_000, limit: 500_000 });
    await stores.tokens.add(user, 10);
    expect(await stores.tokens.check(user, 500_000)).toMatchObject({ allowed: false, used: 500_010 });
  });

  it('never refuses an unlimited budget (-1), and always refuses a budget of zero', async () => {
    const { stores } = impl.open(createManualClock(NOON));
    const user = uid('cto');
    await stores.tokens.add(user, 9_000_000);
    expect(await stores.tokens.check(user, -1)).toMatchObject({ allowed: true, used: 9_000_000, limit: -1 });
    expect(await stores.tokens.check(uid('none'), 0)).toMatchObject({ allowed: false, used: 0, limit: 0 });
  });

  it('starts from zero on the next UTC date', async () => {
    const clock = createManualClock('2031-06-01T23:59:59.999Z');
    const { stores } = impl.open(clock);
    const user = uid('day');
    await stores.tokens.add(user, 700);
    clock.advance(1);
    expect(await stores.tokens.used(user)).toBe(0);
    expect(await stores.tokens.check(user, 500)).toMatchObject({ allowed: true, resetsAt: Date.parse('2031-06-03T00:00:00Z') });
  });

  it('reads many users at once, in order, across several chunks', async () => {
    const { stores } = impl.open(createManualClock(NOON));
    const users = Array.from({ length: USED_MANY_CHUNK * 2 + 7 }, (_, i) => `bulk-${i}`);
    await Promise.all(users.filter((_, i) => i % 3 === 0).map((user, i) => stores.tokens.add(user, i + 1)));
    const counts = await stores.tokens.usedMany(users);
    expect(counts).toHaveLength(users.length);
    expect(counts).toEqual(users.map((_, i) => (i % 3 === 0 ? i / 3 + 1 : 0)));
    expect(await stores.tokens.usedMany([])).toEqual([]);
  });

  it('rejects negative or fractional token counts', async () => {
    const { stores } = impl.open(createManualClock(NOON));
    await expect(stores.tokens.add(uid('neg'), -5)).rejects.toThrow(RangeError);
    await expect(stores.tokens.add(uid('frac'), 1.5)).rejects.toThrow(RangeError);
  });
});

describe('TokenStore on redis: expiry', () => {
  const redisImpl = implementations[0]![1];

  it('expires the counter a day after the next UTC midnight, set once', async () => {
    const clock = createManualClock('2031-06-01T00:00:00.000Z');
    const { stores, redis } = redisImpl.open(clock);
    const user = uid('exp');
    await stores.tokens.add(user, 5);
    const key = redis!.keys.dailyTokens(user, '2031-06-01');
    const expected = nextUtcMidnight(clock.now()) + TOKEN_GRACE_MS;
    expect(await redis!.redis.pexpiretime(key)).toBe(expected);
    clock.set('2031-06-01T23:00:00Z');
    await stores.tokens.add(user, 5);
    expect(await redis!.redis.pexpiretime(key)).toBe(expected);
  });
});
