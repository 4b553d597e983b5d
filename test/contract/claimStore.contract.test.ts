import { describe, expect, it } from 'vitest';
import { createManualClock } from '../../src/clock.js';
import { DEFAULT_TIERS } from '../../src/domain/tiers.js';
import type { ClaimRequest } from '../../src/redis/claimStore.js';
import { deleteByPrefix } from '../../src/redis/deleteByPrefix.js';
import { storeImplementations, uid, type StoreImplementation } from './storeImplementations.js';

const implementations = storeImplementations('claims');
const LEASE_MS = 2_000;
const NO_CAP = 1_000;

const setupWith = (impl: StoreImplementation) => () => {
  const clock = createManualClock('2031-03-01T10:00:00Z');
  const opened = impl.open(clock, { peers: 3 });
  const { stores, peers } = opened;
  const { claims } = stores;
  const userId = uid('user');
  const request = async (jobId: string, projectId: string, token: string, userLimit = 2, projectLimit = 2): Promise<ClaimRequest> => {
    const entry = (await stores.queue.peek(100)).find((e) => e.jobId === jobId);
    return { jobId, token, userId, projectId, score: entry?.score ?? 0, holder: 'proc-1', userLimit, projectLimit, leaseMs: LEASE_MS };
  };
  return { clock, stores, peers, claims, userId, request, opened };
};

describe.each(implementations)('ClaimStore on %s', (_name, impl) => {
  const setup = setupWith(impl);

  it('takes a queued job together with both slots, once', async () => {
    const { stores, claims, userId, request } = setup();
    const project = uid('p');
    const queued = await stores.queue.enqueue('job-a', 2, NO_CAP);
    const result = await claims.claim(await request('job-a', project, 't1'));
    expect(result).toEqual({ claimed: true, score: queued.ok ? queued.score : -1, failRequest: null });
    expect(await stores.queue.position('job-a')).toBeNull();
    expect((await claims.slotHolders('user', userId)).map((h) => h.holder)).toEqual(['job-a']);
    expect((await claims.slotHolders('project', project)).map((h) => h.holder)).toEqual(['job-a']);
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

  it('takes both slots or neither', async () => {
    const { stores, claims, userId, request } = setup();
    const [p1, p2, p3] = [uid('p1'), uid('p2'), uid('p3')];
    for (const id of ['a', 'b', 'c', 'd']) await stores.queue.enqueue(id, 0, NO_CAP);
    expect(await claims.claim(await request('a', p1, 't', 2, 1))).toMatchObject({ claimed: true });
    // The project is full: the user's free slot must not be taken either.
    expect(await claims.claim(await request('b', p1, 't', 2, 1))).toEqual({ claimed: false, reason: 'project_full' });
    expect((await claims.slotHolders('user', userId)).map((h) => h.holder)).toEqual(['a']);
    expect(await claims.claim(await request('c', p2, 't', 2, 1))).toMatchObject({ claimed: true });
    // The user is full: the free project slot stays free.
    expect(await claims.claim(await request('d', p3, 't', 2, 1))).toEqual({ claimed: false, reason: 'user_full' });
    expect(await claims.slotHolders('project', p3)).toEqual([]);
    expect((await claims.slotHolders('user', userId)).map((h) => h.holder).sort()).toEqual(['a', 'c']);
  });

  it('frees the slots of a holder that stops renewing exactly when its lease runs out, and lists only live holders', async () => {
    const { clock, stores, claims, userId, request } = setup();
    const [p1, p2, p3] = [uid('p1'), uid('p2'), uid('p3')];
    for (const id of ['dead', 'alive', 'waiting']) await stores.queue.enqueue(id, 0, NO_CAP);
    await claims.claim(await request('dead', p1, 'td'));
    await claims.claim(await request('alive', p2, 'ta'));
    expect(await claims.claim(await request('waiting', p3, 'tw'))).toEqual({ claimed: false, reason: 'user_full' });
    clock.advance(LEASE_MS / 2);
    expect(await claims.renew({ jobId: 'alive', token: 'ta', userId, projectId: p2 }, LEASE_MS)).toBe(true);
    clock.advance(LEASE_MS / 2 - 1);
    // One millisecond before the dead holder's lease ends, its slots are still taken.
    expect(await claims.claim(await request('waiting', p3, 'tw'))).toEqual({ claimed: false, reason: 'user_full' });
    clock.advance(1);
    expect(await claims.slotHolders('project', p1)).toEqual([]);
    expect(await claims.claim(await request('waiting', p3, 'tw'))).toMatchObject({ claimed: true });
    expect((await claims.slotHolders('user', userId)).map((h) => h.holder).sort()).toEqual(['alive', 'waiting']);
    // The dead holder comes back: its lease is lost.
    expect(await claims.renew({ jobId: 'dead', token: 'td', userId, projectId: p1 }, LEASE_MS)).toBe(false);
  });

  it('renews both leases while held, and frees both on release', async () => {
    const { clock, stores, claims, userId, request } = setup();
    const project = uid('p');
    await stores.queue.enqueue('job', 0, NO_CAP);
    await claims.claim(await request('job', project, 't'));
    const ref = { jobId: 'job', token: 't', userId, projectId: project };
    for (let beat = 0; beat < 5; beat++) {
      clock.advance(LEASE_MS - 1);
      expect(await claims.renew(ref, LEASE_MS)).toBe(true);
    }
    expect(await claims.slotHolders('user', userId)).toEqual([{ holder: 'job', expiresAt: clock.now() + LEASE_MS }]);
    expect(await claims.slotHolders('project', project)).toEqual([{ holder: 'job', expiresAt: clock.now() + LEASE_MS }]);
    expect(await claims.renew({ ...ref, jobId: 'never-held' }, LEASE_MS)).toBe(false);
    expect(await claims.release(ref, { requeue: false })).toBe(true);
    expect(await claims.release(ref, { requeue: false })).toBe(false);
    expect(await claims.slotHolders('user', userId)).toEqual([]);
    expect(await claims.slotHolders('project', project)).toEqual([]);
    expect(await stores.queue.position('job')).toBeNull();
  });

  it('grants exactly the limits to concurrent claimers on several clients', async () => {
    const { stores, peers, userId, request } = setup();
    const { concurrentPerUser, concurrentPerProject } = DEFAULT_TIERS.bootstrapper;
    const project = uid('shared');
    const ids = Array.from({ length: 60 }, (_, i) => `job-${i}`);
    for (const id of ids) await stores.queue.enqueue(id, 0, NO_CAP);
    const results = await Promise.all(
      ids.map(async (id, i) => {
        const base = await request(id, project, `t-${i}`, concurrentPerUser, concurrentPerProject + 1);
        const owner = i % 2 === 0 ? userId : `${userId}-other`;
        return peers[i % peers.length]!.claims.claim({ ...base, userId: owner });
      }),
    );
    expect(results.filter((r) => r.claimed)).toHaveLength(concurrentPerProject + 1);
    expect(await stores.claims.slotHolders('project', project)).toHaveLength(concurrentPerProject + 1);
    expect((await stores.claims.slotHolders('user', userId)).length).toBeLessThanOrEqual(concurrentPerUser);
    expect((await stores.claims.slotHolders('user', `${userId}-other`)).length).toBeLessThanOrEqual(concurrentPerUser);
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
    expect((await claims.slotHolders('user', userId))[0]?.expiresAt).toBe(clock.now() + LEASE_MS);
    clock.advance(LEASE_MS);
    expect(await claims.renew(ref, LEASE_MS)).toBe(false);
  });

  it('folds a finished job’s duration into its tier’s average on release, as recordDuration does', async () => {
    const { stores, claims, userId, request } = setup();
    const project = uid('p');
    const tier = uid('tier');
    await stores.queue.enqueue('done', 0, NO_CAP);
    await claims.claim(await request('done', project, 't'));
    const ref = { jobId: 'done', token: 't', userId, projectId: project };
    expect(await claims.release(ref, { requeue: false, duration: { tier, seconds: 100, defaultSeconds: 600 } })).toBe(true);
    // 0.3 × 100 + 0.7 × 600 (the tier's default before its first job).
    expect(await stores.estimator.average(tier, 600)).toBeCloseTo(450, 9);
    // A stale holder's release changes no claim, but the job did take that long.
    expect(await claims.release(ref, { requeue: false, duration: { tier, seconds: 450, defaultSeconds: 600 } })).toBe(false);
    expect(await stores.estimator.average(tier, 600)).toBeCloseTo(450, 9);
    await expect(claims.release(ref, { requeue: false, duration: { tier, seconds: -1, defaultSeconds: 600 } })).rejects.toThrow(RangeError);
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
    expect(await claims.slotHolders('user', userId)).toEqual([]);
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
    expect((await claims.slotHolders('user', userId)).map((h) => h.holder)).toEqual(['dead']);
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

// Only Redis can lose its data under a live process; the stand-in dies with it.
describe('ClaimStore on redis after Redis lost its data', () => {
  const redisImpl = implementations.find(([name]) => name === 'redis')?.[1];
  if (!redisImpl) throw new Error('no redis implementation');
  const setup = setupWith(redisImpl);

  it('lets a live holder re-assert its claim after Redis lost its data, unless the job was queued again', async () => {
    const { stores, claims, userId, request, opened } = setup();
    const project = uid('p');
    for (const id of ['kept', 'requeued']) await stores.queue.enqueue(id, 0, NO_CAP);
    const kept = await claims.claim(await request('kept', project, 'tk'));
    await claims.claim(await request('requeued', project, 'tr'));
    if (!kept.claimed || !opened.redis) throw new Error('setup');
    await deleteByPrefix(opened.redis.redis, opened.redis.keys.prefix);
    // The rebuild queued one of the two before its holder's heartbeat.
    await claims.requeueOrphan('requeued', 0);
    const restore = { holder: 'proc-1', score: kept.score };
    expect(await claims.renew({ jobId: 'kept', token: 'tk', userId, projectId: project, restore }, LEASE_MS)).toBe(true);
    expect(await claims.get('kept')).toMatchObject({ token: 'tk', holder: 'proc-1' });
    expect((await claims.slotHolders('user', userId)).map((h) => h.holder)).toEqual(['kept']);
    expect(await claims.renew({ jobId: 'requeued', token: 'tr', userId, projectId: project, restore }, LEASE_MS)).toBe(false);
    // Without the claim to re-assert, a lost claim stays lost.
    await deleteByPrefix(opened.redis.redis, opened.redis.keys.prefix);
    expect(await claims.renew({ jobId: 'kept', token: 'tk', userId, projectId: project }, LEASE_MS)).toBe(false);
  });
});
