import { z } from 'zod';
import { JOB_STATUSES, clipReason, type JobStatus } from '../../actors/jobTransitions.js';
import type { Sql } from './client.js';
import { PROJECT_RULE_BITS } from '../domain/riskRules.js';
import { instantSchema, type Instant } from './instant.js';

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

const status = z.enum(JOB_STATUSES);

const recordSchema = z
  .object({
    jobId: z.uuid(),
    seq: z.number().int().min(2),
    fromStatus: status,
    toStatus: status,
    message: z.string(),
    iteration: z.number().int().min(0),
    at: instantSchema,
    awaitingConfirmation: z.boolean(),
    error: z.string().nullish(),
    snapshot: z.unknown().optional(),
    machineVersion: z.number().int().optional(),
    scheduledFor: instantSchema.nullish(),
    queueScore: z.number().finite().nullish(),
  })
  .refine((r) => (r.snapshot === undefined) === (r.machineVersion === undefined), {
    message: 'snapshot and machineVersion go together',
  })
  .refine((r) => r.snapshot !== null, { message: 'snapshot, when given, is not null' });

const outcomeRowSchema = z.object({
  ord: z.number().int(),
  job_exists: z.boolean(),
  job_seq: z.number().int().nullable(),
  job_status: status.nullable(),
  expected_seq: z.number().int().nullable(),
  seq_ok: z.boolean(),
  from_ok: z.boolean(),
  prefix_ok: z.boolean(),
  prior_ok: z.boolean(),
  applied: z.boolean(),
});

/**
 * Group commit: writes many jobs' transitions in ONE statement (one round trip, one implicit
 * transaction). For each job, its records (ordered by seq) are applied as the longest valid prefix:
 * each must have seq = previous + 1 and fromStatus = previous status, starting from the stored job row.
 * Valid records insert their transition rows and move the job row to the state of its last one.
 *
 * Refusal is per record, never silent: the result has one outcome per input record, in input order, and
 * a refused record writes nothing. Per-record rather than whole-batch failure because a batch mixes
 * independent jobs: one stale writer (e.g. after a lease takeover) must not fail everyone else's commit.
 * The job rows are locked in id order before the checks, so concurrent batches neither deadlock on each
 * other nor apply one seq twice; the (job_id, seq) primary key is the last guard.
 */
export async function recordTransitions(sql: Sql, records: readonly TransitionWrite[]): Promise<TransitionOutcome[]> {
  if (records.length === 0) return [];
  const parsed = records.map((r) => recordSchema.parse(r));
  const payload = parsed.map((r) => ({
    ...r,
    at: r.at.toISOString(),
    error: r.error == null ? r.error : clipReason(r.error),
    scheduledFor: r.scheduledFor instanceof Date ? r.scheduledFor.toISOString() : r.scheduledFor,
  }));
  const rows = await sql`
    with input as (
      select e.ord::int as ord,
             (e.rec->>'jobId')::uuid as job_id,
             (e.rec->>'seq')::int as seq,
             e.rec->>'fromStatus' as from_status,
             e.rec->>'toStatus' as to_status,
             e.rec->>'message' as message,
             (e.rec->>'iteration')::int as iteration,
             (e.rec->>'at')::timestamptz as at,
             (e.rec->>'awaitingConfirmation')::boolean as awaiting_confirmation,
             e.rec->>'error' as error,
             e.rec ? 'snapshot' as has_snapshot,
             e.rec->'snapshot' as snapshot,
             (e.rec->>'machineVersion')::int as machine_version,
             e.rec ? 'scheduledFor' as has_scheduled_for,
             (e.rec->>'scheduledFor')::timestamptz as scheduled_for,
             e.rec ? 'queueScore' as has_queue_score,
             (e.rec->>'queueScore')::float8 as queue_score
      from jsonb_array_elements(${JSON.stringify(payload)}::text::jsonb) with ordinality as e(rec, ord)
    ),
    locked as (
      -- "= any(array(...))" is a primary-key lookup whatever the statistics; "in (select ...)" was planned
      -- as a hash join over a seq scan of jobs while the table was small or unanalyzed (EXPLAIN, bench:
      -- 0.9 ms of a 2 ms batch at 6,000 jobs).
      select j.id, j.seq, j.status from jobs j
      where j.id = any(array(select job_id from input))
      order by j.id
      for update
    ),
    checked as (
      select i.*, l.id is not null as job_exists, l.seq as job_seq, l.status as job_status,
             l.seq + row_number() over w as expected_seq,
             coalesce(lag(i.to_status) over w, l.status) as expected_from
      from input i left join locked l on l.id = i.job_id
      window w as (partition by i.job_id order by i.seq, i.ord)
    ),
    judged as (
      select c.*,
             coalesce(c.seq = c.expected_seq, false) as seq_ok,
             coalesce(c.from_status = c.expected_from, false) as from_ok
      from checked c
    ),
    prefixed as (
      select d.*,
             bool_and(d.job_exists and d.seq_ok and d.from_ok) over (
               partition by d.job_id order by d.seq, d.ord rows between unbounded preceding and current row
             ) as prefix_ok,
             coalesce(bool_and(d.job_exists and d.seq_ok and d.from_ok) over (
               partition by d.job_id order by d.seq, d.ord rows between unbounded preceding and 1 preceding
             ), true) as prior_ok
      from judged d
    ),
    per_job as (
      select job_id,
             max(job_seq) as job_seq,
             max(seq) as last_seq,
             (array_agg(to_status order by seq desc))[1] as status,
             (array_agg(iteration order by seq desc))[1] as iteration,
             (array_agg(awaiting_confirmation order by seq desc))[1] as awaiting_confirmation,
             max(at) as updated_at,
             min(at) filter (where to_status = 'starting') as started_at,
             max(at) filter (where to_status in ('ready', 'failed')) as finished_at,
             (array_agg(error order by seq desc) filter (where error is not null))[1] as error,
             bool_or(has_snapshot) as has_snapshot,
             (array_agg(snapshot order by seq desc) filter (where has_snapshot))[1] as snapshot,
             (array_agg(machine_version order by seq desc) filter (where has_snapshot))[1] as machine_version,
             bool_or(has_scheduled_for) as has_scheduled_for,
             (array_agg(scheduled_for order by seq desc) filter (where has_scheduled_for))[1] as scheduled_for,
             bool_or(has_queue_score) as has_queue_score,
             (array_agg(queue_score order by seq desc) filter (where has_queue_score))[1] as queue_score
      from prefixed where prefix_ok
      group by job_id
    ),
    updated as (
      update jobs j set
        status = p.status,
        seq = p.last_seq,
        iteration = p.iteration,
        awaiting_confirmation = p.awaiting_confirmation,
        updated_at = greatest(j.updated_at, p.updated_at),
        started_at = coalesce(j.started_at, p.started_at),
        finished_at = coalesce(p.finished_at, j.finished_at),
        error = coalesce(p.error, j.error),
        snapshot = case when p.has_snapshot then p.snapshot else j.snapshot end,
        machine_version = case when p.has_snapshot then p.machine_version else j.machine_version end,
        scheduled_for = case when p.has_scheduled_for then p.scheduled_for else j.scheduled_for end,
        queue_score = case when p.has_queue_score then p.queue_score else j.queue_score end
      from per_job p
      where j.id = p.job_id and j.seq = p.job_seq
      returning j.id, j.project_id
    ),
    -- A job that ends is counted into its project's failure streak (SPEC §5) in this same statement, so
    -- the count never depends on what happens after the commit. Once per job (the primary key).
    outcomes as (
      insert into project_build_outcomes (job_id, project_id, status, finished_at)
      select p.job_id, u.project_id, p.status, p.finished_at
      from per_job p join updated u on u.id = p.job_id
      where p.status in ('ready', 'failed')
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
      select x.job_id, x.seq, x.from_status, x.to_status, x.message, x.iteration, x.at
      from prefixed x
      where x.prefix_ok and x.job_id in (select id from updated)
      returning job_id
    )
    select x.ord, x.job_exists, x.job_seq, x.job_status, x.expected_seq, x.seq_ok, x.from_ok, x.prefix_ok, x.prior_ok,
           (x.prefix_ok and x.job_id in (select id from updated)) as applied
    from prefixed x
    order by x.ord`;

  return rows.map((raw, index): TransitionOutcome => {
    const row = outcomeRowSchema.parse(raw);
    const record = parsed[row.ord - 1];
    if (!record || row.ord !== index + 1) throw new Error('recordTransitions: outcomes out of step with records');
    const { jobId, seq } = record;
    if (row.applied) return { jobId, seq, applied: true };
    // The statement has committed by now, so report rather than throw: others' outcomes must reach them.
    const reason: TransitionRefusal = row.prefix_ok
      ? 'conflict'
      : !row.job_exists
        ? 'job_not_found'
        : !row.prior_ok
          ? 'after_refused'
          : !row.seq_ok
            ? 'seq_mismatch'
            : 'status_mismatch';
    return {
      jobId,
      seq,
      applied: false,
      reason,
      expectedSeq: row.job_exists ? row.expected_seq : null,
      currentSeq: row.job_seq,
      currentStatus: row.job_status,
    };
  });
}
