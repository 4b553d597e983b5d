import { TRPCClientError } from '@trpc/client';
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
import { TEST_SECRET } from '../helpers/testApp.js';
import { useTestDb } from '../helpers/testDb.js';
import { useTestRedis } from '../helpers/testRedis.js';
import { useTcpProxy, type TcpProxy } from '../helpers/tcpProxy.js';

/**
 * Redis, then PostgreSQL, unreachable for 10 s each while jobs run (SPEC §10): every call answers
 * within 3 s — with its result, or with a typed UNAVAILABLE (503, retryAfterSeconds) — reads that
 * PostgreSQL can answer keep answering while Redis is down, and afterwards every job finishes, with
 * nothing stored twice.
 */
const db = await useTestDb('outages');
const testRedis = useTestRedis('outages');
const redisProxy = await useTcpProxy({ host: '127.0.0.1', port: Number(new URL(testRedis.url).port || 6379) });
const pgProxy = await useTcpProxy({ host: '127.0.0.1', port: Number(new URL(db.url).port || 5432) });
const dataDir = mkdtempSync(join(tmpdir(), 'warden-outages-'));
afterAll(() => rmSync(dataDir, { recursive: true, force: true }));

const pgUrl = new URL(db.url);
pgUrl.port = String(pgProxy.port);
const config = loadConfig({
  DATABASE_URL: pgUrl.toString(),
  REDIS_URL: `redis://127.0.0.1:${redisProxy.port}`,
  WARDEN_KEY_PREFIX: testRedis.prefix,
  WARDEN_SECRET: TEST_SECRET,
  WARDEN_DATA_DIR: dataDir,
  LOG_LEVEL: 'silent',
  WARDEN_WORKERS: '4',
  WARDEN_STEP_MS: '150',
  WARDEN_CHECKS_FAIL_RATE: '0',
  WARDEN_LEASE_SECONDS: '6',
  WARDEN_RISK_SCAN_SECONDS: '0',
});
const app: WardenApp = await createApp(config, { schema: db.schema, shutdownGraceMs: 0 });
afterAll(() => app.close());
const { url } = await app.listen(0, '127.0.0.1');

interface Outcome {
  call: string;
  ms: number;
  ok: boolean;
  httpStatus?: number | undefined;
  wardenCode?: unknown;
  retryAfterSeconds?: unknown;
}

async function timed(call: string, work: () => Promise<unknown>): Promise<Outcome> {
  const t0 = performance.now();
  try {
    await work();
    return { call, ms: performance.now() - t0, ok: true };
  } catch (error) {
    const ms = performance.now() - t0;
    if (!(error instanceof TRPCClientError)) return { call, ms, ok: false };
    const data = error.data as { httpStatus?: number; wardenCode?: unknown; details?: { retryAfterSeconds?: unknown } } | undefined;
    return { call, ms, ok: false, httpStatus: data?.httpStatus, wardenCode: data?.wardenCode, retryAfterSeconds: data?.details?.retryAfterSeconds };
  }
}

async function health(): Promise<{ status: number; checks: Record<string, { ok: boolean }> }> {
  const res = await fetch(`${url}/healthz`);
  return { status: res.status, checks: ((await res.json()) as { checks: Record<string, { ok: boolean }> }).checks };
}

/** Calls every procedure a user leans on, every 500 ms, while `proxy` is cut for 10 s. */
async function during(
  proxy: TcpProxy,
  client: WardenClient,
  projectId: string,
  jobId: string,
  submitted: string[],
  onCut: () => void = () => {},
): Promise<{ outcomes: Outcome[]; healths: Awaited<ReturnType<typeof health>>[] }> {
  await proxy.cut();
  onCut();
  const outcomes: Outcome[] = [];
  const healths: Awaited<ReturnType<typeof health>>[] = [];
  const until = Date.now() + 10_000;
  while (Date.now() < until) {
    const round = await (async () => { const out: Outcome[] = []; for (const f of [
      () => timed('usage.get', () => client.usage.get.query()),
      () => timed('jobs.submit', async () => submitted.push((await client.jobs.submit.mutate({ projectId, goal: 'during an outage' })).jobId)),
      () => timed('jobs.get', () => client.jobs.get.query({ jobId })),
      () => timed('jobs.list', () => client.jobs.list.query({ limit: 5 })),
      () => timed('projects.get', () => client.projects.get.query({ projectId })),
      () => timed('projects.list', () => client.projects.list.query({})),
      () => timed('risks.dashboard', () => client.risks.dashboard.query({ projectId })),
    ]) out.push(await f()); return out; })();
    outcomes.push(...round);
    healths.push(await health());
    await new Promise((resolve) => setTimeout(resolve, 500));
  }
  await proxy.restore();
  return { outcomes, healths };
}

function expectFastAndTyped(outcomes: Outcome[]): void {
  for (const o of outcomes) {
    expect(o.ms, `${o.call} answered in ${Math.round(o.ms)} ms`).toBeLessThan(3_000);
    if (!o.ok) {
      expect({ call: o.call, httpStatus: o.httpStatus, wardenCode: o.wardenCode }).toEqual({ call: o.call, httpStatus: 503, wardenCode: 'UNAVAILABLE' });
      expect(o.retryAfterSeconds).toBeGreaterThan(0);
    }
  }
}

describe('Redis and PostgreSQL each unreachable for 10 s', () => {
  it('answers every call within 3 s, typed, keeps PostgreSQL reads up, and loses and doubles nothing', { timeout: 120_000 }, async () => {
    await app.services.usersRepository.upsertUser({ id: 'outage-user', tier: 'cto_scale', now: systemClock.now() });
    const token = await signToken(secretKey(TEST_SECRET), { userId: 'outage-user', admin: false, ttlSeconds: 600, clock: systemClock });
    const client = createWardenClient({ url, token });
    const { projectId } = await client.projects.create.mutate({ name: 'Outages' });
    const submitted: string[] = [];
    for (let n = 0; n < 8; n++) submitted.push((await client.jobs.submit.mutate({ projectId, goal: `before ${n}` })).jobId);
    const watched = submitted[0] ?? '';
    const stream = follow(client, { jobId: watched, lastEventId: '0' });

    // A subscription opened while Redis is down gets its events all the same (from the log), and ends.
    let openedDuringOutage: Followed | null = null;
    const redisDown = await during(redisProxy, client, projectId, watched, submitted, () => {
      openedDuringOutage = follow(client, { jobId: submitted[1] ?? '', lastEventId: '0' });
    });
    expectFastAndTyped(redisDown.outcomes);
    // What PostgreSQL alone can answer kept answering.
    for (const o of redisDown.outcomes.filter((x) => ['jobs.get', 'jobs.list', 'projects.get', 'projects.list', 'risks.dashboard'].includes(x.call))) {
      expect(o.ok, o.call).toBe(true);
    }
    expect(redisDown.outcomes.some((o) => o.call === 'jobs.submit' && !o.ok)).toBe(true);
    expect(redisDown.healths.some((h) => h.status === 503 && h.checks.redis?.ok === false && h.checks.postgres?.ok === true)).toBe(true);

    const pgDown = await during(pgProxy, client, projectId, watched, submitted);
    expectFastAndTyped(pgDown.outcomes);
    expect(pgDown.outcomes.some((o) => !o.ok)).toBe(true);
    expect(pgDown.healths.some((h) => h.status === 503 && h.checks.postgres?.ok === false)).toBe(true);

    // Afterwards: every accepted job finishes, the followed stream is gapless and ends.
    for (const followed of [stream, openedDuringOutage as Followed | null]) {
      if (!followed) throw new Error('no stream');
      await followed.ended;
      const seqs = followed.events.map((e) => e.data.seq);
      expect(seqs).toEqual(Array.from({ length: seqs.length }, (_, i) => i + 1));
      expect(isTerminal(followed.events.at(-1)?.data.status ?? 'queued')).toBe(true);
    }
    for (;;) {
      const jobs = await Promise.all(submitted.map((jobId) => client.jobs.get.query({ jobId })));
      if (jobs.every((job) => isTerminal(job.status))) break;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    // Nothing stored twice, nothing stored by a refused call: exactly the accepted jobs, each log gapless.
    const rows = await db.sql<{ id: string; seq: number; n: number }[]>`
      select j.id, j.seq, count(t.*)::int as n from jobs j join job_transitions t on t.job_id = j.id group by j.id, j.seq`;
    expect(rows.map((r) => r.id).sort()).toEqual([...submitted].sort());
    for (const row of rows) expect(row.n).toBe(row.seq);
  });
});
