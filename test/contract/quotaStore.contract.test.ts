import { describe, expect, it } from 'vitest';
import { createManualClock } from '../../src/clock.js';
import { DEFAULT_TIERS, resolveTier } from '../../src/domain/tiers.js';
import { storeImplementations, uid } from './storeImplementations.js';

const implementations = storeImplementations('quota');
const bootstrapperLimit = resolveTier(DEFAULT_TIERS, 'bootstrapper').dailyJobs;

// Injected times lie in the future: Redis expires keys by its own clock, and an EXPIREAT in the past
// would delete the counter at once.
const JUST_BEFORE_MIDNIGHT = '2031-03-14T23:59:59.999Z';
const MIDNIGHT = '2031-03-15T00:00:00.000Z';
const NEXT_MIDNIGHT = Date.parse('2031-03-16T00:00:00.000Z');

describe.each(implementations)('QuotaStore on %s', (_name, impl) => {
  it('restores a rebuilt day: raises the counters to the recorded counts, never lowers them, expiry set once', async () => {
    const clock = createManualClock('2031-03-14T12:00:00Z');
    const { stores } = impl.open(clock);
    const [fresh, ahead] = [uid('fresh'), uid('ahead')];
    await stores.quotas.restore(fresh, '2031-03-14', 3);
    expect(await stores.quotas.usage(fresh, 5)).toMatchObject({ used: 3, remaining: 2 });
    expect(await stores.quotas.expiresAt(fresh, '2031-03-14')).toBe(Date.parse(MIDNIGHT));
    // Admissions made after the rebuild read PostgreSQL stay counted.
    for (let i = 0; i < 4; i++) await stores.quotas.admit(ahead, 5);
    await stores.quotas.restore(ahead, '2031-03-14', 2);
    expect(await stores.quotas.usage(ahead, 5)).toMatchObject({ used: 4 });
    expect(await stores.quotas.admit(fresh, 5)).toMatchObject({ admitted: true, used: 4 });

    await stores.tokens.restore(fresh, '2031-03-14', 900);
    await stores.tokens.add(fresh, 100);
    await stores.tokens.restore(fresh, '2031-03-14', 500);
    expect(await stores.tokens.used(fresh)).toBe(1000);
  });

  it('admits exactly the limit out of 1,000 concurrent admissions of one bootstrapper user', async () => {
    const clock = createManualClock('2031-03-14T12:00:00Z');
    const { stores, peers } = impl.open(clock, { peers: 4 });
    const user = uid('boot');
    const results = await Promise.all(
      Array.from({ length: 1000 }, (_, i) => peers[i % peers.length]!.quotas.admit(user, bootstrapperLimit)),
    );
    const admitted = results.filter((r) => r.admitted);
    expect(bootstrapperLimit).toBe(5);
    expect(admitted).toHaveLength(bootstrapperLimit);
    expect(admitted.map((r) => r.used).sort()).toEqual([1, 2, 3, 4, 5]);
    for (const refused of results.filter((r) => !r.admitted)) {
      expect(refused).toMatchObject({ used: 5, remaining: 0 });
    }
    expect(await stores.quotas.usage(user, bootstrapperLimit)).toMatchObject({ used: 5, remaining: 0, limit: 5 });
  });

  it('expires the counter at the next UTC midnight, just before and just after midnight', async () => {
    const clock = createManualClock(JUST_BEFORE_MIDNIGHT);
    const { stores } = impl.open(clock);
    const user = uid('midnight');

    const before = await stores.quotas.admit(user, 5);
    expect(before).toMatchObject({ admitted: true, used: 1, date: '2031-03-14', resetsAt: Date.parse(MIDNIGHT) });
    expect(await stores.quotas.expiresAt(user)).toBe(Date.parse(MIDNIGHT));

    clock.set(MIDNIGHT);
    const after = await stores.quotas.admit(user, 5);
    // A new UTC date: a fresh counter, expiring at the following midnight.
    expect(after).toMatchObject({ admitted: true, used: 1, date: '2031-03-15', resetsAt: NEXT_MIDNIGHT });
    expect(await stores.quotas.expiresAt(user)).toBe(NEXT_MIDNIGHT);
  });

  it('never moves the expiry on later increments of the day', async () => {
    const clock = createManualClock(MIDNIGHT);
    const { stores } = impl.open(clock);
    const user = uid('later');
    await stores.quotas.admit(user, 5);
    const first = await stores.quotas.expiresAt(user);
    for (const time of ['2031-03-15T08:00:00Z', '2031-03-15T17:30:00Z', '2031-03-15T23:59:59.999Z']) {
      clock.set(time);
      await stores.quotas.admit(user, 5);
      expect(await stores.quotas.expiresAt(user)).toBe(first);
    }
    expect(first).toBe(NEXT_MIDNIGHT);
    expect((await stores.quotas.usage(user, 5)).used).toBe(4);
  });

  it('changes nothing when refusing, and a refund gives one admission back', async () => {
    const clock = createManualClock('2031-03-14T10:00:00Z');
    const { stores } = impl.open(clock);
    const user = uid('refund');
    for (let i = 0; i < 2; i++) await stores.quotas.admit(user, 2);
    expect(await stores.quotas.admit(user, 2)).toMatchObject({ admitted: false, used: 2, remaining: 0 });
    expect((await stores.quotas.usage(user, 2)).used).toBe(2);

    const { date } = await stores.quotas.usage(user, 2);
    expect(await stores.quotas.refund(user, date)).toBe(1);
    expect(await stores.quotas.admit(user, 2)).toMatchObject({ admitted: true, used: 2, remaining: 0 });
  });

  it('does not go below zero or create a counter when refunding nothing', async () => {
    const clock = createManualClock('2031-03-14T10:00:00Z');
    const { stores } = impl.open(clock);
    const user = uid('empty');
    expect(await stores.quotas.refund(user)).toBe(0);
    expect(await stores.quotas.expiresAt(user)).toBeNull();
    expect(await stores.quotas.usage(user, 5)).toMatchObject({ used: 0, remaining: 5 });
  });

  it('refuses every job at a limit of zero without creating a counter', async () => {
    const clock = createManualClock('2031-03-14T10:00:00Z');
    const { stores } = impl.open(clock);
    const user = uid('zero');
    expect(await stores.quotas.admit(user, 0)).toMatchObject({ admitted: false, used: 0, remaining: 0 });
    expect(await stores.quotas.expiresAt(user)).toBeNull();
  });

  it('counts users separately', async () => {
    const clock = createManualClock('2031-03-14T10:00:00Z');
    const { stores } = impl.open(clock);
    const [a, b] = [uid('a'), uid('b')];
    await stores.quotas.admit(a, 1);
    expect(await stores.quotas.admit(b, 1)).toMatchObject({ admitted: true, used: 1 });
    expect(await stores.quotas.admit(a, 1)).toMatchObject({ admitted: false, used: 1 });
  });

  it('rejects a bad limit before touching the store', async () => {
    const { stores } = impl.open(createManualClock('2031-03-14T10:00:00Z'));
    await expect(stores.quotas.admit(uid('bad'), 1.5)).rejects.toThrow(RangeError);
    await expect(stores.quotas.admit('', 5)).rejects.toThrow(RangeError);
  });
});

describe('QuotaStore on redis: the expiry is set once', () => {
  const redisImpl = implementations[0]![1];

  it('keeps an existing expiry instead of resetting it (PEXPIREAT … NX)', async () => {
    const clock = createManualClock('2031-03-15T09:00:00Z');
    const { stores, redis } = redisImpl.open(clock);
    const user = uid('nx');
    await stores.quotas.admit(user, 5);
    const key = redis!.keys.dailyJobs(user, '2031-03-15');
    // Another writer (an older version, an operator) left a different expiry: later admissions keep it.
    const earlier = Date.parse('2031-03-15T20:00:00Z');
    await redis!.redis.pexpireat(key, earlier);
    await stores.quotas.admit(user, 5);
    expect(await redis!.redis.pexpiretime(key)).toBe(earlier);
    expect(await stores.quotas.expiresAt(user)).toBe(earlier);
  });
});
