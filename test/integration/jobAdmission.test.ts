import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { DEFAULT_SCHEDULE_MESSAGE } from '../../actors/jobLifecycle.machine.js';
import { nextUtcMidnight, systemClock } from '../../src/clock.js';
import { createJobsRepository } from '../../src/db/jobsRepository.js';
import { migrate } from '../../src/db/migrate.js';
import { estimateWait, queueRetryAfterMinutes } from '../../src/domain/waitEstimate.js';
import { isWardenError } from '../../src/errors.js';
import type { JobOwner } from '../../src/jobs/jobService.js';
import { createKeys } from '../../src/redis/keys.js';
import { seedOwners, startTestRuntime } from '../helpers/jobRuntimeHarness.js';
import { useTestDb } from '../helpers/testDb.js';
import { useTestRedis } from '../helpers/testRedis.js';

const db = await useTestDb('job_admission');
const redis = useTestRedis('job-admission');
await migrate(db.sql);
const jobs = createJobsRepository(db.sql);
const freshKeys = () => createKeys(`${redis.prefix}${randomUUID().slice(0, 8)}:`);
/** No workers: submitted jobs stay where admission put them. */
const idleRuntime = (config: { queueCap?: number } = {}) =>
  startTestRuntime({ redis: redis.redis, keys: freshKeys(), sql: db.sql, config: { workers: 0, ...config } });

describe('job admission (SPEC §3)', () => {
  it('queues by tier, first-in first-out within a tier, with position, wait estimate and usage', async () => {
    const seeded = await seedOwners(db.sql, ['partner', 'cto_scale'], 1);
    const [partner, cto] = seeded.users as [JobOwner, JobOwner];
    const project = (owner: JobOwner) => seeded.projects.find((p) => p.ownerId === owner.id)?.id ?? '';
    const t = await idleRuntime();
    const first = await t.runtime.service.submit(partner, { projectId: project(partner), goal: ' build a thing ' });
    const boosted = await t.runtime.service.submit(cto, { projectId: project(cto), goal: 'urgent' });
    const third = await t.runtime.service.submit(partner, { projectId: project(partner), goal: 'another' });

    expect([first.position, boosted.position, third.position]).toEqual([1, 1, 3]);
    expect((await t.stores.queue.peek(3)).map((e) => e.jobId)).toEqual([boosted.jobId, first.jobId, third.jobId]);
    // The estimator has no history yet: the tier default (600 s for partner) × position / max(workers, 1).
    expect(third.estimatedWait).toEqual(estimateWait({ averageSeconds: 600, position: 3, workers: 0 }));
    expect(first).toMatchObject({
      status: 'queued',
      scheduledFor: null,
      message: 'Queued at position 1. Estimated wait: 10 minutes.',
      usage: {
        jobsUsed: 1,
        jobsRemaining: 49,
        iterationsUsed: 0,
        iterationsRemaining: 9,
        iterationsBeforeConfirmation: 3,
        dailyLimitResetsAt: new Date(nextUtcMidnight(systemClock.now())).toISOString(),
      },
    });
    expect(await t.runtime.service.get(partner, first.jobId)).toMatchObject({ status: 'queued', goal: 'build a thing', position: 2, seq: 1 });
    expect((await jobs.getTransitions(first.jobId)).map((tr) => [tr.seq, tr.fromStatus, tr.toStatus])).toEqual([[1, null, 'queued']]);
    await t.close();
  });

  it('refuses a submit when the queue is full, with a retry-after, storing nothing and giving the quota back', async () => {
    const seeded = await seedOwners(db.sql, ['partner'], 1);
    const [owner] = seeded.users as [JobOwner];
    const projectId = seeded.projects[0]?.id ?? '';
    const t = await idleRuntime({ queueCap: 2 });
    const results = await Promise.allSettled(Array.from({ length: 10 }, (_, n) => t.runtime.service.submit(owner, { projectId, goal: `g${n}` })));
    const accepted = results.filter((r) => r.status === 'fulfilled');
    const refused = results.flatMap((r) => (r.status === 'rejected' ? [r.reason as unknown] : []));
    expect(accepted).toHaveLength(2);
    expect(refused).toHaveLength(8);
    for (const error of refused) {
      expect(isWardenError(error, 'QUEUE_FULL') && error.details).toEqual({
        retryAfterMinutes: queueRetryAfterMinutes({ averageSeconds: 600, workers: 0 }),
        queued: 2,
        cap: 2,
      });
    }
    expect((await jobs.listJobs({ ownerId: owner.id })).items).toHaveLength(2);
    expect(await t.runtime.service.usage(owner)).toMatchObject({ jobsUsed: 2, jobsRemaining: 48 });
    await t.close();
  });

  it('schedules what is over the daily quota for after the next UTC midnight: 20 concurrent submits with 5 left', async () => {
    const seeded = await seedOwners(db.sql, ['bootstrapper'], 1);
    const [owner] = seeded.users as [JobOwner];
    const projectId = seeded.projects[0]?.id ?? '';
    const t = await idleRuntime();
    const before = systemClock.now();
    const results = await Promise.all(Array.from({ length: 20 }, (_, n) => t.runtime.service.submit(owner, { projectId, goal: `g${n}` })));
    const scheduled = results.filter((r) => r.status === 'scheduled');
    expect(results.filter((r) => r.status === 'queued')).toHaveLength(5);
    expect(scheduled).toHaveLength(15);
    const midnight = nextUtcMidnight(before);
    for (const r of scheduled) {
      expect(r).toMatchObject({ position: null, estimatedWait: null, message: DEFAULT_SCHEDULE_MESSAGE, usage: { jobsUsed: 5, jobsRemaining: 0 } });
      const at = Date.parse(r.scheduledFor ?? '');
      expect(at).toBeGreaterThanOrEqual(midnight);
      expect(at).toBeLessThan(midnight + 300_000);
      expect(await jobs.getJob(owner.id, r.jobId)).toMatchObject({ status: 'scheduled', seq: 1, scheduledFor: r.scheduledFor });
      expect(await jobs.getTransitions(r.jobId)).toEqual([expect.objectContaining({ seq: 1, fromStatus: null, toStatus: 'scheduled', message: DEFAULT_SCHEDULE_MESSAGE })]);
    }
    expect(await t.stores.queue.length()).toBe(5);
    expect((await t.runtime.service.list(owner, { status: 'scheduled', limit: 100 })).items).toHaveLength(15);
    await t.close();
  });

  it("answers NOT_FOUND for another user's project and counts nothing", async () => {
    const seeded = await seedOwners(db.sql, ['partner', 'partner'], 1);
    const [owner, other] = seeded.users as [JobOwner, JobOwner];
    const othersProject = seeded.projects.find((p) => p.ownerId === other.id)?.id ?? '';
    const t = await idleRuntime();
    for (const projectId of [othersProject, randomUUID(), 'nope']) {
      const error = await t.runtime.service.submit(owner, { projectId, goal: 'x' }).catch((err: unknown) => err);
      expect(isWardenError(error, 'NOT_FOUND') && error.details.entity).toBe('project');
    }
    expect(await t.runtime.service.usage(owner)).toMatchObject({ jobsUsed: 0 });
    expect((await jobs.listJobs({ ownerId: owner.id })).items).toEqual([]);
    await t.close();
  });

  it('lists the caller’s jobs newest first, filtered and paginated', async () => {
    const seeded = await seedOwners(db.sql, ['partner', 'partner'], 2);
    const [owner, other] = seeded.users as [JobOwner, JobOwner];
    const [p1, p2] = seeded.projects.filter((p) => p.ownerId === owner.id).map((p) => p.id);
    const t = await idleRuntime();
    const mine = [];
    for (let n = 0; n < 5; n++) mine.push((await t.runtime.service.submit(owner, { projectId: (n % 2 ? p2 : p1) ?? '', goal: `g${n}` })).jobId);
    await t.runtime.service.submit(other, { projectId: seeded.projects.find((p) => p.ownerId === other.id)?.id ?? '', goal: 'theirs' });

    const page1 = await t.runtime.service.list(owner, { limit: 3 });
    const page2 = await t.runtime.service.list(owner, { limit: 3, cursor: page1.nextCursor });
    expect([...page1.items, ...page2.items].map((j) => j.jobId)).toEqual([...mine].reverse());
    expect(page2.nextCursor).toBeNull();
    expect((await t.runtime.service.list(owner, { projectId: p2 })).items.map((j) => j.jobId)).toEqual([mine[3], mine[1]]);
    expect(page1.items[0]).toMatchObject({ status: 'queued', stageLabel: 'Queued…', awaitingConfirmation: false });
    await t.close();
  });
});
