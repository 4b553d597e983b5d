import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { isTerminal } from '../../actors/jobTransitions.js';
import { createApp, type WardenApp } from '../../src/app.js';
import { secretKey, signToken } from '../../src/auth/tokens.js';
import { createWardenClient, type WardenClient } from '../../src/client.js';
import { systemClock } from '../../src/clock.js';
import { loadConfig } from '../../src/config.js';
import { follow, type Followed } from '../helpers/followJobEvents.js';
import { usePrivateRedis } from '../helpers/privateRedis.js';
import { TEST_SECRET } from '../helpers/testApp.js';
import { useTestDb } from '../helpers/testDb.js';

/**
 * Redis is hot state, PostgreSQL the record (SPEC §10): three Warden processes share a private
 * redis-server that is SIGKILLed mid-run and started again empty. Every job still finishes, every
 * followed stream is gapless and ends, the day's quotas are exact, and no job starts twice.
 */
const redis = await usePrivateRedis();
const db = await useTestDb('redis_loss');
const dataDir = mkdtempSync(join(tmpdir(), 'warden-redis-loss-'));
afterAll(() => rmSync(dataDir, { recursive: true, force: true }));
const apps: WardenApp[] = [];
afterAll(async () => Promise.all(apps.map((app) => app.close())));

const USERS = 6;
const JOBS_PER_USER = 50; // exactly a partner's daily quota
const FOLLOWED = 100;

async function startWarden(): Promise<{ app: WardenApp; url: string }> {
  const config = loadConfig({
    DATABASE_URL: db.url,
    REDIS_URL: redis.url,
    WARDEN_KEY_PREFIX: 'loss:',
    WARDEN_SECRET: TEST_SECRET,
    WARDEN_DATA_DIR: dataDir,
    LOG_LEVEL: 'silent',
    WARDEN_WORKERS: '8',
    WARDEN_STEP_MS: '40',
    WARDEN_CHECKS_FAIL_RATE: '0.2',
    WARDEN_QUEUE_CAP: '1000',
    WARDEN_LEASE_SECONDS: '6',
    WARDEN_RISK_SCAN_SECONDS: '0',
  });
  const app = await createApp(config, { schema: db.schema, shutdownGraceMs: 0 });
  apps.push(app);
  const { url } = await app.listen(0, '127.0.0.1');
  return { app, url };
}

describe('Redis killed and restarted empty mid-run', () => {
  it('finishes every job once, with gapless ended streams and exact quotas', { timeout: 120_000 }, async () => {
    const servers = [await startWarden(), await startWarden(), await startWarden()];
    const key = secretKey(TEST_SECRET);
    const clients: WardenClient[][] = [];
    for (let u = 0; u < USERS; u++) {
      const userId = `loss-user-${u}`;
      await servers[0]?.app.services.usersRepository.upsertUser({ id: userId, tier: 'partner', now: systemClock.now() });
      const token = await signToken(key, { userId, admin: false, ttlSeconds: 600, clock: systemClock });
      clients.push(servers.map((s) => createWardenClient({ url: s.url, token })));
    }

    const submitted: { jobId: string; user: number }[] = [];
    const followed: Followed[] = [];
    await Promise.all(
      clients.map(async (own, u) => {
        const first = own[0];
        if (!first) throw new Error('no client');
        const projects = [await first.projects.create.mutate({ name: `p${u}a` }), await first.projects.create.mutate({ name: `p${u}b` })];
        for (let n = 0; n < JOBS_PER_USER; n++) {
          const client = own[n % own.length] ?? first;
          const { jobId, status } = await client.jobs.submit.mutate({ projectId: projects[n % 2]?.projectId ?? '', goal: `job ${u}/${n}` });
          expect(status).toBe('queued');
          submitted.push({ jobId, user: u });
          // Followed from the very first event, through a server other than the one it was submitted to.
          if (followed.length < FOLLOWED && n % 3 === 0) followed.push(follow(own[(n + 1) % own.length] ?? first, { jobId, lastEventId: '0' }));
        }
      }),
    );
    expect(followed.length).toBe(FOLLOWED);

    // Mid-run: some jobs done, many running or queued.
    const terminalCount = async () => (await db.sql<{ n: number }[]>`select count(*)::int as n from jobs where status in ('ready', 'failed')`)[0]?.n ?? 0;
    while ((await terminalCount()) < submitted.length / 4) await new Promise((resolve) => setTimeout(resolve, 20));
    await redis.kill();
    await new Promise((resolve) => setTimeout(resolve, 1_500));
    await redis.start();

    // A job whose checks fail four times in a row (0.2⁴, ≈ 38 % of runs have one among 300) pauses for its
    // owner's confirmation, as SPEC §4 wants: its owner confirms it, or neither it nor its stream would end.
    let confirming = true;
    const confirmer = (async () => {
      while (confirming) {
        const paused = await db.sql<{ id: string }[]>`select id from jobs where awaiting_confirmation and finished_at is null`;
        for (const { id } of paused) {
          const owner = submitted.find((s) => s.jobId === id);
          await clients[owner?.user ?? 0]?.[0]?.jobs.confirm.mutate({ jobId: id }).catch(() => {});
        }
        await new Promise((resolve) => setTimeout(resolve, 200));
      }
    })();
    await Promise.all(followed.map((f) => f.ended));
    while ((await terminalCount()) < submitted.length) await new Promise((resolve) => setTimeout(resolve, 50));
    confirming = false;
    await confirmer;

    for (const f of followed) {
      const seqs = f.events.map((e) => e.data.seq);
      expect(seqs).toEqual(Array.from({ length: seqs.length }, (_, i) => i + 1));
      expect(isTerminal(f.events.at(-1)?.data.status ?? 'queued')).toBe(true);
    }
    const perJob = await db.sql<{ job_id: string; seqs: number[]; starts: number; seq: number }[]>`
      select t.job_id, array_agg(t.seq order by t.seq) as seqs, count(*) filter (where t.to_status = 'starting')::int as starts, max(j.seq) as seq
      from job_transitions t join jobs j on j.id = t.job_id group by t.job_id`;
    expect(perJob.length).toBe(submitted.length);
    for (const job of perJob) {
      expect(job.seqs).toEqual(Array.from({ length: job.seq }, (_, i) => i + 1));
      expect(job.starts, job.job_id).toBe(1);
    }

    // The day's quotas came back from PostgreSQL: each user has used all 50, so the next job waits for tomorrow.
    for (const own of clients) {
      const client = own[2] ?? own[0];
      if (!client) throw new Error('no client');
      expect((await client.usage.get.query()).jobsUsed).toBe(JOBS_PER_USER);
      const { projectId } = await client.projects.create.mutate({ name: 'after' });
      expect((await client.jobs.submit.mutate({ projectId, goal: 'one more' })).status).toBe('scheduled');
    }
  });
});
