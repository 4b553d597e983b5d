import { afterAll, describe, expect, it } from 'vitest';
import { STAGE_LABELS, type JobStatus } from '../../actors/jobTransitions.js';
import { createCommitSql, createSql } from '../../src/db/client.js';
import { createJobsRepository } from '../../src/db/jobsRepository.js';
import { migrate } from '../../src/db/migrate.js';
import { createProjectsRepository } from '../../src/db/projectsRepository.js';
import { recordTransitions, type TransitionWrite } from '../../src/db/recordTransitions.js';
import { createUsersRepository } from '../../src/db/usersRepository.js';
import { useTestDb } from '../helpers/testDb.js';

const db = await useTestDb('record_transitions');
await migrate(db.sql);
const statements: string[] = [];
const traced = createSql(db.url, { schema: db.schema, max: 2, onQuery: (q) => statements.push(q) });
afterAll(() => traced.end({ timeout: 5 }));

// The connections the runtime commits on: generic plans, which must give the same answers.
const commitSql = createCommitSql(db.url, { schema: db.schema });
afterAll(() => commitSql.end({ timeout: 5 }));
const jobs = createJobsRepository(commitSql);
const T0 = Date.parse('2026-03-01T10:00:00Z');
await createUsersRepository(db.sql).upsertUser({ id: 'alice', tier: 'partner', now: T0 });
const project = await createProjectsRepository(db.sql).createProject({ ownerId: 'alice', name: 'P', now: T0 });

const newJob = () => jobs.insertJob({ ownerId: 'alice', projectId: project.id, tier: 'partner', goal: 'g', status: 'queued', now: T0 });

/** A full path with one retry loop: queued → … → checks → scaffold → … → checks → ready. */
const PATH: JobStatus[] = ['queued', 'starting', 'scaffold', 'code', 'deps', 'checks', 'scaffold', 'code', 'deps', 'checks', 'ready'];

/** The records that walk a job from PATH[fromIndex] through PATH[toIndex], as an actor would emit them. */
function walk(jobId: string, fromIndex: number, toIndex: number): TransitionWrite[] {
  const records: TransitionWrite[] = [];
  let iteration = PATH.slice(0, fromIndex + 1).filter((s, i) => s === 'scaffold' && PATH[i - 1] === 'checks').length;
  for (let i = fromIndex + 1; i <= toIndex; i++) {
    const from = PATH[i - 1] as JobStatus;
    const to = PATH[i] as JobStatus;
    if (from === 'checks' && to === 'scaffold') iteration += 1;
    records.push({
      jobId,
      seq: i + 1,
      fromStatus: from,
      toStatus: to,
      message: STAGE_LABELS[to],
      iteration,
      at: T0 + i * 1000,
      awaitingConfirmation: false,
      snapshot: { value: to, context: { iteration } },
      machineVersion: 1,
    });
  }
  return records;
}

/** Interleaves lists round-robin: jobs mixed in the batch, each job's records still in order. */
function interleave<T>(lists: T[][]): T[] {
  const out: T[] = [];
  for (let i = 0; lists.some((l) => i < l.length); i++) for (const l of lists) if (i < l.length) out.push(l[i] as T);
  return out;
}

async function seqsOf(jobId: string): Promise<number[]> {
  return (await jobs.getTransitions(jobId)).map((t) => t.seq);
}

describe('recordTransitions', () => {
  it("writes many jobs' transitions in one statement, keeping each job's order", async () => {
    const batchJobs = await Promise.all(Array.from({ length: 40 }, newJob));
    const records = interleave(batchJobs.map((j) => walk(j.id, 0, PATH.length - 1)));
    await traced`select 1`; // the pool's connect-time type lookup is not ours to count
    statements.length = 0;
    const outcomes = await createJobsRepository(traced).recordTransitions(records);
    expect(statements).toHaveLength(1);
    expect(statements[0]).toMatch(/insert into job_transitions/);
    expect(outcomes).toHaveLength(records.length);
    expect(outcomes.every((o) => o.applied)).toBe(true);
    expect(outcomes.map((o) => `${o.jobId}:${o.seq}`)).toEqual(records.map((r) => `${r.jobId}:${r.seq}`));

    for (const j of batchJobs) {
      const log = await jobs.getTransitions(j.id);
      expect(log.map((t) => t.seq)).toEqual(PATH.map((_, i) => i + 1));
      expect(log.map((t) => t.toStatus)).toEqual(PATH);
      expect(log.slice(1).map((t) => t.fromStatus)).toEqual(PATH.slice(0, -1));
      const row = await jobs.getJob(null, j.id);
      expect(row).toMatchObject({
        status: 'ready',
        seq: PATH.length,
        iteration: 1,
        awaitingConfirmation: false,
        snapshot: { value: 'ready', context: { iteration: 1 } },
        machineVersion: 1,
        startedAt: new Date(T0 + 1000).toISOString(),
        finishedAt: new Date(T0 + (PATH.length - 1) * 1000).toISOString(),
        updatedAt: new Date(T0 + (PATH.length - 1) * 1000).toISOString(),
      });
    }
  });

  it('orders one job\'s records by seq even when the batch lists them out of order', async () => {
    const job = await newJob();
    const outcomes = await jobs.recordTransitions(walk(job.id, 0, 3).reverse());
    expect(outcomes.every((o) => o.applied)).toBe(true);
    expect(await seqsOf(job.id)).toEqual([1, 2, 3, 4]);
    expect((await jobs.getJob(null, job.id))?.status).toBe('code');
  });

  it('refuses a gap, a replay, an in-batch duplicate and a wrong from-status, and still applies the rest', async () => {
    const [gap, replay, dup, wrongFrom, fine] = await Promise.all(Array.from({ length: 5 }, newJob));
    if (!gap || !replay || !dup || !wrongFrom || !fine) throw new Error('setup');
    await jobs.recordTransitions([...walk(replay.id, 0, 2), ...walk(wrongFrom.id, 0, 1)]);

    const [second] = walk(dup.id, 0, 1);
    if (!second) throw new Error('setup');
    const batch: TransitionWrite[] = [
      ...walk(gap.id, 1, 3), // seq 3 and 4 while the job is at seq 1: gap, then after_refused
      ...walk(replay.id, 1, 2), // seq 3 again: already applied
      second,
      { ...second, message: 'again' }, // the same seq twice in one batch
      { ...walk(wrongFrom.id, 1, 2)[0]!, fromStatus: 'deps' }, // job is in `starting`
      ...walk(fine.id, 0, 2),
    ];
    const outcomes = await jobs.recordTransitions(batch);
    expect(outcomes.map((o) => (o.applied ? 'applied' : o.reason))).toEqual([
      'seq_mismatch',
      'after_refused',
      'seq_mismatch',
      'applied',
      'seq_mismatch',
      'status_mismatch',
      'applied',
      'applied',
    ]);
    expect(outcomes[0]).toMatchObject({ expectedSeq: 2, currentSeq: 1, currentStatus: 'queued' });
    expect(outcomes[2]).toMatchObject({ expectedSeq: 4, currentSeq: 3, currentStatus: 'scaffold' });

    expect(await seqsOf(gap.id)).toEqual([1]);
    expect(await seqsOf(replay.id)).toEqual([1, 2, 3]);
    expect((await jobs.getTransitions(dup.id)).map((t) => t.message)).toEqual([STAGE_LABELS.queued, STAGE_LABELS.starting]);
    expect(await seqsOf(wrongFrom.id)).toEqual([1, 2]);
    expect(await seqsOf(fine.id)).toEqual([1, 2, 3]);
    expect((await jobs.getJob(null, gap.id))?.status).toBe('queued');
  });

  it('refuses a record for a job that does not exist', async () => {
    const [record] = walk('00000000-0000-4000-8000-000000000000', 0, 1);
    const [outcome] = await jobs.recordTransitions([record!]);
    expect(outcome).toMatchObject({ applied: false, reason: 'job_not_found', expectedSeq: null, currentSeq: null });
  });

  it('applies each seq once when two pools race the same transitions in opposite orders', async () => {
    const racers = await Promise.all(Array.from({ length: 30 }, newJob));
    const other = createJobsRepository(db.connect(4));
    const forward = racers.map((j) => walk(j.id, 0, 1)[0]!);
    const [a, b] = await Promise.all([jobs.recordTransitions(forward), other.recordTransitions([...forward].reverse())]);
    const appliedTwice = a.filter((o, i) => o.applied && b[b.length - 1 - i]?.applied);
    expect(appliedTwice).toEqual([]);
    expect([...a, ...b].filter((o) => o.applied)).toHaveLength(racers.length);
    for (const j of racers) expect(await seqsOf(j.id)).toEqual([1, 2]);
  });

  it('is guarded by the (job_id, seq) primary key too: a stray log row fails the batch and changes nothing', async () => {
    const job = await newJob();
    await db.sql`insert into job_transitions (job_id, seq, from_status, to_status, message, iteration, at)
                 values (${job.id}, 2, 'queued', 'starting', 'stray', 0, now())`;
    await expect(jobs.recordTransitions(walk(job.id, 0, 1))).rejects.toMatchObject({ code: '23505' });
    expect(await jobs.getJob(null, job.id)).toMatchObject({ status: 'queued', seq: 1 });
  });

  it('clips the error, keeps omitted fields, and sets or clears scheduling fields when given', async () => {
    const job = await jobs.insertJob({
      ownerId: 'alice',
      projectId: project.id,
      tier: 'partner',
      goal: 'g',
      status: 'scheduled',
      now: T0,
      scheduledFor: T0 + 86_400_000,
      snapshot: { value: 'scheduled' },
      machineVersion: 1,
    });
    const base = { jobId: job.id, iteration: 0, awaitingConfirmation: false, at: T0 + 90_000_000 };
    await jobs.recordTransitions([
      { ...base, seq: 2, fromStatus: 'scheduled', toStatus: 'queued', message: 'Queued…', scheduledFor: null, queueScore: 1e12 },
    ]);
    expect(await jobs.getJob(null, job.id)).toMatchObject({
      status: 'queued',
      scheduledFor: null,
      queueScore: 1e12,
      snapshot: { value: 'scheduled' },
      machineVersion: 1,
    });
    const reason = `Step crashed: ${'x'.repeat(400)}`;
    await jobs.recordTransitions([
      { ...base, seq: 3, fromStatus: 'queued', toStatus: 'failed', message: 'Build failed', error: reason, snapshot: { value: 'failed' }, machineVersion: 2 },
    ]);
    const failed = await jobs.getJob(null, job.id);
    expect(failed?.error).toHaveLength(200);
    expect(failed?.error?.startsWith('Step crashed: xxx')).toBe(true);
    expect(failed).toMatchObject({ status: 'failed', queueScore: 1e12, snapshot: { value: 'failed' }, machineVersion: 2 });
    expect(failed?.finishedAt).toBe(new Date(T0 + 90_000_000).toISOString());
  });

  it('records the confirmation pause and its release', async () => {
    const job = await newJob();
    await jobs.recordTransitions(walk(job.id, 0, 5));
    const [retry] = walk(job.id, 5, 6);
    await jobs.recordTransitions([{ ...retry!, awaitingConfirmation: true }]);
    expect(await jobs.getJob(null, job.id)).toMatchObject({ status: 'scaffold', iteration: 1, awaitingConfirmation: true });
    const [next] = walk(job.id, 6, 7);
    await jobs.recordTransitions([next!]);
    expect(await jobs.getJob(null, job.id)).toMatchObject({ status: 'code', awaitingConfirmation: false, seq: 8 });
    expect((await jobs.getTransitions(job.id, 6)).map((t) => t.seq)).toEqual([7, 8]);
  });

  it('updates the job row in place (HOT) on every transition but the terminal one', async () => {
    const job = await newJob();
    // Counted inside one transaction, where PostgreSQL reports this transaction's own HOT updates at once.
    const hot = await db.sql.begin(async (tx) => {
      for (const record of walk(job.id, 0, PATH.length - 1)) await recordTransitions(tx, [record]);
      const [row] = await tx<{ hot: number; all: number }[]>`
        select pg_stat_get_xact_tuples_hot_updated('jobs'::regclass)::int as hot,
               pg_stat_get_xact_tuples_updated('jobs'::regclass)::int as all`;
      return row;
    });
    // Ten transitions: the nine before \`ready\` change no indexed column; \`ready\` sets finished_at.
    expect(hot).toEqual({ hot: PATH.length - 2, all: PATH.length - 1 });
  });

  it('runs the statement again when PostgreSQL aborts it as a deadlock victim (it was rolled back whole)', async () => {
    const job = await newJob();
    let calls = 0;
    // PostgreSQL picks one of two deadlocked statements and aborts it; that is what the first call meets.
    const deadlockOnce = new Proxy(db.sql, {
      apply(target, thisArg, args: Parameters<typeof db.sql>) {
        calls += 1;
        if (calls === 1) return Promise.reject(Object.assign(new Error('deadlock detected'), { code: '40P01' }));
        return Reflect.apply(target, thisArg, args) as unknown;
      },
    });
    const outcomes = await recordTransitions(deadlockOnce, walk(job.id, 0, 2));
    expect(calls).toBe(2);
    expect(outcomes.every((o) => o.applied)).toBe(true);
    expect(await seqsOf(job.id)).toEqual([1, 2, 3]);
  });

  it('returns nothing for an empty batch without a round trip, and validates records first', async () => {
    statements.length = 0;
    expect(await createJobsRepository(traced).recordTransitions([])).toEqual([]);
    expect(statements).toEqual([]);
    const job = await newJob();
    const [r] = walk(job.id, 0, 1);
    await expect(jobs.recordTransitions([{ ...r!, toStatus: 'bogus' as JobStatus }])).rejects.toThrow();
    await expect(jobs.recordTransitions([{ ...r!, machineVersion: undefined as unknown as number }])).rejects.toThrow(/machineVersion/);
    expect(await seqsOf(job.id)).toEqual([1]);
  });
});
