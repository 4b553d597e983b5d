/**
 * Regression (seen trying a Redis outage by hand): a job whose step broke on the outage was handed back
 * to the queue, the hand-back failed too (Redis unreachable), and the job then waited for the orphan
 * sweep, one whole lease after Redis came back: nothing else may queue a job that could still have a live
 * holder. The process that let go of it knows it has none, and now hands it back as soon as Redis
 * answers. Here the lease is 10 minutes, so only that hand-back can finish the job within the test.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { isTerminal, type JobStatus } from '../../actors/jobTransitions.js';
import { createApp } from '../../src/app.js';
import { secretKey, signToken } from '../../src/auth/tokens.js';
import { createWardenClient } from '../../src/client.js';
import { systemClock } from '../../src/clock.js';
import { loadConfig } from '../../src/config.js';
import { usePrivateRedis } from '../helpers/privateRedis.js';
import { TEST_SECRET } from '../helpers/testApp.js';
import { useTestDb } from '../helpers/testDb.js';

const db = await useTestDb('hand_back_outage');
const redis = await usePrivateRedis();
const dataDir = mkdtempSync(join(tmpdir(), 'warden-hand-back-'));
afterAll(() => rmSync(dataDir, { recursive: true, force: true }));

const statusOf = async (jobId: string): Promise<JobStatus | undefined> =>
  (await db.sql<{ status: JobStatus }[]>`select status from jobs where id = ${jobId}`)[0]?.status;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('a job handed back while Redis is unreachable', () => {
  it('is queued again as soon as Redis answers, not a lease later', { timeout: 60_000 }, async () => {
    const config = loadConfig({
      DATABASE_URL: db.url,
      REDIS_URL: redis.url,
      WARDEN_SECRET: TEST_SECRET,
      WARDEN_DATA_DIR: dataDir,
      LOG_LEVEL: 'silent',
      WARDEN_WORKERS: '1',
      WARDEN_STEP_MS: '300',
      WARDEN_CHECKS_FAIL_RATE: '0',
      WARDEN_RISK_SCAN_SECONDS: '0',
      WARDEN_LEASE_SECONDS: '600',
    });
    const app = await createApp(config, { schema: db.schema, shutdownGraceMs: 0 });
    afterAll(() => app.close());
    const { url } = await app.listen(0, '127.0.0.1');
    // partner has a daily token budget: each step first checks it in Redis, so the outage breaks the run.
    await app.services.usersRepository.upsertUser({ id: 'outage-user', tier: 'partner', now: systemClock.now() });
    const token = await signToken(secretKey(TEST_SECRET), { userId: 'outage-user', ttlSeconds: 600, clock: systemClock });
    const client = createWardenClient({ url, token });
    const { projectId } = await client.projects.create.mutate({ name: 'Outage' });
    const { jobId } = await client.jobs.submit.mutate({ projectId, goal: 'through an outage' });
    while ((await statusOf(jobId)) !== 'scaffold') await sleep(20);

    // Redis dies and comes back empty, as a server without persistence does; the running step ends
    // meanwhile, the next one cannot check the budget, and the hand-back fails.
    await redis.kill();
    const committedInOutage = async () => (await statusOf(jobId)) !== 'scaffold';
    while (!(await committedInOutage())) await sleep(20);
    await sleep(500);
    await redis.start();

    for (let status = await statusOf(jobId); status === undefined || !isTerminal(status); status = await statusOf(jobId)) await sleep(50);
    expect(await statusOf(jobId)).toBe('ready');
  });
});
