import { describe, expect, it } from 'vitest';
import { isTerminal } from '../../actors/jobTransitions.js';
import { systemClock } from '../../src/clock.js';
import { createJobsRepository } from '../../src/db/jobsRepository.js';
import { migrate } from '../../src/db/migrate.js';
import { createJobRuntime } from '../../src/jobs/createJobRuntime.js';
import type { JobOwner } from '../../src/jobs/jobService.js';
import { createMemoryStores } from '../../src/redis/memory/createMemoryStores.js';
import { createJobEventLog } from '../helpers/jobEventLog.js';
import { TEST_RUNTIME_CONFIG, goalDrivenHandlers, seedOwners } from '../helpers/jobRuntimeHarness.js';
import { useTestDb } from '../helpers/testDb.js';

const db = await useTestDb('job_runtime_memory');
await migrate(db.sql);
const jobs = createJobsRepository(db.sql);

describe('job runtime on the in-process stand-in (embedded default)', () => {
  it('runs, pauses, resumes and cancels jobs with the same guarantees in one process', async () => {
    const seeded = await seedOwners(db.sql, ['partner', 'bootstrapper'], 2);
    const [partner, bootstrapper] = seeded.users as [JobOwner, JobOwner];
    const projectOf = (owner: JobOwner, n: number) => seeded.projects.filter((p) => p.ownerId === owner.id)[n % 2]?.id ?? '';
    const stores = createMemoryStores({ clock: systemClock });
    const runtime = createJobRuntime({ sql: db.sql, stores, config: { ...TEST_RUNTIME_CONFIG, workers: 4 }, stepHandlers: goalDrivenHandlers(), pollMs: 200 });
    const confirms: Promise<unknown>[] = [];
    const log = createJobEventLog((event) => {
      if (event.status === 'checks' && event.previousStatus === 'checks') confirms.push(runtime.service.confirm(partner, event.jobId));
    });
    await stores.events.subscribeAll(log.listener);
    await runtime.start();

    const submitted: string[] = [];
    for (let n = 0; n < 30; n++) {
      const goal = n % 3 === 0 ? 'fail-checks:4' : n % 3 === 1 ? 'fail-step:deps' : 'slow:2';
      submitted.push((await runtime.service.submit(partner, { projectId: projectOf(partner, n), goal })).jobId);
    }
    const slow = await runtime.service.submit(bootstrapper, { projectId: projectOf(bootstrapper, 0), goal: 'slow:60000' });
    await log.waitFor((e) => e.jobId === slow.jobId && e.status === 'scaffold');
    expect(await runtime.service.cancel(bootstrapper, slow.jobId)).toMatchObject({ status: 'failed', error: 'Cancelled by owner' });

    await log.until(() => submitted.every((id) => (log.byJob.get(id) ?? []).some((e) => isTerminal(e.status))));
    await Promise.all(confirms);
    for (const jobId of [...submitted, slow.jobId]) {
      const row = await jobs.getJob(null, jobId);
      const seqs = Array.from({ length: row?.seq ?? 0 }, (_, k) => k + 1);
      expect((await jobs.getTransitions(jobId)).map((t) => t.seq)).toEqual(seqs);
      expect((log.byJob.get(jobId) ?? []).map((e) => e.seq)).toEqual(seqs);
    }
    expect(confirms).toHaveLength(10);
    await runtime.stop();
    expect(runtime.hostedCount()).toBe(0);
    expect(await stores.queue.length()).toBe(0);
    await stores.close();
  });
});
