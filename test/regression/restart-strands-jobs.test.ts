import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { isTerminal } from '../../actors/jobTransitions.js';
import { createApp, type WardenApp } from '../../src/app.js';
import { secretKey, signToken } from '../../src/auth/tokens.js';
import { createWardenClient } from '../../src/client.js';
import { systemClock } from '../../src/clock.js';
import { loadConfig } from '../../src/config.js';
import { useTestDb } from '../helpers/testDb.js';
import { TEST_SECRET } from '../helpers/testApp.js';

/**
 * A restart of the embedded default (the in-process Redis stand-in) used to strand every job that was
 * queued or running: the stand-in's queue and claims died with the process, and the orphan sweep only
 * queued them again after a whole lease. Quotas started from zero too. Now the hot state is rebuilt from
 * PostgreSQL before the first claim.
 */
const db = await useTestDb('restart_strands');
const dataDir = mkdtempSync(join(tmpdir(), 'warden-restart-'));
afterAll(() => rmSync(dataDir, { recursive: true, force: true }));
const open = new Set<WardenApp>();
afterAll(async () => Promise.all([...open].map((app) => app.close())));

async function start(stepMs: number): Promise<{ app: WardenApp; url: string }> {
  // No REDIS_URL: the stand-in, as `npm start` runs it.
  const config = loadConfig({
    DATABASE_URL: db.url,
    WARDEN_SECRET: TEST_SECRET,
    WARDEN_DATA_DIR: dataDir,
    LOG_LEVEL: 'silent',
    WARDEN_WORKERS: '1',
    WARDEN_STEP_MS: String(stepMs),
    WARDEN_CHECKS_FAIL_RATE: '0',
    WARDEN_RISK_SCAN_SECONDS: '0',
  });
  const app = await createApp(config, { schema: db.schema, shutdownGraceMs: 0 });
  open.add(app);
  const { url } = await app.listen(0, '127.0.0.1');
  return { app, url };
}

describe('a restart of the embedded default', () => {
  it('runs every job that was queued or running, in its original order, and keeps the day’s count', { timeout: 60_000 }, async () => {
    const first = await start(400);
    await first.app.services.usersRepository.upsertUser({ id: 'restart-user', tier: 'partner', now: systemClock.now() });
    const token = await signToken(secretKey(TEST_SECRET), { userId: 'restart-user', admin: false, ttlSeconds: 600, clock: systemClock });
    const before = createWardenClient({ url: first.url, token });
    const { projectId } = await before.projects.create.mutate({ name: 'Restart' });
    const submitted: string[] = [];
    for (let n = 0; n < 12; n++) submitted.push((await before.jobs.submit.mutate({ projectId, goal: `job ${n}` })).jobId);

    // One job is running when the process stops; eleven wait in the queue.
    for (;;) {
      const running = await db.sql`select 1 from jobs where status = 'scaffold' limit 1`;
      if (running.length > 0) break;
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    await first.app.close();
    open.delete(first.app);

    const restartedAt = Date.now();
    const second = await start(5);
    const after = createWardenClient({ url: second.url, token });
    // Liveness, not speed: well within one 30 s lease, which is how long the stranded jobs used to wait.
    const deadline = restartedAt + 15_000;
    for (;;) {
      const statuses = await Promise.all(submitted.map((jobId) => after.jobs.get.query({ jobId })));
      if (statuses.every((job) => isTerminal(job.status))) break;
      expect(Date.now(), 'every job terminal within 15 s of the restart').toBeLessThan(deadline);
      await new Promise((resolve) => setTimeout(resolve, 50));
    }

    const starts = await db.sql<{ job_id: string }[]>`
      select job_id from job_transitions where to_status = 'starting' order by at, job_id`;
    expect(starts.map((row) => row.job_id)).toEqual(submitted);
    const usage = await after.usage.get.query();
    expect(usage.jobsUsed).toBe(12);
  });
});
