import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { isAllowedTransition, isTerminal, STEP_STATUSES, type JobStatus } from '../../actors/jobTransitions.js';
import { createJobsRepository } from '../../src/db/jobsRepository.js';
import { createUsersRepository } from '../../src/db/usersRepository.js';
import { migrate } from '../../src/db/migrate.js';
import { DEFAULT_TIERS, resolveTier } from '../../src/domain/tiers.js';
import type { FinishedJob } from '../../src/jobs/createJobRuntime.js';
import type { JobOwner } from '../../src/jobs/jobService.js';
import type { JobEvent } from '../../src/redis/jobEvent.js';
import { createKeys } from '../../src/redis/keys.js';
import { createJobEventLog } from '../helpers/jobEventLog.js';
import { seedOwners, startTestRuntime, type TestRuntime } from '../helpers/jobRuntimeHarness.js';
import { useTestDb } from '../helpers/testDb.js';
import { useTestRedis } from '../helpers/testRedis.js';

const db = await useTestDb('job_runtime');
const redis = useTestRedis('job-runtime');
await migrate(db.sql);
const jobs = createJobsRepository(db.sql);
const WORKERS = 6;

/** A key prefix of its own per test, so queues and slots of two tests never meet. */
const freshKeys = () => createKeys(`${redis.prefix}${randomUUID().slice(0, 8)}:`);

/** What each goal is expected to end as, per tier depth. */
function goalFor(i: number, depth: number): { goal: string; status: 'ready' | 'failed'; error?: string } {
  switch (i % 10) {
    case 0:
      return { goal: `job ${i} fail-checks:1`, status: 'ready' };
    case 1:
      // Fails at the confirmation boundary; the owner confirms; passes on the next iteration.
      return { goal: `job ${i} fail-checks:${depth + 1}`, status: 'ready' };
    case 2:
      return { goal: `job ${i} fail-step:code`, status: 'failed', error: 'code broke' };
    case 3:
      return { goal: `job ${i} fail-checks:99`, status: 'failed', error: 'Hard iteration cap reached' };
    case 4:
    case 5:
      return { goal: `job ${i} slow:3`, status: 'ready' };
    default:
      return { goal: `job ${i}`, status: 'ready' };
  }
}

/** Jobs holding slots, from the events alone: from `starting` (or the first step after a confirm) to terminal or pause. */
function concurrencyTracker(refOf: (jobId: string) => { ownerId: string; projectId: string } | undefined) {
  const active = { user: new Map<string, Set<string>>(), project: new Map<string, Set<string>>() };
  const max = { user: new Map<string, number>(), project: new Map<string, number>() };
  const resumed = new Set<string>();
  const move = (kind: 'user' | 'project', id: string, jobId: string, on: boolean) => {
    const set = active[kind].get(id) ?? new Set<string>();
    if (on) set.add(jobId);
    else set.delete(jobId);
    active[kind].set(id, set);
    max[kind].set(id, Math.max(max[kind].get(id) ?? 0, set.size));
  };
  return {
    max,
    onEvent(event: JobEvent) {
      const pause = event.status === 'checks' && event.previousStatus === 'checks';
      const confirmed = event.previousStatus === 'checks' && event.status === 'scaffold' && event.message.startsWith('Confirmed by');
      let on: boolean | null = null;
      if (event.status === 'starting' || resumed.delete(event.jobId)) on = true;
      if (confirmed) resumed.add(event.jobId);
      if (pause || isTerminal(event.status)) on = false;
      if (on === null) return;
      const ref = refOf(event.jobId);
      if (!ref) throw new Error(`event of an unknown job ${event.jobId}`);
      move('user', ref.ownerId, event.jobId, on);
      move('project', ref.projectId, event.jobId, on);
    },
  };
}

async function expectCleanHotState(t: TestRuntime, owners: { id: string }[], projects: { id: string }[]): Promise<void> {
  expect(await t.stores.queue.length()).toBe(0);
  for (const owner of owners) expect(await t.stores.claims.slotHolders('user', owner.id)).toEqual([]);
  for (const project of projects) expect(await t.stores.claims.slotHolders('project', project.id)).toEqual([]);
}

describe('job runtime', () => {
  it('runs 200 jobs of several users, projects and tiers to a terminal status across two runtimes', { timeout: 60_000 }, async () => {
    const seeded = await seedOwners(db.sql, ['bootstrapper', 'bootstrapper', 'partner', 'partner', 'partner', 'cto_scale', 'cto_scale'], 2);
    const perTier: Record<string, number> = { bootstrapper: 5, partner: 30, cto_scale: 50 };
    const keys = freshKeys();
    const finished: FinishedJob[] = [];
    const extra = { onJobFinished: (job: FinishedJob) => void finished.push(job) };
    const a = await startTestRuntime({ redis: redis.redis, keys, sql: db.sql, config: { workers: WORKERS }, start: false, extra });
    const b = await startTestRuntime({ redis: redis.redis, keys, sql: db.sql, config: { workers: WORKERS }, start: false, extra });

    const expected = new Map<string, { owner: JobOwner; projectId: string; status: 'ready' | 'failed'; error?: string }>();
    const tracker = concurrencyTracker((jobId) => {
      const job = expected.get(jobId);
      return job && { ownerId: job.owner.id, projectId: job.projectId };
    });
    let maxHosted = 0;
    const confirms: Promise<unknown>[] = [];
    const log = createJobEventLog((event) => {
      tracker.onEvent(event);
      maxHosted = Math.max(maxHosted, a.runtime.hostedCount(), b.runtime.hostedCount());
      const job = expected.get(event.jobId);
      // The owner confirms every pause, from the runtime that did not pause it (either may have).
      if (job && event.status === 'checks' && event.previousStatus === 'checks') confirms.push(b.runtime.service.confirm(job.owner, event.jobId));
    });
    const unsubscribe = await a.stores.events.subscribeAll(log.listener);
    let i = 0;
    for (const user of seeded.users) {
      const projects = seeded.projects.filter((p) => p.ownerId === user.id);
      for (let n = 0; n < (perTier[user.tier] ?? 0); n++, i++) {
        const spec = goalFor(i, resolveTier(DEFAULT_TIERS, user.tier).iterationDepth);
        const projectId = projects[n % projects.length]?.id ?? '';
        const submitted = await (i % 2 ? a : b).runtime.service.submit(user, { projectId, goal: spec.goal });
        expect(submitted.status).toBe('queued');
        expected.set(submitted.jobId, { owner: user, projectId, status: spec.status, ...(spec.error ? { error: spec.error } : {}) });
      }
    }
    expect(expected.size).toBe(200);

    await Promise.all([a.runtime.start(), b.runtime.start()]);
    await log.until(() => log.terminalCount() === 200);
    await Promise.all(confirms);
    // Memory follows the running jobs: once they end, nothing is hosted.
    await Promise.all([a.idle(), b.idle()]);
    expect(a.runtime.hostedCount() + b.runtime.hostedCount()).toBe(0);
    await Promise.all([a.close(), b.close()]);
    await unsubscribe();

    const successfulSteps = new Map<string, number>();
    for (const [jobId, want] of expected) {
      const row = await jobs.getJob(null, jobId);
      expect(row, jobId).toMatchObject({ status: want.status, error: want.error ?? null, awaitingConfirmation: false });
      const stored = await jobs.getTransitions(jobId);
      // PostgreSQL: seq 1..n without gap, every step allowed by the table (or the confirmation pause).
      expect(stored.map((t) => t.seq)).toEqual(Array.from({ length: row?.seq ?? 0 }, (_, k) => k + 1));
      for (const t of stored.slice(1)) {
        const from = t.fromStatus as JobStatus;
        expect(isAllowedTransition(from, t.toStatus) || (from === 'checks' && t.toStatus === 'checks'), `${from}→${t.toStatus}`).toBe(true);
      }
      // The subscriber: exactly the same seqs, in order.
      expect((log.byJob.get(jobId) ?? []).map((e) => e.seq)).toEqual(stored.map((t) => t.seq));
      const steps = stored.filter((t) => (STEP_STATUSES as readonly string[]).includes(t.fromStatus ?? '') && t.toStatus !== 'failed' && !(t.fromStatus === 'checks' && t.toStatus !== 'ready'));
      successfulSteps.set(want.owner.id, (successfulSteps.get(want.owner.id) ?? 0) + steps.length);
    }
    const pauses = [...log.byJob.values()].flat().filter((e) => e.status === 'checks' && e.previousStatus === 'checks');
    expect(pauses.length).toBeGreaterThanOrEqual(20);

    for (const user of seeded.users) {
      const limits = resolveTier(DEFAULT_TIERS, user.tier);
      expect(tracker.max.user.get(user.id) ?? 0).toBeLessThanOrEqual(limits.concurrentPerUser);
      for (const project of seeded.projects.filter((p) => p.ownerId === user.id)) {
        expect(tracker.max.project.get(project.id) ?? 0).toBeLessThanOrEqual(limits.concurrentPerProject);
      }
      // Handlers report 2 tokens per successful step: all of them reach the owner's daily count.
      expect(await a.stores.tokens.used(user.id)).toBe(2 * (successfulSteps.get(user.id) ?? 0));
    }
    // The risk hook heard of every job once, from whichever process finished it.
    expect(finished).toHaveLength(200);
    for (const job of finished) expect(job).toMatchObject({ status: expected.get(job.jobId)?.status, projectId: expected.get(job.jobId)?.projectId });
    // Not vacuous: the busiest user did run several jobs at once.
    expect(Math.max(...tracker.max.user.values())).toBeGreaterThan(1);
    expect(maxHosted).toBeLessThanOrEqual(WORKERS);
    await expectCleanHotState(a, seeded.users, seeded.projects);
  });

  it('holds no actor for a job paused for confirmation or scheduled, and resumes it from storage', async () => {
    const seeded = await seedOwners(db.sql, ['partner', 'bootstrapper'], 1);
    const [partner, bootstrapper] = seeded.users as [JobOwner, JobOwner];
    const project = (owner: JobOwner) => seeded.projects.find((p) => p.ownerId === owner.id)?.id ?? '';
    const a = await startTestRuntime({ redis: redis.redis, keys: freshKeys(), sql: db.sql, config: { workers: 4 } });
    const log = createJobEventLog();
    const unsubscribe = await a.stores.events.subscribeAll(log.listener);
    const count = (match: (e: JobEvent) => boolean) => [...log.byJob.values()].flat().filter(match).length;
    const isPause = (e: JobEvent) => e.status === 'checks' && e.previousStatus === 'checks';

    // Partner depth is 3: checks failing below iteration 4 pause the job at iteration 3.
    const paused = await Promise.all(Array.from({ length: 12 }, (_, n) => a.runtime.service.submit(partner, { projectId: project(partner), goal: `p${n} fail-checks:4` })));
    const daily = [];
    for (let n = 0; n < 6; n++) daily.push(await a.runtime.service.submit(bootstrapper, { projectId: project(bootstrapper), goal: `b${n}` }));
    expect(daily.map((r) => r.status)).toEqual(['queued', 'queued', 'queued', 'queued', 'queued', 'scheduled']);
    await log.until(() => count(isPause) === 12 && count((e) => e.status === 'ready') === 5);
    await a.idle();

    expect(a.runtime.hostedCount()).toBe(0);
    for (const { jobId } of paused) {
      expect(await jobs.getJob(null, jobId)).toMatchObject({ status: 'checks', awaitingConfirmation: true, iteration: 3 });
      expect(await a.stores.claims.get(jobId)).toBeNull();
    }
    expect(await jobs.getJob(null, daily[5]?.jobId ?? '')).toMatchObject({ status: 'scheduled' });
    expect(await a.stores.queue.length()).toBe(0);

    const confirmed = await Promise.all(paused.map(({ jobId }) => a.runtime.service.confirm(partner, jobId)));
    expect(confirmed.every((c) => c.status === 'scaffold' && c.iteration === 4)).toBe(true);
    await log.until(() => count((e) => e.status === 'ready') === 17);
    await a.idle();
    expect(a.runtime.hostedCount()).toBe(0);
    for (const { jobId } of paused) {
      const stored = await jobs.getTransitions(jobId);
      expect(stored.find((t) => t.message === `Confirmed by ${partner.id}`)).toMatchObject({ fromStatus: 'checks', toStatus: 'scaffold', iteration: 4 });
      expect(stored.at(-1)).toMatchObject({ toStatus: 'ready', seq: stored.length });
    }
    await unsubscribe();
    await a.close();
  });

  it('stops gracefully: the running step reaches its transition, the job goes back in the queue, another runtime resumes it', async () => {
    const seeded = await seedOwners(db.sql, ['partner'], 1);
    const [owner] = seeded.users as [JobOwner];
    const projectId = seeded.projects[0]?.id ?? '';
    const keys = freshKeys();
    const a = await startTestRuntime({ redis: redis.redis, keys, sql: db.sql, config: { workers: 1 } });
    const b = await startTestRuntime({ redis: redis.redis, keys, sql: db.sql, config: { workers: 1 }, start: false });
    const log = createJobEventLog();
    const unsubscribe = await a.stores.events.subscribeAll(log.listener);
    const { jobId } = await a.runtime.service.submit(owner, { projectId, goal: 'slow:150' });
    await log.waitFor((e) => e.jobId === jobId && e.status === 'scaffold');

    await a.runtime.stop();
    // The scaffold step finished within the grace period and its transition was kept.
    expect(await jobs.getJob(null, jobId)).toMatchObject({ status: 'code', seq: 4 });
    expect(await a.stores.queue.position(jobId)).toBe(1);
    expect(await a.stores.claims.get(jobId)).toBeNull();
    expect(await a.stores.claims.slotHolders('user', owner.id)).toEqual([]);

    await b.runtime.start();
    await log.waitFor((e) => e.jobId === jobId && e.status === 'ready');
    expect((log.byJob.get(jobId) ?? []).map((e) => e.seq)).toEqual([1, 2, 3, 4, 5, 6, 7]);
    expect((await jobs.getTransitions(jobId)).map((t) => t.toStatus)).toEqual(['queued', 'starting', 'scaffold', 'code', 'deps', 'checks', 'ready']);
    await unsubscribe();
    await Promise.all([a.close(), b.close()]);
  });

  it('commits a job\'s start and its way on to scaffold in one transaction, each published in order', async () => {
    const seeded = await seedOwners(db.sql, ['partner'], 1);
    const [owner] = seeded.users as [JobOwner];
    const t = await startTestRuntime({ redis: redis.redis, keys: freshKeys(), sql: db.sql, config: { workers: 1 } });
    const log = createJobEventLog();
    const unsubscribe = await t.stores.events.subscribeAll(log.listener);
    const { jobId } = await t.runtime.service.submit(owner, { projectId: seeded.projects[0]?.id ?? '', goal: 'one write' });
    await log.waitFor((e) => e.jobId === jobId && e.status === 'ready');

    // `starting` has no step: nothing can happen between it and scaffold, so one commit holds both.
    const rows = await db.sql<{ seq: number; tx: string }[]>`select seq, xmin::text as tx from job_transitions where job_id = ${jobId} order by seq`;
    const txOf = (seq: number) => rows.find((r) => r.seq === seq)?.tx;
    expect(txOf(2)).toBeDefined();
    expect(txOf(2)).toBe(txOf(3));
    expect(new Set(rows.map((r) => r.tx)).size).toBe(rows.length - 1);
    expect((log.byJob.get(jobId) ?? []).map((e) => `${e.seq}:${e.status}`)).toEqual(['1:queued', '2:starting', '3:scaffold', '4:code', '5:deps', '6:checks', '7:ready']);
    await unsubscribe();
    await t.close();
  });

  it('abandons a step that outlasts the grace period and hands the job back at its last transition', async () => {
    const seeded = await seedOwners(db.sql, ['partner'], 1);
    const [owner] = seeded.users as [JobOwner];
    const keys = freshKeys();
    const a = await startTestRuntime({ redis: redis.redis, keys, sql: db.sql, config: { workers: 1 }, extra: { shutdownGraceMs: 50 } });
    const log = createJobEventLog();
    const unsubscribe = await a.stores.events.subscribeAll(log.listener);
    const first = await a.runtime.service.submit(owner, { projectId: seeded.projects[0]?.id ?? '', goal: 'slow:60000' });
    const second = await a.runtime.service.submit(owner, { projectId: seeded.projects[0]?.id ?? '', goal: 'waits' });
    await log.waitFor((e) => e.jobId === first.jobId && e.status === 'scaffold');

    await a.runtime.stop();
    expect(await jobs.getJob(null, first.jobId)).toMatchObject({ status: 'scaffold', seq: 3 });
    // Back under its old score: still ahead of the job queued after it.
    expect((await a.stores.queue.peek(10)).map((e) => e.jobId)).toEqual([first.jobId, second.jobId]);
    expect(await a.stores.claims.slotHolders('project', seeded.projects[0]?.id ?? '')).toEqual([]);
    // Handed back, it is a queued job again for every process: cancelling it takes it out of the queue.
    const other = await startTestRuntime({ redis: redis.redis, keys, sql: db.sql, config: { workers: 0 } });
    expect(await other.runtime.service.cancel(owner, first.jobId)).toMatchObject({ status: 'failed', seq: 4 });
    expect((await a.stores.queue.peek(10)).map((e) => e.jobId)).toEqual([second.jobId]);
    await unsubscribe();
    await Promise.all([a.close(), other.close()]);
  });

  it('counts the tokens steps report and fails a job whose owner has spent the daily budget, before the next step', async () => {
    const seeded = await seedOwners(db.sql, ['partner'], 1);
    const [owner] = seeded.users as [JobOwner];
    await createUsersRepository(db.sql).upsertUser({ id: owner.id, tier: owner.tier, tokenBudgetOverride: 3, now: Date.now() });
    const t = await startTestRuntime({ redis: redis.redis, keys: freshKeys(), sql: db.sql, config: { workers: 1 } });
    const log = createJobEventLog();
    const unsubscribe = await t.stores.events.subscribeAll(log.listener);
    const { jobId } = await t.runtime.service.submit(owner, { projectId: seeded.projects[0]?.id ?? '', goal: 'hungry' });
    await log.waitFor((e) => e.jobId === jobId && e.status === 'failed');
    // scaffold and code ran (2 tokens each); deps was refused before it ran.
    expect(await jobs.getJob(null, jobId)).toMatchObject({ status: 'failed', error: 'TOKEN_BUDGET: Daily token limit reached (4/3). Resets at midnight UTC.' });
    expect((await jobs.getTransitions(jobId)).map((tr) => tr.toStatus)).toEqual(['queued', 'starting', 'scaffold', 'code', 'deps', 'failed']);
    expect(await t.stores.tokens.used(owner.id)).toBe(4);
    await unsubscribe();
    await t.close();
  });
});
