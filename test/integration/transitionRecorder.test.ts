import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import type { JobMachineEvent as MachineEvent } from '../../actors/jobLifecycle.machine.js';
import { systemClock } from '../../src/clock.js';
import { createJobRuntimeQueries } from '../../src/db/jobRuntimeQueries.js';
import { createJobsRepository } from '../../src/db/jobsRepository.js';
import { migrate } from '../../src/db/migrate.js';
import { DEFAULT_TIERS } from '../../src/domain/tiers.js';
import type { JobOwner } from '../../src/jobs/jobService.js';
import { openJobSession, type JobSession } from '../../src/jobs/jobSession.js';
import { createTransitionPublisher } from '../../src/jobs/transitionPublisher.js';
import { createTransitionRecorder } from '../../src/jobs/transitionRecorder.js';
import type { TransitionStore } from '../../src/redis/transitionStore.js';
import { createKeys } from '../../src/redis/keys.js';
import { createJobEventLog } from '../helpers/jobEventLog.js';
import { seedOwners, startTestRuntime } from '../helpers/jobRuntimeHarness.js';
import { useTestDb } from '../helpers/testDb.js';
import { useTestRedis } from '../helpers/testRedis.js';

const db = await useTestDb('transition_recorder');
const redis = useTestRedis('transition-recorder');
await migrate(db.sql);
const jobs = createJobsRepository(db.sql);
const queries = createJobRuntimeQueries(db.sql);

/** Jobs submitted through a runtime without workers (PostgreSQL row and hot copy at seq 1), and their stores. */
async function setup(count: number) {
  const seeded = await seedOwners(db.sql, ['cto_scale'], 2);
  const [owner] = seeded.users as [JobOwner];
  const t = await startTestRuntime({ redis: redis.redis, keys: createKeys(`${redis.prefix}${randomUUID().slice(0, 8)}:`), sql: db.sql, config: { workers: 0 }, start: false });
  const ids: string[] = [];
  for (let i = 0; i < count; i++) {
    ids.push((await t.runtime.service.submit(owner, { projectId: seeded.projects[i % 2]?.id ?? '', goal: `job ${i}` })).jobId);
  }
  const log = createJobEventLog();
  await t.stores.events.subscribeAll(log.listener);
  // The real store, with its group calls counted: how many round trips the publishing took.
  const calls: number[] = [];
  const store = t.stores.transitions;
  const transitions: TransitionStore = {
    initJob: (jobId, init) => store.initJob(jobId, init),
    applyTransition: (input) => store.applyTransition(input),
    get: (jobId) => store.get(jobId),
    applyTransitions: (inputs) => {
      calls.push(new Set(inputs.map((input) => input.jobId)).size);
      return store.applyTransitions(inputs);
    },
  };
  const publisher = createTransitionPublisher({ transitions, jobs });
  const recorder = createTransitionRecorder({ jobs, publisher });
  const open = async (jobId: string): Promise<JobSession> => {
    const [loaded] = await queries.loadJobsToRun([jobId]);
    if (!loaded) throw new Error(`job ${jobId} not found`);
    return openJobSession(loaded.job, { tiers: DEFAULT_TIERS });
  };
  return { t, ids, log, calls, recorder, open };
}

/** Commits a session's pending transitions straight to PostgreSQL, publishing nothing (a holder that died). */
function commitOnly(session: JobSession) {
  return jobs.recordTransitions(
    session.takePending(systemClock.now()).map((p) => ({
      jobId: session.ref.jobId,
      seq: p.seq,
      fromStatus: p.record.from,
      toStatus: p.record.to,
      message: p.record.message,
      iteration: p.record.iteration,
      at: p.at,
      awaitingConfirmation: p.record.awaitingConfirmation,
      ...(p.snapshot ? { snapshot: p.snapshot.snapshot, machineVersion: p.snapshot.version } : {}),
    })),
  );
}

const PATH: MachineEvent[] = [{ type: 'START' }, { type: 'BEGIN' }, { type: 'STEP_SUCCEEDED' }, { type: 'STEP_SUCCEEDED' }, { type: 'STEP_SUCCEEDED' }, { type: 'CHECKS_PASSED' }];

describe('TransitionRecorder', () => {
  it('commits many jobs together, publishes each batch in one call after its commit, each job in seq order', async () => {
    const { t, ids, log, calls, recorder, open } = await setup(24);
    const sessions = await Promise.all(ids.map(open));
    // Every job moves one step at a time, all at once: each step of all 24 shares batches.
    await Promise.all(
      sessions.map(async (session) => {
        for (const event of PATH) {
          expect(session.send(event).accepted).toBe(true);
          const result = await recorder.record(session.ref, session.takePending(systemClock.now()));
          expect(result.applied).toBe(true);
          // Acknowledged only once durable: the row holds this seq now.
          expect((await jobs.getJob(null, session.ref.jobId))?.seq).toBe(session.seq);
          await result.published;
        }
      }),
    );
    await recorder.drain();
    await log.until(() => log.terminalCount() === ids.length);
    for (const id of ids) expect(log.byJob.get(id)?.map((e) => e.seq)).toEqual([2, 3, 4, 5, 6, 7]);
    // Fewer publishing round trips than job steps: batches carried many jobs each.
    expect(calls.reduce((sum, n) => sum + n, 0)).toBe(ids.length * PATH.length);
    expect(calls.length).toBeLessThan(ids.length * PATH.length);
    expect(Math.max(...calls)).toBeGreaterThan(1);
    for (const session of sessions) session.stop();
    await t.close();
  });

  it('publishes nothing PostgreSQL refused, and catches a hot copy left behind up from the log', async () => {
    const { t, ids, log, recorder, open } = await setup(2);
    const [behind, stale] = ids as [string, string];
    // A holder that died between its commit and its publish: seq 2 and 3 stored, never published.
    const dead = await open(behind);
    dead.send({ type: 'START' });
    dead.send({ type: 'BEGIN' });
    expect(await commitOnly(dead)).toMatchObject([{ applied: true }, { applied: true }]);
    dead.stop();
    // Its next holder records seq 4 while a stale writer of the other job is refused in the same batch.
    const next = await open(behind);
    next.send({ type: 'STEP_SUCCEEDED' });
    // The other job: a writer moved it on in PostgreSQL and has not published yet (its hot copy is still
    // at seq 1, where the stale writer's event would fit): the stale writer must not publish.
    const first = await open(stale);
    const second = await open(stale);
    first.send({ type: 'START' });
    expect(await commitOnly(first)).toMatchObject([{ applied: true }]);
    second.send({ type: 'START' });
    const [moved, refused] = await Promise.all([
      recorder.record(next.ref, next.takePending(systemClock.now())),
      recorder.record(second.ref, second.takePending(systemClock.now())),
    ]);
    expect(moved.applied).toBe(true);
    expect(refused).toMatchObject({ applied: false, appliedCount: 0, refusal: { reason: 'seq_mismatch' } });
    await Promise.all([moved.published, refused.published]);
    await recorder.drain();
    await log.until(() => (log.byJob.get(behind)?.length ?? 0) >= 3);
    expect(log.byJob.get(behind)?.map((e) => [e.seq, e.status])).toEqual([[2, 'starting'], [3, 'scaffold'], [4, 'code']]);
    // The refused START was never published (events arrive in publish order: it would precede these).
    expect(log.byJob.get(stale)).toBeUndefined();
    expect(await t.stores.transitions.get(stale)).toMatchObject({ seq: 1, status: 'queued' });
    for (const s of [next, first, second]) s.stop();
    await t.close();
  });
});
