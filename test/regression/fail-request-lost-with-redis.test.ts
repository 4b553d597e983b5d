/**
 * Regression (a leftover of earlier notes, SPEC §10: Redis is never the only copy of anything that
 * matters): a request to fail a running job lived only in Redis. A cancel whose job's host had died
 * with its lease still running waited its ~20 s, left the request for the next host and answered; when
 * Redis then came back empty, the job was queued again by the rebuild and ran to `ready` — the owner's
 * cancel was lost. The request is now kept in PostgreSQL too: a host loading the job reads it, and hosts
 * look up their jobs' requests every few seconds.
 */
import { randomUUID } from 'node:crypto';
import { afterAll, describe, expect, it } from 'vitest';
import { isTerminal, type JobStatus } from '../../actors/jobTransitions.js';
import { createJobRuntimeQueries } from '../../src/db/jobRuntimeQueries.js';
import { migrate } from '../../src/db/migrate.js';
import { CANCEL_REASON } from '../../src/jobs/failJob.js';
import { createRedis, waitUntilReady } from '../../src/redis/client.js';
import { createKeys } from '../../src/redis/keys.js';
import { seedOwners, startTestRuntime } from '../helpers/jobRuntimeHarness.js';
import { usePrivateRedis } from '../helpers/privateRedis.js';
import { useTestDb } from '../helpers/testDb.js';

const db = await useTestDb('fail_request_durable');
await migrate(db.sql);
const redis = await usePrivateRedis();
const connection = createRedis(redis.url);
afterAll(() => void connection.disconnect());

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const stored = async (jobId: string) =>
  (await db.sql<{ status: JobStatus; error: string | null }[]>`select status, error from jobs where id = ${jobId}`)[0];
async function finished(jobId: string): Promise<{ status: JobStatus; error: string | null }> {
  for (;;) {
    const row = await stored(jobId);
    if (row && isTerminal(row.status)) return row;
    await sleep(50);
  }
}

describe('a fail request when Redis comes back empty', () => {
  it('still fails a job whose host died after the cancel gave up waiting', { timeout: 90_000 }, async () => {
    const keys = createKeys(`failreq:${randomUUID().slice(0, 8)}:`);
    const seeded = await seedOwners(db.sql, ['cto_scale'], 1);
    const [owner] = seeded.users;
    const [project] = seeded.projects;
    if (!owner || !project) throw new Error('seed');
    const api = await startTestRuntime({ redis: connection, keys, sql: db.sql, config: { workers: 0, leaseSeconds: 600 } });
    afterAll(() => api.close());
    const { jobId } = await api.runtime.service.submit(owner, { projectId: project.id, goal: 'cancelled, then Redis lost' });

    // A host claims the job and dies: its claim holds for the lease (10 minutes), so nobody may run it.
    const [entry] = await api.stores.queue.peek(1);
    const claimed = await api.stores.claims.claim({
      jobId,
      token: randomUUID(),
      userId: owner.id,
      projectId: project.id,
      score: entry?.score ?? 0,
      holder: 'a-process-that-died',
      userLimit: 10,
      projectLimit: 10,
      leaseMs: 600_000,
    });
    expect(claimed.claimed).toBe(true);

    // The owner cancels: the job is held, so the cancel leaves its request with the host and, after
    // waiting for it in vain, answers with the job still queued.
    const summary = await api.runtime.service.cancel(owner, jobId);
    expect(summary.status).toBe('queued');

    // Redis dies and comes back empty; a new process rebuilds the hot state (the job is queued again)
    // and runs it. The request must still apply.
    await redis.kill();
    await redis.start();
    await waitUntilReady(connection);
    const worker = await startTestRuntime({ redis: connection, keys, sql: db.sql, config: { workers: 1, leaseSeconds: 600 }, adoptHotState: false });
    afterAll(() => worker.close());

    expect(await finished(jobId)).toEqual({ status: 'failed', error: CANCEL_REASON });
  });

  it('reaches a live host through PostgreSQL alone', { timeout: 30_000 }, async () => {
    const keys = createKeys(`failreq:${randomUUID().slice(0, 8)}:`);
    const seeded = await seedOwners(db.sql, ['cto_scale'], 1);
    const [owner] = seeded.users;
    const [project] = seeded.projects;
    if (!owner || !project) throw new Error('seed');
    const host = await startTestRuntime({
      redis: connection,
      keys,
      sql: db.sql,
      config: { workers: 1 },
      extra: { failRequestCheckMs: 100 },
    });
    afterAll(() => host.close());
    // Steps of 2 s: without the request the job would take 8 s to reach ready.
    const { jobId } = await host.runtime.service.submit(owner, { projectId: project.id, goal: 'slow:2000' });
    while ((await stored(jobId))?.status !== 'scaffold') await sleep(20);

    // The request as PostgreSQL keeps it, with no Redis copy and no message (both lost with Redis).
    expect(await createJobRuntimeQueries(db.sql).recordFailRequest(jobId, 'Max age reached')).toBe(true);
    expect(await finished(jobId)).toEqual({ status: 'failed', error: 'Max age reached' });
  });
});
