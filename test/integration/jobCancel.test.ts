import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { createJobsRepository } from '../../src/db/jobsRepository.js';
import { migrate } from '../../src/db/migrate.js';
import { isWardenError, type WardenErrorCode } from '../../src/errors.js';
import type { JobOwner } from '../../src/jobs/jobService.js';
import { createKeys } from '../../src/redis/keys.js';
import { createJobEventLog } from '../helpers/jobEventLog.js';
import { seedOwners, startTestRuntime } from '../helpers/jobRuntimeHarness.js';
import { useTestDb } from '../helpers/testDb.js';
import { useTestRedis } from '../helpers/testRedis.js';

const db = await useTestDb('job_cancel');
const redis = useTestRedis('job-cancel');
await migrate(db.sql);
const jobs = createJobsRepository(db.sql);
const freshKeys = () => createKeys(`${redis.prefix}${randomUUID().slice(0, 8)}:`);

async function expectCode(promise: Promise<unknown>, code: WardenErrorCode): Promise<void> {
  const error = await promise.then(
    () => null,
    (err: unknown) => err,
  );
  expect(isWardenError(error, code), String(error)).toBe(true);
}

describe('cancel and confirm', () => {
  it('cancels a running job from a process that does not host it', async () => {
    const seeded = await seedOwners(db.sql, ['partner'], 1);
    const [owner] = seeded.users as [JobOwner];
    const projectId = seeded.projects[0]?.id ?? '';
    const keys = freshKeys();
    const host = await startTestRuntime({ redis: redis.redis, keys, sql: db.sql, config: { workers: 2 } });
    const other = await startTestRuntime({ redis: redis.redis, keys, sql: db.sql, config: { workers: 0 } });
    const log = createJobEventLog();
    const unsubscribe = await other.stores.events.subscribeAll(log.listener);
    // A step of a minute: only an abort ends it within the test.
    const { jobId } = await other.runtime.service.submit(owner, { projectId, goal: 'slow:60000' });
    await log.waitFor((e) => e.jobId === jobId && e.status === 'scaffold');
    expect(host.runtime.hostedCount()).toBe(1);
    expect(other.runtime.hostedCount()).toBe(0);

    const cancelled = await other.runtime.service.cancel(owner, jobId);
    expect(cancelled).toMatchObject({ status: 'failed', error: 'Cancelled by owner' });
    await host.idle();
    expect(await host.stores.claims.slotHolders('user', owner.id)).toEqual([]);
    expect(await host.stores.claims.get(jobId)).toBeNull();
    expect(await host.stores.claims.failRequest(jobId)).toBeNull();
    const stored = await jobs.getTransitions(jobId);
    expect(stored.map((t) => [t.seq, t.toStatus])).toEqual([[1, 'queued'], [2, 'starting'], [3, 'scaffold'], [4, 'failed']]);
    expect(stored.at(-1)?.message).toBe('Cancelled by owner');
    expect((log.byJob.get(jobId) ?? []).map((e) => e.seq)).toEqual([1, 2, 3, 4]);
    await expectCode(other.runtime.service.cancel(owner, jobId), 'INVALID_TRANSITION');
    await unsubscribe();
    await Promise.all([host.close(), other.close()]);
  });

  it('fails queued and scheduled jobs directly, and refuses what cannot be done', async () => {
    const seeded = await seedOwners(db.sql, ['bootstrapper', 'partner'], 1);
    const [owner, stranger] = seeded.users as [JobOwner, JobOwner];
    const projectId = seeded.projects.find((p) => p.ownerId === owner.id)?.id ?? '';
    const t = await startTestRuntime({ redis: redis.redis, keys: freshKeys(), sql: db.sql, config: { workers: 0 } });
    const submitted = [];
    for (let n = 0; n < 6; n++) submitted.push(await t.runtime.service.submit(owner, { projectId, goal: `g${n}` }));
    const [queued, , , , , scheduled] = submitted;
    expect(scheduled?.status).toBe('scheduled');

    await expectCode(t.runtime.service.confirm(owner, queued?.jobId ?? ''), 'NOT_AWAITING_CONFIRMATION');
    // Another user's job answers exactly as a missing one.
    for (const call of [
      () => t.runtime.service.get(stranger, queued?.jobId ?? ''),
      () => t.runtime.service.cancel(stranger, queued?.jobId ?? ''),
      () => t.runtime.service.confirm(stranger, queued?.jobId ?? ''),
      () => t.runtime.service.events(stranger, queued?.jobId ?? ''),
      () => t.runtime.service.get(owner, randomUUID()),
      () => t.runtime.service.cancel(owner, 'not-a-uuid'),
    ]) {
      await expectCode(call(), 'NOT_FOUND');
    }

    expect(await t.runtime.service.cancel(owner, queued?.jobId ?? '')).toMatchObject({ status: 'failed', error: 'Cancelled by owner', seq: 2 });
    expect(await t.stores.queue.position(queued?.jobId ?? '')).toBeNull();
    expect(await t.stores.queue.length()).toBe(4);
    // Straight to failed (SPEC §2), never through queued.
    expect(await t.runtime.service.cancel(owner, scheduled?.jobId ?? '')).toMatchObject({ status: 'failed', seq: 2 });
    expect((await jobs.getTransitions(scheduled?.jobId ?? '')).map((tr) => tr.toStatus)).toEqual(['scheduled', 'failed']);
    expect(await t.stores.queue.length()).toBe(4);
    await expectCode(t.runtime.service.cancel(owner, queued?.jobId ?? ''), 'INVALID_TRANSITION');
    await expectCode(t.runtime.service.confirm(owner, queued?.jobId ?? ''), 'NOT_AWAITING_CONFIRMATION');
    await t.close();
  });

  it('cancels a job paused for confirmation without any worker', async () => {
    const seeded = await seedOwners(db.sql, ['bootstrapper'], 1);
    const [owner] = seeded.users as [JobOwner];
    const keys = freshKeys();
    const worker = await startTestRuntime({ redis: redis.redis, keys, sql: db.sql, config: { workers: 1 } });
    const log = createJobEventLog();
    const unsubscribe = await worker.stores.events.subscribeAll(log.listener);
    const { jobId } = await worker.runtime.service.submit(owner, { projectId: seeded.projects[0]?.id ?? '', goal: 'fail-checks:9' });
    await log.waitFor((e) => e.jobId === jobId && e.status === 'checks' && e.previousStatus === 'checks');
    await worker.runtime.stop();

    const other = await startTestRuntime({ redis: redis.redis, keys, sql: db.sql, config: { workers: 0 } });
    expect(await other.runtime.service.get(owner, jobId)).toMatchObject({ awaitingConfirmation: true, message: 'Awaiting confirmation to continue (iteration 2)' });
    expect(await other.runtime.service.cancel(owner, jobId)).toMatchObject({ status: 'failed', awaitingConfirmation: false, iteration: 2 });
    await log.waitFor((e) => e.jobId === jobId && e.status === 'failed');
    await expectCode(other.runtime.service.confirm(owner, jobId), 'NOT_AWAITING_CONFIRMATION');
    await unsubscribe();
    await Promise.all([worker.close(), other.close()]);
  });
});
