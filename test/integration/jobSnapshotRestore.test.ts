import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { createJobActor, jobLifecycleMachine } from '../../actors/jobLifecycle.machine.js';
import { persistJobSnapshot } from '../../actors/jobSnapshot.js';
import { systemClock } from '../../src/clock.js';
import { createJobsRepository } from '../../src/db/jobsRepository.js';
import { migrate } from '../../src/db/migrate.js';
import { isWardenError } from '../../src/errors.js';
import type { JobOwner } from '../../src/jobs/jobService.js';
import { createKeys } from '../../src/redis/keys.js';
import { createJobEventLog } from '../helpers/jobEventLog.js';
import { seedOwners, startTestRuntime } from '../helpers/jobRuntimeHarness.js';
import { useTestDb } from '../helpers/testDb.js';
import { useTestRedis } from '../helpers/testRedis.js';

const db = await useTestDb('job_snapshot_restore');
const redis = useTestRedis('job-snapshot-restore');
await migrate(db.sql);
const jobs = createJobsRepository(db.sql);
const fixture = JSON.parse(readFileSync(new URL('../fixtures/jobSnapshot.v1.json', import.meta.url), 'utf8')) as {
  version: number;
  snapshot: { context: Record<string, unknown> } & Record<string, unknown>;
};

/** A stored queued job whose snapshot is `snapshot` written by machine `version`. */
async function insertWithSnapshot(owner: JobOwner, projectId: string, edit: (snapshot: Record<string, unknown>, jobId: string) => unknown, version: number) {
  const id = randomUUID();
  const actor = createJobActor(jobLifecycleMachine, { jobId: id, iterationDepth: 3 }).start();
  const current = persistJobSnapshot(actor).snapshot as Record<string, unknown>;
  await jobs.insertJob({ id, ownerId: owner.id, projectId, tier: owner.tier, goal: 'restore me', status: 'queued', now: systemClock.now(), snapshot: edit(structuredClone(current), id), machineVersion: version });
  return id;
}

describe('restoring job snapshots in the runtime', () => {
  it('refuses a snapshot of an unknown machine version or shape with a clear error, leaves the job queued, and runs the others', async () => {
    const seeded = await seedOwners(db.sql, ['partner'], 1);
    const [owner] = seeded.users as [JobOwner];
    const projectId = seeded.projects[0]?.id ?? '';
    const errors: { error: unknown; jobId?: string }[] = [];
    const keys = createKeys(`${redis.prefix}${randomUUID().slice(0, 8)}:`);
    const t = await startTestRuntime({
      redis: redis.redis,
      keys,
      sql: db.sql,
      config: { workers: 2 },
      start: false,
      extra: { onError: (error, context) => errors.push({ error, ...(context.jobId ? { jobId: context.jobId } : {}) }) },
    });
    const future = await insertWithSnapshot(owner, projectId, (s) => s, 99);
    const unknownState = await insertWithSnapshot(owner, projectId, (s) => ({ ...s, value: 'archived' }), 1);
    for (const id of [future, unknownState]) await t.stores.queue.enqueue(id, 2, 100);
    const log = createJobEventLog();
    const unsubscribe = await t.stores.events.subscribeAll(log.listener);
    const normal = await t.runtime.service.submit(owner, { projectId, goal: 'fine' });
    await t.runtime.start();
    await log.waitFor((e) => e.jobId === normal.jobId && e.status === 'ready');

    const refusal = (jobId: string) => errors.find((e) => e.jobId === jobId)?.error;
    expect(isWardenError(refusal(future), 'UNKNOWN_MACHINE_VERSION') && refusal(future)).toMatchObject({
      message: 'job snapshot version 99 is not supported',
      details: { jobId: future, version: 99, supported: [1] },
    });
    expect(isWardenError(refusal(unknownState), 'INVALID_SNAPSHOT')).toBe(true);
    // Handed back untouched, in its place, for a process that knows its version.
    for (const id of [future, unknownState]) {
      expect(await jobs.getJob(null, id)).toMatchObject({ status: 'queued', seq: 1 });
      expect(await t.stores.queue.position(id)).not.toBeNull();
    }
    expect(t.runtime.hostedCount()).toBe(0);
    await unsubscribe();
    await t.close();
  });

  it('resumes a job paused in a snapshot written by machine version 1 (the committed fixture)', async () => {
    const seeded = await seedOwners(db.sql, ['bootstrapper'], 1);
    const [owner] = seeded.users as [JobOwner];
    const t = await startTestRuntime({ redis: redis.redis, keys: createKeys(`${redis.prefix}${randomUUID().slice(0, 8)}:`), sql: db.sql, config: { workers: 1 } });
    const id = await insertWithSnapshot(owner, seeded.projects[0]?.id ?? '', (_, jobId) => ({ ...fixture.snapshot, context: { ...fixture.snapshot.context, jobId } }), fixture.version);
    // Stored as the fixture says: paused in checks at iteration 2 (seq 6 of a real run).
    await db.sql`update jobs set status = 'checks', iteration = 2, awaiting_confirmation = true where id = ${id}`;
    const log = createJobEventLog();
    const unsubscribe = await t.stores.events.subscribeAll(log.listener);

    expect(await t.runtime.service.confirm(owner, id)).toMatchObject({ status: 'scaffold', iteration: 3 });
    await log.waitFor((e) => e.jobId === id && e.status === 'ready');
    expect((await jobs.getTransitions(id)).map((tr) => [tr.seq, tr.toStatus])).toEqual([
      [1, 'queued'],
      [2, 'scaffold'],
      [3, 'code'],
      [4, 'deps'],
      [5, 'checks'],
      [6, 'ready'],
    ]);
    await unsubscribe();
    await t.close();
  });
});
