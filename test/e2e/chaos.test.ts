import { once } from 'node:events';
import { describe, expect, it } from 'vitest';
import { isTerminal } from '../../actors/jobTransitions.js';
import { migrate } from '../../src/db/migrate.js';
import { claimPayloadSchema } from '../../src/redis/claimStore.js';
import { createJobEventLog } from '../helpers/jobEventLog.js';
import { seedOwners, startTestRuntime } from '../helpers/jobRuntimeHarness.js';
import { useTestDb } from '../helpers/testDb.js';
import { useTestRedis } from '../helpers/testRedis.js';
import { startWorkerProcess } from '../helpers/workerProcess.js';

/**
 * Chaos: three worker processes, one of them SIGKILLed and started again every few seconds for a minute
 * while 1,000 jobs run. Every job ends, each job's events are gapless and single, no slot stays held, and
 * every job a dead process held moves again within one lease (plus the reclaim sweep's period).
 */
const db = await useTestDb('chaos');
const redis = useTestRedis('chaos');
await migrate(db.sql);
const JOBS = 1_000;
const CHAOS_MS = 60_000;
const LEASE_SECONDS = 3;

// stderr unread: a killed worker's last words are expected noise here.
const startChild = () => startWorkerProcess(db, redis, { workers: 8, leaseSeconds: LEASE_SECONDS, heartbeatSeconds: 1 });

describe('chaos: a process killed and restarted every few seconds', () => {
  it('ends every job once, gapless, with no slot left and each takeover within a lease', { timeout: 180_000 }, async () => {
    const seeded = await seedOwners(db.sql, Array.from({ length: 8 }, () => 'cto_scale'), 2);
    const children = await Promise.all([startChild(), startChild(), startChild()]);
    const parent = await startTestRuntime({ redis: redis.redis, keys: redis.keys, sql: db.sql, config: { workers: 0, leaseSeconds: LEASE_SECONDS } });
    const log = createJobEventLog();
    const unsubscribe = await parent.stores.events.subscribeAll(log.listener);

    // Submitted steadily over the minute, so the kills land on running work throughout.
    const submitted: string[] = [];
    const started = Date.now();
    const submitting = (async () => {
      for (let n = 0; n < JOBS; n++) {
        const user = seeded.users[n % seeded.users.length];
        const projects = seeded.projects.filter((p) => p.ownerId === user?.id);
        if (!user) throw new Error('no user');
        const goal = `slow:60 ${n % 5 === 0 ? 'fail-checks:1' : 'plain'}`;
        submitted.push((await parent.runtime.service.submit(user, { projectId: projects[n % 2]?.id ?? '', goal })).jobId);
        const due = started + ((n + 1) * (CHAOS_MS - 5_000)) / JOBS;
        if (due > Date.now()) await new Promise((resolve) => setTimeout(resolve, due - Date.now()));
      }
    })();

    const takeovers: { jobId: string; killedAt: number }[] = [];
    let kills = 0;
    while (Date.now() - started < CHAOS_MS) {
      await new Promise((resolve) => setTimeout(resolve, 3_000 + Math.random() * 2_000));
      const index = kills % children.length;
      const victim = children[index];
      if (!victim) throw new Error('no child');
      const held = Object.entries(await redis.redis.hgetall(redis.keys.claimInfo()))
        .filter(([, raw]) => claimPayloadSchema.parse(JSON.parse(raw)).holder === victim.processId)
        .map(([jobId]) => jobId);
      victim.process.kill('SIGKILL');
      await once(victim.process, 'exit');
      const killedAt = Date.now();
      for (const jobId of held) takeovers.push({ jobId, killedAt });
      children[index] = await startChild();
      kills += 1;
    }
    await submitting;
    await log.until(() => log.terminalCount() >= JOBS);
    // Every 3–5 s plus the restart itself: a dozen on a quiet machine, fewer when the cores are busy.
    expect(kills).toBeGreaterThanOrEqual(6);
    expect(takeovers.length).toBeGreaterThan(0);

    const rows = await db.sql<{ id: string; status: string; seq: number; seqs: number[]; ats: Date[] }[]>`
      select j.id, j.status, j.seq, array_agg(t.seq order by t.seq) as seqs, array_agg(t.at order by t.seq) as ats
      from jobs j join job_transitions t on t.job_id = j.id group by j.id`;
    expect(rows.length).toBe(JOBS);
    const byId = new Map(rows.map((row) => [row.id, row]));
    for (const jobId of submitted) {
      const row = byId.get(jobId);
      expect(row && isTerminal(row.status as 'ready'), jobId).toBe(true);
      const seqs = Array.from({ length: row?.seq ?? 0 }, (_, k) => k + 1);
      expect(row?.seqs).toEqual(seqs);
      expect((log.byJob.get(jobId) ?? []).map((e) => e.seq), jobId).toEqual(seqs);
    }
    // Each job a dead process held moved on (another transition) within a lease of the kill, plus the
    // reclaim sweep's period and a step's time.
    for (const { jobId, killedAt } of takeovers) {
      const next = byId.get(jobId)?.ats.map((at) => at.getTime()).find((at) => at > killedAt);
      if (next === undefined) continue; // it had reached its last transition before the kill
      expect(next - killedAt, jobId).toBeLessThan(LEASE_SECONDS * 1000 + 2_000);
    }
    // No slot is held by anyone now, and no claim is left.
    const now = Date.now();
    for (const user of seeded.users) expect(await redis.redis.zrangebyscore(redis.keys.userSlots(user.id), now, '+inf')).toEqual([]);
    for (const project of seeded.projects) expect(await redis.redis.zrangebyscore(redis.keys.projectSlots(project.id), now, '+inf')).toEqual([]);
    expect(await redis.redis.hlen(redis.keys.claimInfo())).toBe(0);

    for (const child of children) child.process.kill('SIGTERM');
    await Promise.all(children.map((child) => once(child.process, 'exit')));
    await unsubscribe();
    await parent.close();
  });
});
