import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { createManualClock } from '../../src/clock.js';
import { createJobsRepository } from '../../src/db/jobsRepository.js';
import { migrate } from '../../src/db/migrate.js';
import type { JobOwner } from '../../src/jobs/jobService.js';
import { createKeys } from '../../src/redis/keys.js';
import { seedOwners, startTestRuntime } from '../helpers/jobRuntimeHarness.js';
import { useTestDb } from '../helpers/testDb.js';
import { useTestRedis } from '../helpers/testRedis.js';

const db = await useTestDb('job_scheduler');
const redis = useTestRedis('job-scheduler');
await migrate(db.sql);
const jobs = createJobsRepository(db.sql);

/** A runtime on a manual clock whose periodic tasks the test runs itself (never started). Jitter: half of 300 s. */
async function manualRuntime(start: string) {
  const clock = createManualClock(start);
  const t = await startTestRuntime({
    redis: redis.redis,
    keys: createKeys(`${redis.prefix}${randomUUID().slice(0, 8)}:`),
    sql: db.sql,
    clock,
    config: { workers: 0 },
    extra: { random: () => 0.5 },
    start: false,
  });
  return { clock, ...t };
}

async function submitMany(service: { submit: (o: JobOwner, i: { projectId: string; goal: string }) => Promise<{ jobId: string; status: string }> }, owner: JobOwner, projectId: string, n: number) {
  const out = [];
  for (let k = 0; k < n; k++) out.push(await service.submit(owner, { projectId, goal: `g${k}` }));
  return out;
}

describe('scheduler', () => {
  it('releases a scheduled job to the queue at the next UTC midnight plus its jitter, on the new day’s quota', async () => {
    const seeded = await seedOwners(db.sql, ['bootstrapper'], 1);
    const [owner] = seeded.users as [JobOwner];
    const t = await manualRuntime('2031-05-01T10:00:00Z');
    const submitted = await submitMany(t.runtime.service, owner, seeded.projects[0]?.id ?? '', 6);
    const scheduled = submitted[5];
    expect(scheduled).toMatchObject({ status: 'scheduled', scheduledFor: '2031-05-02T00:02:30.000Z' });

    expect(await t.runtime.tasks.releaseDue()).toBe(0);
    t.clock.set('2031-05-02T00:02:29.999Z');
    expect(await t.runtime.tasks.releaseDue()).toBe(0);
    t.clock.set('2031-05-02T00:02:30.000Z');
    expect(await t.runtime.tasks.releaseDue()).toBe(1);

    expect(await jobs.getJob(null, scheduled?.jobId ?? '')).toMatchObject({ status: 'queued', seq: 2, scheduledFor: null });
    expect((await jobs.getTransitions(scheduled?.jobId ?? '')).map((tr) => [tr.fromStatus, tr.toStatus])).toEqual([[null, 'scheduled'], ['scheduled', 'queued']]);
    // Behind the five queued yesterday, which no worker took.
    expect(await t.stores.queue.position(scheduled?.jobId ?? '')).toBe(6);
    expect(await t.runtime.service.usage(owner)).toMatchObject({ jobsUsed: 1, jobsRemaining: 4 });
    expect(await t.runtime.tasks.releaseDue()).toBe(0);
    await t.close();
  });

  it('moves a due job to the following midnight, without a transition, when the new day’s quota is spent too', async () => {
    const seeded = await seedOwners(db.sql, ['bootstrapper'], 1);
    const [owner] = seeded.users as [JobOwner];
    const projectId = seeded.projects[0]?.id ?? '';
    const t = await manualRuntime('2031-06-01T10:00:00Z');
    const [, , , , , scheduled] = await submitMany(t.runtime.service, owner, projectId, 6);
    t.clock.set('2031-06-02T00:01:00Z');
    expect((await submitMany(t.runtime.service, owner, projectId, 5)).every((r) => r.status === 'queued')).toBe(true);
    t.clock.set('2031-06-02T00:02:30Z');

    expect(await t.runtime.tasks.releaseDue()).toBe(0);
    expect(await jobs.getJob(null, scheduled?.jobId ?? '')).toMatchObject({ status: 'scheduled', seq: 1, scheduledFor: '2031-06-03T00:02:30.000Z' });
    expect(await t.runtime.service.usage(owner)).toMatchObject({ jobsUsed: 5 });
    await t.close();
  });

  it('fails unfinished jobs older than the maximum age, with the reason', async () => {
    const seeded = await seedOwners(db.sql, ['bootstrapper'], 1);
    const [owner] = seeded.users as [JobOwner];
    const t = await manualRuntime('2031-07-01T00:00:00Z');
    const [queued, , , , , scheduled] = await submitMany(t.runtime.service, owner, seeded.projects[0]?.id ?? '', 6);
    // Exactly 72 hours old is not older than 72 hours.
    t.clock.advance(72 * 3_600_000);
    await t.runtime.tasks.failOverAge();
    expect(await jobs.getJob(null, queued?.jobId ?? '')).toMatchObject({ status: 'queued' });

    t.clock.advance(1);
    await t.runtime.tasks.failOverAge();
    for (const job of [queued, scheduled]) {
      expect(await jobs.getJob(null, job?.jobId ?? '')).toMatchObject({ status: 'failed', error: 'Job exceeded the maximum age of 72 hours' });
    }
    expect(await t.stores.queue.position(queued?.jobId ?? '')).toBeNull();
    expect((await jobs.getTransitions(scheduled?.jobId ?? '')).map((tr) => tr.toStatus)).toEqual(['scheduled', 'failed']);
    await t.close();
  });
});
