import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { createJobRuntimeQueries } from '../../src/db/jobRuntimeQueries.js';
import { createJobsRepository } from '../../src/db/jobsRepository.js';
import { migrate } from '../../src/db/migrate.js';
import { recordTransitions } from '../../src/db/recordTransitions.js';
import { isWardenError } from '../../src/errors.js';
import type { JobOwner } from '../../src/jobs/jobService.js';
import { createKeys } from '../../src/redis/keys.js';
import { seedOwners, startTestRuntime } from '../helpers/jobRuntimeHarness.js';
import { useTestDb } from '../helpers/testDb.js';
import { useTestRedis } from '../helpers/testRedis.js';

/**
 * Wait estimates used to count only the answering process's runners (an API-only process said "no
 * workers"), ignore that idle runners start a job at once (a position-1 job on an idle server was "3
 * minutes" away and ran in 3 s), and count the time a job sat paused for its owner's confirmation as
 * part of its duration.
 */
const db = await useTestDb('wait_estimate');
const redis = useTestRedis('wait-estimate');
await migrate(db.sql);
const freshKeys = () => createKeys(`${redis.prefix}${randomUUID().slice(0, 8)}:`);

describe('wait estimates', () => {
  it('count every live process’s runners, and idle ones as no wait', async () => {
    const seeded = await seedOwners(db.sql, ['partner'], 1);
    const [owner] = seeded.users as [JobOwner];
    const projectId = seeded.projects[0]?.id ?? '';
    const keys = freshKeys();
    const api = await startTestRuntime({ redis: redis.redis, keys, sql: db.sql, config: { workers: 0, queueCap: 1 } });
    const workers = [await startTestRuntime({ redis: redis.redis, keys, sql: db.sql, config: { workers: 3, queueCap: 1 }, start: false })];
    workers.push(await startTestRuntime({ redis: redis.redis, keys, sql: db.sql, config: { workers: 5, queueCap: 1 }, start: false }));
    // Announced and idle, but taking nothing: the queue stays as the submits leave it.
    for (const w of workers) {
      await w.runtime.start();
      await w.runtime.stopTaking();
    }
    const first = await api.runtime.service.submit(owner, { projectId, goal: 'first' });
    expect(first.position).toBe(1);
    // Eight idle runners across the cluster: position 1 starts now.
    expect(first.estimatedWait).toMatchObject({ seconds: 0 });
    const refused = await api.runtime.service.submit(owner, { projectId, goal: 'second' }).catch((e: unknown) => e);
    // 600 s average ÷ 8 runners = 75 s: retry after 2 minutes (with this process's 0 runners it said 10).
    expect(isWardenError(refused, 'QUEUE_FULL') && refused.details.retryAfterMinutes).toBe(2);
    for (const t of [api, ...workers]) await t.close();
  });

  it('leave out the time a job waited for its owner’s confirmation', async () => {
    const seeded = await seedOwners(db.sql, ['bootstrapper'], 1);
    const [owner] = seeded.users as [JobOwner];
    const T0 = Date.parse('2026-05-01T10:00:00Z');
    const job = await createJobsRepository(db.sql).insertJob({ ownerId: owner.id, projectId: seeded.projects[0]?.id ?? '', tier: 'bootstrapper', goal: 'g', status: 'queued', now: T0 });
    const path = ['queued', 'starting', 'scaffold', 'code', 'deps', 'checks', 'checks', 'checks', 'ready'] as const;
    // Paused at +10 s (checks → checks), confirmed at +70 s (checks → checks): 60 s of waiting.
    const times = [0, 1, 2, 3, 4, 5, 10, 70, 80].map((s) => T0 + s * 1000);
    await recordTransitions(
      db.sql,
      path.slice(1).map((to, i) => ({
        jobId: job.id,
        seq: i + 2,
        fromStatus: path[i] ?? 'queued',
        toStatus: to,
        message: to,
        iteration: 0,
        at: times[i + 1] ?? T0,
        awaitingConfirmation: i + 2 === 7,
      })),
    );
    expect(await createJobRuntimeQueries(db.sql).pausedMs(job.id)).toBe(60_000);
  });
});
