import { once } from 'node:events';
import { describe, expect, it } from 'vitest';
import { isTerminal } from '../../actors/jobTransitions.js';
import { createJobsRepository } from '../../src/db/jobsRepository.js';
import { migrate } from '../../src/db/migrate.js';
import { claimPayloadSchema } from '../../src/redis/claimStore.js';
import { createJobEventLog } from '../helpers/jobEventLog.js';
import { seedOwners, startTestRuntime } from '../helpers/jobRuntimeHarness.js';
import { useTestDb } from '../helpers/testDb.js';
import { useTestRedis } from '../helpers/testRedis.js';
import { startWorkerProcess } from '../helpers/workerProcess.js';

const db = await useTestDb('multi_process');
const redis = useTestRedis('multi-process');
await migrate(db.sql);
const jobs = createJobsRepository(db.sql);
const JOBS = 300;
const LEASE_SECONDS = 2;

const startChild = () => startWorkerProcess(db, redis, { workers: 8, leaseSeconds: LEASE_SECONDS, heartbeatSeconds: 0.5 });

describe('three processes, one killed', () => {
  it('finishes every job exactly once after a SIGKILL, with no seq gap or duplicate and no slot left held', { timeout: 90_000 }, async () => {
    const seeded = await seedOwners(db.sql, Array.from({ length: 6 }, () => 'cto_scale'), 2);
    const children = await Promise.all([startChild(), startChild(), startChild()]);
    // This process only submits and watches (and, like every process, reclaims expired claims).
    const parent = await startTestRuntime({ redis: redis.redis, keys: redis.keys, sql: db.sql, config: { workers: 0, leaseSeconds: LEASE_SECONDS } });
    const log = createJobEventLog();
    const unsubscribe = await parent.stores.events.subscribeAll(log.listener);

    const submitted: string[] = [];
    await Promise.all(
      seeded.users.map(async (user, u) => {
        const projects = seeded.projects.filter((p) => p.ownerId === user.id);
        for (let n = 0; n < JOBS / seeded.users.length; n++) {
          const goal = `slow:15 ${n % 4 === 0 ? 'fail-checks:2' : n % 9 === 0 ? 'fail-step:deps' : 'plain'} ${u}`;
          const result = await parent.runtime.service.submit(user, { projectId: projects[n % 2]?.id ?? '', goal });
          submitted.push(result.jobId);
        }
      }),
    );

    // Kill one process in the middle of the run, with jobs in its hands.
    await log.until(() => log.terminalCount() >= JOBS / 5);
    const [victim, ...survivors] = children;
    victim.process.kill('SIGKILL');
    await once(victim.process, 'exit');
    const claims = Object.values(await redis.redis.hgetall(redis.keys.claimInfo())).map((raw) => claimPayloadSchema.parse(JSON.parse(raw)));
    expect(claims.filter((c) => c.holder === victim.processId).length).toBeGreaterThan(0);

    await log.until(() => log.terminalCount() >= JOBS);
    for (const jobId of submitted) {
      const row = await jobs.getJob(null, jobId);
      expect(row && isTerminal(row.status), jobId).toBe(true);
      const stored = await jobs.getTransitions(jobId);
      const seqs = Array.from({ length: row?.seq ?? 0 }, (_, k) => k + 1);
      expect(stored.map((t) => t.seq)).toEqual(seqs);
      expect((log.byJob.get(jobId) ?? []).map((e) => e.seq), jobId).toEqual(seqs);
    }
    // Every slot the dead process held was taken over with its job and freed at the end.
    for (const user of seeded.users) expect(await parent.stores.claims.slotHolders('user', user.id)).toEqual([]);
    for (const project of seeded.projects) expect(await parent.stores.claims.slotHolders('project', project.id)).toEqual([]);
    expect(await redis.redis.hlen(redis.keys.claimInfo())).toBe(0);

    for (const child of survivors) child.process.kill('SIGTERM');
    const codes = await Promise.all(survivors.map(async (child) => (await once(child.process, 'exit')) as [number | null]));
    expect(codes.map(([code]) => code)).toEqual([0, 0]);
    await unsubscribe();
    await parent.close();
  });
});
