import { describe, expect, it } from 'vitest';
import { createManualClock } from '../../src/clock.js';
import { createRedisClaimStore, type ClaimRequest } from '../../src/redis/claimStore.js';
import { createMemoryClaimStore } from '../../src/redis/memory/memoryClaimStore.js';
import { storeImplementations, uid } from './storeImplementations.js';

const implementations = storeImplementations('claims');
const LEASE_MS = 2_000;
const NO_CAP = 1_000;

describe.each(implementations)('ClaimStore on %s', (name, impl) => {
  const setup = () => {
    const clock = createManualClock('2031-03-01T10:00:00Z');
    const opened = impl.open(clock);
    const { stores } = opened;
    const claims =
      name === 'redis' && opened.redis
        ? createRedisClaimStore(opened.redis.redis, opened.redis.keys, clock)
        : createMemoryClaimStore(stores.queue, stores.slots, clock);
    const userId = uid('user');
    const request = async (jobId: string, projectId: string, token: string, userLimit = 2, projectLimit = 2): Promise<ClaimRequest> => {
      const entry = (await stores.queue.peek(100)).find((e) => e.jobId === jobId);
      return { jobId, token, userId, projectId, score: entry?.score ?? 0, holder: 'proc-1', userLimit, projectLimit, leaseMs: LEASE_MS };
    };
    return { clock, stores, claims, userId, request };
  };

  it('takes a queued job together with both slots, once', async () => {
    const { stores, claims, userId, request } = setup();
    const project = uid('p');
    const queued = await stores.queue.enqueue('job-a', 2, NO_CAP);
    const result = await claims.claim(await request('job-a', project, 't1'));
    expect(result).toEqual({ claimed: true, score: queued.ok ? queued.score : -1, failRequest: null });
    expect(await stores.queue.position('job-a')).toBeNull();
    expect((await stores.slots.holders('user', userId)).map((h) => h.holder)).toEqual(['job-a']);
    expect((await stores.slots.holders('project', project)).map((h) => h.holder)).toEqual(['job-a']);
    expect(await claims.claim(await request('job-a', project, 't2'))).toEqual({ claimed: false, reason: 'gone' });
    expect(await claims.get('job-a')).toMatchObject({ token: 't1', holder: 'proc-1', userId, projectId: project });
  });

  it('leaves a job whose slots are full in its place in the queue', async () => {
    const { stores, claims, request } = setup();
    const project = uid('p');
    for (const id of ['a', 'b', 'c']) await stores.queue.enqueue(id, 0, NO_CAP);
    expect(await claims.claim(await request('a', project, 't-a', 2, 1))).toMatchObject({ claimed: true });
    expect(await claims.claim(await request('b', project, 't-b', 2, 1))).toEqual({ claimed: false, reason: 'project_full' });
    expect(await claims.claim(await request('b', uid('p'), 't-b', 1, 1))).toEqual({ claimed: false, reason: 'user_full' });
    expect((await stores.queue.peek(10)).map((e) => e.jobId)).toEqual(['b', 'c']);
  });

  it('renews only for the token that holds a live claim', async () => {
    const { clock, claims, stores, userId, request } = setup();
    const project = uid('p');
    await stores.queue.enqueue('j', 0, NO_CAP);
    await claims.claim(await request('j', project, 'mine'));
    const ref = { jobId: 'j', token: 'mine', userId, projectId: project };
    clock.advance(LEASE_MS - 1);
    expect(await claims.renew({ ...ref, token: 'other' }, LEASE_MS)).toBe(false);
    expect(await claims.renew(ref, LEASE_MS)).toBe(true);
    expect(await claims.get('j')).toMatchObject({ expiresAt: clock.now() + LEASE_MS });
    expect((await stores.slots.holders('user', userId))[0]?.expiresAt).toBe(clock.now() + LEASE_MS);
    clock.advance(LEASE_MS);
    expect(await claims.renew(ref, LEASE_MS)).toBe(false);
  });

  it('hands a job back under its old score, ahead of jobs queued after it', async () => {
    const { claims, stores, userId, request } = setup();
    const project = uid('p');
    for (const id of ['first', 'second']) await stores.queue.enqueue(id, 0, NO_CAP);
    await claims.claim(await request('first', project, 't'));
    const ref = { jobId: 'first', token: 't', userId, projectId: project };
    expect(await claims.release({ ...ref, token: 'stale' }, { requeue: true })).toBe(false);
    expect(await claims.release(ref, { requeue: true })).toBe(true);
    expect((await stores.queue.peek(10)).map((e) => e.jobId)).toEqual(['first', 'second']);
    expect(await stores.slots.holders('user', userId)).toEqual([]);
    expect(await claims.get('first')).toBeNull();
  });

  it('puts an expired claim back in the queue, and the stale holder can no longer touch it', async () => {
    const { clock, claims, stores, userId, request } = setup();
    const project = uid('p');
    for (const id of ['dead', 'later']) await stores.queue.enqueue(id, 0, NO_CAP);
    await claims.claim(await request('dead', project, 'old'));
    clock.advance(LEASE_MS - 1);
    expect(await claims.reclaimExpired(100)).toEqual([]);
    clock.advance(1);
    expect(await claims.reclaimExpired(100)).toEqual(['dead']);
    expect((await stores.queue.peek(10)).map((e) => e.jobId)).toEqual(['dead', 'later']);
    // A new claimant takes it (same slot holder: the job id); the stale one's calls change nothing.
    expect(await claims.claim(await request('dead', project, 'new'))).toMatchObject({ claimed: true });
    const stale = { jobId: 'dead', token: 'old', userId, projectId: project };
    expect(await claims.renew(stale, LEASE_MS)).toBe(false);
    expect(await claims.release(stale, { requeue: true })).toBe(false);
    expect((await stores.slots.holders('user', userId)).map((h) => h.holder)).toEqual(['dead']);
    expect(await claims.get('dead')).toMatchObject({ token: 'new' });
  });

  it('requeues an orphan only when it is neither queued nor claimed', async () => {
    const { claims, stores, request } = setup();
    await stores.queue.enqueue('queued', 0, NO_CAP);
    expect(await claims.requeueOrphan('queued', 0)).toBe(false);
    await stores.queue.enqueue('held', 0, NO_CAP);
    await claims.claim(await request('held', uid('p'), 't'));
    expect(await claims.requeueOrphan('held', 0)).toBe(false);
    expect(await claims.requeueOrphan('lost', 5)).toBe(true);
    // Boost 5 outranks boost 0.
    expect((await stores.queue.peek(10)).map((e) => e.jobId)).toEqual(['lost', 'queued']);
  });

  it('hands a pending fail request to whoever claims the job next, until it is cleared', async () => {
    const { claims, stores, request } = setup();
    await stores.queue.enqueue('doomed', 0, NO_CAP);
    await claims.requestFail('doomed', 'Cancelled by owner');
    expect(await claims.failRequest('doomed')).toBe('Cancelled by owner');
    expect(await claims.claim(await request('doomed', uid('p'), 't'))).toMatchObject({ claimed: true, failRequest: 'Cancelled by owner' });
    await claims.clearFailRequest('doomed');
    expect(await claims.failRequest('doomed')).toBeNull();
  });
});
