import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { createJobActor, jobLifecycleMachine } from '../../actors/jobLifecycle.machine.js';
import { persistJobSnapshot } from '../../actors/jobSnapshot.js';
import { systemClock } from '../../src/clock.js';
import { createJobsRepository } from '../../src/db/jobsRepository.js';
import { migrate } from '../../src/db/migrate.js';
import type { RunOutcome } from '../../src/jobs/jobRunner.js';
import type { JobOwner } from '../../src/jobs/jobService.js';
import type { StepHandlers } from '../../src/jobs/stepHandlers.js';
import { createKeys } from '../../src/redis/keys.js';
import { createJobEventLog } from '../helpers/jobEventLog.js';
import { goalDrivenHandlers, seedOwners, startTestRuntime } from '../helpers/jobRuntimeHarness.js';
import { useTestDb } from '../helpers/testDb.js';
import { useTestRedis } from '../helpers/testRedis.js';

const db = await useTestDb('job_recovery');
const redis = useTestRedis('job-recovery');
await migrate(db.sql);
const jobs = createJobsRepository(db.sql);
const freshKeys = () => createKeys(`${redis.prefix}${randomUUID().slice(0, 8)}:`);
const ALL_STATUSES = ['queued', 'starting', 'scaffold', 'code', 'deps', 'checks', 'ready'];

describe('recovery', () => {
  it('takes over a job whose holder stopped renewing; the stale holder’s late transition is refused, never applied twice', async () => {
    const seeded = await seedOwners(db.sql, ['partner'], 1);
    const [owner] = seeded.users as [JobOwner];
    const keys = freshKeys();
    // "Frozen": its heartbeat pretends to renew, and its scaffold step ends only when the test says so.
    let thaw: () => void = () => {};
    const thawed = new Promise<void>((resolve) => (thaw = resolve));
    const fast = goalDrivenHandlers();
    const frozenHandlers: StepHandlers = { ...fast, scaffold: async (context) => (await thawed, fast.scaffold(context)) };
    const outcomes: RunOutcome[] = [];
    const frozen = await startTestRuntime({
      redis: redis.redis,
      keys,
      sql: db.sql,
      config: { workers: 1, leaseSeconds: 1, heartbeatSeconds: 0.25 },
      stepHandlers: frozenHandlers,
      extra: { onRunOutcome: (_, outcome) => outcomes.push(outcome), onError: () => {} },
    });
    const frozenClaims = frozen.stores.claims;
    Object.assign(frozenClaims, { renew: () => Promise.resolve(true) });
    const log = createJobEventLog();
    const unsubscribe = await frozen.stores.events.subscribeAll(log.listener);
    const { jobId } = await frozen.runtime.service.submit(owner, { projectId: seeded.projects[0]?.id ?? '', goal: 'resume me' });
    await log.waitFor((e) => e.jobId === jobId && e.status === 'scaffold');

    // The successor reclaims the expired claim, resumes from the stored scaffold, runs the step again.
    const successor = await startTestRuntime({ redis: redis.redis, keys, sql: db.sql, config: { workers: 1, leaseSeconds: 1, heartbeatSeconds: 0.25 } });
    await log.waitFor((e) => e.jobId === jobId && e.status === 'ready');
    thaw();
    await frozen.idle();
    expect(outcomes).toEqual(['lost']);

    const stored = await jobs.getTransitions(jobId);
    expect(stored.map((t) => [t.seq, t.toStatus])).toEqual(ALL_STATUSES.map((s, i) => [i + 1, s]));
    expect((log.byJob.get(jobId) ?? []).map((e) => e.seq)).toEqual([1, 2, 3, 4, 5, 6, 7]);
    expect(await successor.stores.claims.slotHolders('user', owner.id)).toEqual([]);
    await unsubscribe();
    await Promise.all([frozen.close(), successor.close()]);
  });

  it('queues again a runnable job that is neither queued nor claimed once it is older than a lease', async () => {
    const seeded = await seedOwners(db.sql, ['partner'], 1);
    const [owner] = seeded.users as [JobOwner];
    const t = await startTestRuntime({ redis: redis.redis, keys: freshKeys(), sql: db.sql, config: { workers: 1, leaseSeconds: 30 }, start: false });
    const insert = async (ageMs: number) => {
      const id = randomUUID();
      const actor = createJobActor(jobLifecycleMachine, { jobId: id, iterationDepth: 3 }).start();
      const { version, snapshot } = persistJobSnapshot(actor);
      await jobs.insertJob({ id, ownerId: owner.id, projectId: seeded.projects[0]?.id ?? '', tier: owner.tier, goal: 'orphan', status: 'queued', now: systemClock.now() - ageMs, snapshot, machineVersion: version });
      return id;
    };
    // Died between storing and queueing: one long ago, one just now (maybe still being queued).
    const orphan = await insert(31_000);
    const recent = await insert(0);
    expect(await t.runtime.tasks.requeueOrphans()).toBe(1);
    expect(await t.stores.queue.position(orphan)).toBe(1);
    expect(await t.stores.queue.position(recent)).toBeNull();
    expect(await t.runtime.tasks.requeueOrphans()).toBe(0);

    const log = createJobEventLog();
    const unsubscribe = await t.stores.events.subscribeAll(log.listener);
    await t.runtime.start();
    await log.waitFor((e) => e.jobId === orphan && e.status === 'ready');
    // Its creation (seq 1) was never published: the worker published it before its own transitions.
    expect((log.byJob.get(orphan) ?? []).map((e) => e.seq)).toEqual([1, 2, 3, 4, 5, 6, 7]);
    await unsubscribe();
    await t.close();
  });

  it('publishes what a dead holder committed but never published, before going on', async () => {
    const seeded = await seedOwners(db.sql, ['partner'], 1);
    const [owner] = seeded.users as [JobOwner];
    const t = await startTestRuntime({ redis: redis.redis, keys: freshKeys(), sql: db.sql, config: { workers: 1 }, start: false });
    const log = createJobEventLog();
    const unsubscribe = await t.stores.events.subscribeAll(log.listener);
    const { jobId } = await t.runtime.service.submit(owner, { projectId: seeded.projects[0]?.id ?? '', goal: 'half done' });
    // A holder committed START and BEGIN, then died before publishing them (its claim was taken over).
    const actor = createJobActor(jobLifecycleMachine, { jobId, iterationDepth: 3 }).start();
    actor.send({ type: 'START' });
    const afterStart = persistJobSnapshot(actor);
    actor.send({ type: 'BEGIN' });
    const afterBegin = persistJobSnapshot(actor);
    const at = systemClock.now();
    const base = { jobId, iteration: 0, at, awaitingConfirmation: false };
    const outcomes = await jobs.recordTransitions([
      { ...base, seq: 2, fromStatus: 'queued', toStatus: 'starting', message: 'Starting…', snapshot: afterStart.snapshot, machineVersion: afterStart.version },
      { ...base, seq: 3, fromStatus: 'starting', toStatus: 'scaffold', message: 'Scaffolding workspace…', snapshot: afterBegin.snapshot, machineVersion: afterBegin.version },
    ]);
    expect(outcomes.every((o) => o.applied)).toBe(true);

    await t.runtime.start();
    await log.waitFor((e) => e.jobId === jobId && e.status === 'ready');
    expect((log.byJob.get(jobId) ?? []).map((e) => [e.seq, e.status])).toEqual(ALL_STATUSES.map((s, i) => [i + 1, s]));
    await unsubscribe();
    await t.close();
  });
});
