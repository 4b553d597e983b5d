import { clipReason, type JobStatus } from '../../actors/jobTransitions.js';
import { arrayLiteral } from './arrayLiteral.js';
import type { Sql, TransactionSql } from './client.js';
import { PROJECT_RULE_BITS } from '../domain/riskRules.js';
import { toEpochMs, type Instant } from './instant.js';

/**
 * One accepted transition of one job, as the runtime hands it to the group committer. Besides the
 * transition row it carries the job row's new state after that transition.
 */
export interface TransitionWrite {
  jobId: string;
  /** Must be exactly the job's stored seq + 1 (or follow the previous record of this job in the batch). */
  seq: number;
  /** Must equal the job's stored status (or the previous record's `toStatus`): a compare-and-set. */
  fromStatus: JobStatus;
  toStatus: JobStatus;
  message: string;
  iteration: number;
  at: Instant;
  awaitingConfirmation: boolean;
  /** Failure reason (clipped to 200 characters); omitted or null keeps the stored one. */
  error?: string | null;
  /** The actor's persisted snapshot after this transition, with the machine version; omitted keeps the stored one. */
  snapshot?: unknown;
  machineVersion?: number;
  /** Omitted keeps the stored value; null clears it. */
  scheduledFor?: Instant | null;
  /** Omitted keeps the stored value; null clears it. */
  queueScore?: number | null;
}

export type TransitionRefusal =
  /** No job with this id. */
  | 'job_not_found'
  /** `seq` is not the next one: a gap, a duplicate, or a transition already applied. */
  | 'seq_mismatch'
  /** `fromStatus` is not the job's status at that point. */
  | 'status_mismatch'
  /** An earlier record of the same job in this batch was refused, so this one cannot follow it. */
  | 'after_refused'
  /** Valid when checked but the job row had moved on when written (not expected: the rows are locked first). */
  | 'conflict';

export type TransitionOutcome =
  | { jobId: string; seq: number; applied: true }
  | {
      jobId: string;
      seq: number;
      applied: false;
      reason: TransitionRefusal;
      /** The seq this record would have needed; null when the job does not exist. */
      expectedSeq: number | null;
      /** The job's stored seq and status when the batch ran; null when the job does not exist. */
      currentSeq: number | null;
      currentStatus: JobStatus | null;
    };

/** A job's records in the batch: its indices in seq order, and how many of them follow each other. */
interface JobGroup {
  jobId: string;
  /** Indices into the records, ordered by (seq, position in the batch). */
  order: number[];
  /** Length of the run from order[0] in which each record follows the previous one (seq + 1, from = to). */
  chained: number;
}

function groupByJob(records: readonly TransitionWrite[]): JobGroup[] {
  const byJob = new Map<string, number[]>();
  for (const [i, r] of records.entries()) {
    // PostgreSQL answers with ids in lower case; grouped the same way, a job is found whatever its case.
    const key = r.jobId.toLowerCase();
    if ((r.snapshot === undefined) !== (r.machineVersion === undefined)) {
      throw new Error('recordTransitions: snapshot and machineVersion go together');
    }
    if (r.snapshot === null) throw new Error('recordTransitions: snapshot, when given, is not null');
    const list = byJob.get(key);
    if (list) list.push(i);
    else byJob.set(key, [i]);
  }
  const groups: JobGroup[] = [];
  for (const [jobId, order] of byJob) {
    if (order.length > 1) order.sort((a, b) => (records[a] as TransitionWrite).seq - (records[b] as TransitionWrite).seq || a - b);
    let chained = 1;
    while (chained < order.length) {
      const prev = records[order[chained - 1] as number] as TransitionWrite;
      const next = records[order[chained] as number] as TransitionWrite;
      if (next.seq !== prev.seq + 1 || next.fromStatus !== prev.toStatus) break;
      chained++;
    }
    groups.push({ jobId, order, chained });
  }
  // In id order: the update meets (and locks) rows in that order, so two batches sharing jobs seldom
  // deadlock; should PostgreSQL still abort one as the victim, recordTransitions runs it again.
  return groups.sort((a, b) => (a.jobId < b.jobId ? -1 : a.jobId > b.jobId ? 1 : 0));
}

/** The statement's parameters: one entry per job (its new row state) and one per transition row. */
function statementArrays(records: readonly TransitionWrite[], groups: readonly JobGroup[]) {
  const job = {
    id: [] as string[],
    prevSeq: [] as number[],
    fromStatus: [] as string[],
    status: [] as string[],
    seq: [] as number[],
    iteration: [] as number[],
    awaiting: [] as boolean[],
    atMs: [] as number[],
    startedMs: [] as (number | null)[],
    finishedMs: [] as (number | null)[],
    error: [] as (string | null)[],
    hasSnapshot: [] as boolean[],
    /** Sent as one JSON array (one native stringify, nothing to escape), matched to its job by position. */
    snapshot: [] as unknown[],
    machineVersion: [] as (number | null)[],
    hasScheduledFor: [] as boolean[],
    scheduledForMs: [] as (number | null)[],
    hasQueueScore: [] as boolean[],
    queueScore: [] as (number | null)[],
  };
  const row = { jobId: [] as string[], seq: [] as number[], from: [] as string[], to: [] as string[], message: [] as string[], iteration: [] as number[], atMs: [] as number[] };
  for (const g of groups) {
    const first = records[g.order[0] as number] as TransitionWrite;
    let atMs = -Infinity;
    let startedMs: number | null = null;
    let finishedMs: number | null = null;
    let error: string | null = null;
    let snapshot: TransitionWrite | null = null;
    let scheduled: TransitionWrite | null = null;
    let score: TransitionWrite | null = null;
    let last = first;
    for (let k = 0; k < g.chained; k++) {
      const r = records[g.order[k] as number] as TransitionWrite;
      const at = toEpochMs(r.at);
      row.jobId.push(r.jobId);
      row.seq.push(r.seq);
      row.from.push(r.fromStatus);
      row.to.push(r.toStatus);
      row.message.push(r.message);
      row.iteration.push(r.iteration);
      row.atMs.push(at);
      atMs = Math.max(atMs, at);
      if (r.toStatus === 'starting' && startedMs === null) startedMs = at;
      if (r.toStatus === 'ready' || r.toStatus === 'failed') finishedMs = at;
      if (r.error != null) error = clipReason(r.error);
      if (r.snapshot !== undefined) snapshot = r;
      if (r.scheduledFor !== undefined) scheduled = r;
      if (r.queueScore !== undefined) score = r;
      last = r;
    }
    job.id.push(g.jobId);
    job.prevSeq.push(first.seq - 1);
    job.fromStatus.push(first.fromStatus);
    job.status.push(last.toStatus);
    job.seq.push(last.seq);
    job.iteration.push(last.iteration);
    job.awaiting.push(last.awaitingConfirmation);
    job.atMs.push(atMs);
    job.startedMs.push(startedMs);
    job.finishedMs.push(finishedMs);
    job.error.push(error);
    job.hasSnapshot.push(snapshot !== null);
    job.snapshot.push(snapshot === null ? null : snapshot.snapshot);
    job.machineVersion.push(snapshot?.machineVersion ?? null);
    job.hasScheduledFor.push(scheduled !== null);
    job.scheduledForMs.push(scheduled?.scheduledFor == null ? null : toEpochMs(scheduled.scheduledFor));
    job.hasQueueScore.push(score !== null);
    job.queueScore.push(score?.queueScore ?? null);
  }
  return { job, row };
}

/** SQLSTATE of a deadlock: the statement was rolled back whole, so running it again is safe. */
const PG_DEADLOCK_DETECTED = '40P01';
const DEADLOCK_ATTEMPTS = 3;

/**
 * Group commit: writes many jobs' transitions in ONE statement (one round trip, one implicit
 * transaction). For each job, its records (ordered by seq) are applied as the longest valid prefix:
 * each must have seq = previous + 1 and fromStatus = previous status, starting from the stored job row.
 * Valid records insert their transition rows and move the job row to the state of its last one.
 *
 * Refusal is per record, never silent: the result has one outcome per input record, in input order, and
 * a refused record writes nothing. Per-record rather than whole-batch failure because a batch mixes
 * independent jobs: one stale writer (e.g. after a lease takeover) must not fail everyone else's commit.
 *
 * How the work is split: how a job's records follow one another inside the batch is known here, so it is
 * checked here; PostgreSQL checks only what it alone knows, that the first of them follows the stored
 * row. That check is the update's own condition (`seq` and `status` as expected), re-evaluated on the
 * newest row version if a concurrent batch changed it first, so a seq is never applied twice; the
 * (job_id, seq) primary key is the last guard. The statement takes typed arrays (no JSON to parse, no
 * window functions) and runs on connections that use generic plans (see `createSql`'s planCacheMode).
 */
export async function recordTransitions(sql: Sql | TransactionSql, records: readonly TransitionWrite[]): Promise<TransitionOutcome[]> {
  if (records.length === 0) return [];
  const groups = groupByJob(records);
  const { job, row } = statementArrays(records, groups);
  let rows: StatementRow[] = [];
  for (let attempt = 1; ; attempt++) {
    try {
      rows = await runStatement(sql, job, row);
      break;
    } catch (error) {
      if (attempt >= DEADLOCK_ATTEMPTS || (error as { code?: unknown }).code !== PG_DEADLOCK_DETECTED) throw error;
    }
  }
  const found = new Map<string, StatementRow>();
  for (const r of rows) found.set(r.id, r);
  const outcomes: TransitionOutcome[] = new Array<TransitionOutcome>(records.length);
  for (const g of groups) {
    const stored = found.get(g.jobId);
    const first = records[g.order[0] as number] as TransitionWrite;
    for (const [k, index] of g.order.entries()) {
      const { jobId, seq, fromStatus } = records[index] as TransitionWrite;
      if (stored?.applied && k < g.chained) {
        outcomes[index] = { jobId, seq, applied: true };
        continue;
      }
      // The statement has committed by now, so report rather than throw: others' outcomes must reach them.
      const currentSeq = stored ? (stored.applied ? first.seq - 1 : stored.seq) : null;
      const currentStatus = stored ? (stored.applied ? first.fromStatus : stored.status) : null;
      const expectedSeq = currentSeq === null ? null : currentSeq + k + 1;
      const reason: TransitionRefusal =
        currentSeq === null
          ? 'job_not_found'
          : k > (stored?.applied ? g.chained : 0)
            ? 'after_refused'
            : seq !== expectedSeq
              ? 'seq_mismatch'
              : fromStatus !== (k === 0 ? currentStatus : (records[g.order[k - 1] as number] as TransitionWrite).toStatus)
                ? 'status_mismatch'
                : 'conflict';
      outcomes[index] = { jobId, seq, applied: false, reason, expectedSeq, currentSeq, currentStatus };
    }
  }
  return outcomes;
}

/** A job of the batch as the statement reports it: applied, or (refused) the stored seq and status. */
type StatementRow = { id: string; applied: true; seq: null; status: null } | { id: string; applied: false; seq: number; status: JobStatus };

async function runStatement(sql: Sql | TransactionSql, job: ReturnType<typeof statementArrays>['job'], row: ReturnType<typeof statementArrays>['row']): Promise<StatementRow[]> {
  return sql<StatementRow[]>`
    with input as (
      select * from unnest(
        ${arrayLiteral(job.id)}::uuid[], ${arrayLiteral(job.prevSeq)}::int[], ${arrayLiteral(job.fromStatus)}::text[], ${arrayLiteral(job.status)}::text[], ${arrayLiteral(job.seq)}::int[],
        ${arrayLiteral(job.iteration)}::int[], ${arrayLiteral(job.awaiting)}::bool[], ${arrayLiteral(job.atMs)}::float8[], ${arrayLiteral(job.startedMs)}::float8[],
        ${arrayLiteral(job.finishedMs)}::float8[], ${arrayLiteral(job.error)}::text[], ${arrayLiteral(job.hasSnapshot)}::bool[],
        ${arrayLiteral(job.machineVersion)}::int[], ${arrayLiteral(job.hasScheduledFor)}::bool[], ${arrayLiteral(job.scheduledForMs)}::float8[],
        ${arrayLiteral(job.hasQueueScore)}::bool[], ${arrayLiteral(job.queueScore)}::float8[]
      ) with ordinality as i(job_id, prev_seq, from_status, status, seq, iteration, awaiting, at_ms, started_ms, finished_ms,
             error, has_snapshot, machine_version, has_scheduled_for, scheduled_for_ms, has_queue_score, queue_score, ord)
      join json_array_elements(${JSON.stringify(job.snapshot)}::text::json) with ordinality as s(snapshot, ord) using (ord)
    ),
    updated as (
      update jobs j set
        status = i.status,
        seq = i.seq,
        iteration = i.iteration,
        awaiting_confirmation = i.awaiting,
        updated_at = greatest(j.updated_at, to_timestamp(i.at_ms / 1000)),
        started_at = coalesce(j.started_at, to_timestamp(i.started_ms / 1000)),
        finished_at = coalesce(to_timestamp(i.finished_ms / 1000), j.finished_at),
        error = coalesce(i.error, j.error),
        snapshot = case when i.has_snapshot then i.snapshot else j.snapshot end,
        machine_version = case when i.has_snapshot then i.machine_version else j.machine_version end,
        scheduled_for = case when i.has_scheduled_for then to_timestamp(i.scheduled_for_ms / 1000) else j.scheduled_for end,
        queue_score = case when i.has_queue_score then i.queue_score else j.queue_score end
      from input i
      where j.id = i.job_id and j.seq = i.prev_seq and j.status = i.from_status
      returning j.id, j.project_id, j.status, j.finished_at
    ),
    -- A job that ends is counted into its project's failure streak (SPEC §5) in this same statement, so
    -- the count never depends on what happens after the commit. Once per job (the primary key).
    outcomes as (
      insert into project_build_outcomes (job_id, project_id, status, finished_at)
      select u.id, u.project_id, u.status, u.finished_at from updated u
      where u.status in ('ready', 'failed')
      on conflict (job_id) do nothing
      returning project_id, status, finished_at
    ),
    per_project as (
      select project_id, max(finished_at) as last_at,
             max(finished_at) filter (where status = 'ready') as last_ready_at
      from outcomes group by project_id
    ),
    streaks as (
      -- A ready job resets the streak (and the build_failures mark, so three more failures are a new
      -- crossing); the failures after the batch's last ready job add to it.
      update projects pr set
        consecutive_failures = (case when pp.last_ready_at is null then pr.consecutive_failures else 0 end)
          + (select count(*)::int from outcomes o where o.project_id = pp.project_id and o.status = 'failed'
               and (pp.last_ready_at is null or o.finished_at > pp.last_ready_at)),
        risk_flags_emitted = case when pp.last_ready_at is null then pr.risk_flags_emitted
          else pr.risk_flags_emitted & ~${PROJECT_RULE_BITS.build_failures}::smallint end,
        last_activity_at = greatest(pr.last_activity_at, pp.last_at)
      from per_project pp
      where pr.id = pp.project_id
      returning pr.id
    ),
    inserted as (
      insert into job_transitions (job_id, seq, from_status, to_status, message, iteration, at)
      select t.job_id, t.seq, t.from_status, t.to_status, t.message, t.iteration, to_timestamp(t.at_ms / 1000)
      from unnest(${arrayLiteral(row.jobId)}::uuid[], ${arrayLiteral(row.seq)}::int[], ${arrayLiteral(row.from)}::text[], ${arrayLiteral(row.to)}::text[], ${arrayLiteral(row.message)}::text[],
                  ${arrayLiteral(row.iteration)}::int[], ${arrayLiteral(row.atMs)}::float8[])
        as t(job_id, seq, from_status, to_status, message, iteration, at_ms)
      where t.job_id in (select id from updated)
      returning job_id
    )
    select u.id::text as id, true as applied, null::int as seq, null::text as status from updated u
    union all
    -- Refused jobs: their row as this statement found it (a job missing here does not exist).
    select j.id::text, false, j.seq, j.status from jobs j
    where j.id = any(array(select i.job_id from input i where i.job_id not in (select id from updated)))`;
}
