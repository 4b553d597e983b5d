import { describe, expect, it } from 'vitest';
import { createManualClock } from '../../src/clock.js';
import { DEFAULT_TIERS } from '../../src/domain/tiers.js';
import { storeImplementations, uid } from './storeImplementations.js';

const implementations = storeImplementations('slots');
const LEASE_MS = 3_600_000;
const { concurrentPerUser, concurrentPerProject } = DEFAULT_TIERS.bootstrapper;

describe.each(implementations)('SlotStore on %s', (_name, impl) => {
  const setup = () => {
    const clock = createManualClock('2031-02-01T10:00:00Z');
    const { stores, peers } = impl.open(clock, { peers: 3 });
    const userId = uid('user');
    const claim = (holder: string, projectId: string) => ({
      holder,
      userId,
      projectId,
      userLimit: concurrentPerUser,
      projectLimit: 1,
      leaseMs: LEASE_MS,
    });
    return { clock, slots: stores.slots, peers, userId, claim };
  };

  it('takes both slots or neither', async () => {
    const { slots, userId, claim } = setup();
    const [p1, p2, p3] = [uid('p1'), uid('p2'), uid('p3')];
    expect(await slots.acquire(claim('a', p1))).toEqual({ acquired: true });
    // The project is full: the user's free slot must not be taken either.
    expect(await slots.acquire(claim('b', p1))).toEqual({ acquired: false, full: 'project' });
    expect((await slots.holders('user', userId)).map((h) => h.holder)).toEqual(['a']);
    expect(await slots.acquire(claim('c', p2))).toEqual({ acquired: true });
    // The user is full: the free project slot stays free.
    expect(await slots.acquire(claim('d', p3))).toEqual({ acquired: false, full: 'user' });
    expect(await slots.holders('project', p3)).toEqual([]);
    expect((await slots.holders('user', userId)).map((h) => h.holder).sort()).toEqual(['a', 'c']);
  });

  it('lets the same holder acquire again, renewing its lease without taking a second slot', async () => {
    const { clock, slots, userId, claim } = setup();
    const project = uid('p');
    await slots.acquire(claim('a', project));
    clock.advance(1000);
    expect(await slots.acquire(claim('a', project))).toEqual({ acquired: true });
    expect(await slots.holders('user', userId)).toEqual([{ holder: 'a', expiresAt: clock.now() + LEASE_MS }]);
    expect(await slots.holders('project', project)).toEqual([{ holder: 'a', expiresAt: clock.now() + LEASE_MS }]);
  });

  it('frees the slots of a holder that stops heartbeating once its lease has run out', async () => {
    const { clock, slots, userId, claim } = setup();
    const [p1, p2, p3] = [uid('p1'), uid('p2'), uid('p3')];
    await slots.acquire(claim('dead', p1));
    await slots.acquire(claim('alive', p2));
    expect(await slots.acquire(claim('waiting', p3))).toMatchObject({ acquired: false, full: 'user' });

    clock.advance(LEASE_MS / 2);
    expect(await slots.heartbeat({ ...claim('alive', p2) })).toBe(true);
    clock.advance(LEASE_MS / 2 - 1);
    // One millisecond before the dead holder's lease ends, its slots are still taken.
    expect(await slots.acquire(claim('waiting', p3))).toMatchObject({ acquired: false, full: 'user' });
    clock.advance(1);
    expect(await slots.acquire(claim('waiting', p3))).toEqual({ acquired: true });
    expect((await slots.holders('user', userId)).map((h) => h.holder).sort()).toEqual(['alive', 'waiting']);
    expect(await slots.holders('project', p1)).toEqual([]);
    // The dead holder comes back: its lease is lost, and it holds neither slot.
    expect(await slots.heartbeat(claim('dead', p1))).toBe(false);
    expect(await slots.acquire(claim('other', p1))).toMatchObject({ acquired: false, full: 'user' });
  });

  it('lists only live holders, even before anyone cleans up', async () => {
    const { clock, slots, userId, claim } = setup();
    const project = uid('p');
    await slots.acquire(claim('short', project));
    clock.advance(LEASE_MS);
    expect(await slots.holders('user', userId)).toEqual([]);
    expect(await slots.holders('project', project)).toEqual([]);
  });

  it('renews both leases by heartbeat only while they are held', async () => {
    const { clock, slots, userId, claim } = setup();
    const project = uid('p');
    await slots.acquire(claim('job', project));
    for (let beat = 0; beat < 5; beat++) {
      clock.advance(LEASE_MS - 1);
      expect(await slots.heartbeat(claim('job', project))).toBe(true);
    }
    expect(await slots.holders('user', userId)).toEqual([{ holder: 'job', expiresAt: clock.now() + LEASE_MS }]);
    expect(await slots.heartbeat(claim('never-held', project))).toBe(false);
    expect((await slots.holders('project', project)).map((h) => h.holder)).toEqual(['job']);
  });

  it('releases both slots', async () => {
    const { slots, userId, claim } = setup();
    const project = uid('p');
    await slots.acquire(claim('job', project));
    expect(await slots.release(claim('job', project))).toBe(true);
    expect(await slots.release(claim('job', project))).toBe(false);
    expect(await slots.holders('user', userId)).toEqual([]);
    expect(await slots.holders('project', project)).toEqual([]);
    expect(await slots.heartbeat(claim('job', project))).toBe(false);
  });

  it('grants exactly the limits to concurrent acquirers on several clients', async () => {
    const { slots, peers, userId } = setup();
    const project = uid('shared');
    const results = await Promise.all(
      Array.from({ length: 60 }, (_, i) =>
        peers[i % peers.length]!.slots.acquire({
          holder: `job-${i}`,
          userId: i % 2 === 0 ? userId : `${userId}-other`,
          projectId: project,
          userLimit: concurrentPerUser,
          projectLimit: concurrentPerProject + 1,
          leaseMs: LEASE_MS,
        }),
      ),
    );
    expect(results.filter((r) => r.acquired)).toHaveLength(concurrentPerProject + 1);
    expect(await slots.holders('project', project)).toHaveLength(concurrentPerProject + 1);
    expect((await slots.holders('user', userId)).length).toBeLessThanOrEqual(concurrentPerUser);
    expect((await slots.holders('user', `${userId}-other`)).length).toBeLessThanOrEqual(concurrentPerUser);
  });
});
