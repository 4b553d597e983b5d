import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { createJobsRepository } from '../../src/db/jobsRepository.js';
import { migrate } from '../../src/db/migrate.js';
import type { JobOwner } from '../../src/jobs/jobService.js';
import { createKeys } from '../../src/redis/keys.js';
import { seedOwners, startTestRuntime } from '../helpers/jobRuntimeHarness.js';
import { useTestDb } from '../helpers/testDb.js';
import { useTestRedis } from '../helpers/testRedis.js';

/**
 * jobs.cancel on a job that PostgreSQL has as running but that nobody holds (its process died, or Redis
 * lost the queue and claims) used to leave a fail request for a host that did not exist and answer as if
 * it had cancelled: the job ran on later. Now such a job is failed at once, and the answer says so.
 */
const db = await useTestDb('cancel_unheld');
const redis = useTestRedis('cancel-unheld');
await migrate(db.sql);
const jobs = createJobsRepository(db.sql);

describe('cancelling a job nobody holds', () => {
  it('fails it at once and records the cancel', async () => {
    const seeded = await seedOwners(db.sql, ['partner'], 1);
    const [owner] = seeded.users as [JobOwner];
    const t = await startTestRuntime({ redis: redis.redis, keys: createKeys(`${redis.prefix}${randomUUID().slice(0, 8)}:`), sql: db.sql, config: { workers: 0 } });
    const { jobId } = await t.runtime.service.submit(owner, { projectId: seeded.projects[0]?.id ?? '', goal: 'stranded' });
    // What a lost queue leaves: PostgreSQL has the job as queued, Redis has it nowhere.
    expect(await t.stores.queue.remove(jobId)).toBe(true);

    const cancelled = await t.runtime.service.cancel(owner, jobId);
    expect(cancelled).toMatchObject({ status: 'failed', error: 'Cancelled by owner' });
    expect((await jobs.getTransitions(jobId)).map((tr) => tr.toStatus)).toEqual(['queued', 'failed']);
    await t.close();
  });
});
