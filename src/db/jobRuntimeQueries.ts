import { z } from 'zod';
import { arrayLiteral } from './arrayLiteral.js';
import type { Sql } from './client.js';
import { instantSchema, type Instant } from './instant.js';
import { jobRowSchema, type JobRow } from './jobRows.js';

/** The statuses in which a job should be either queued or held by a worker. */
const RUNNABLE = ['queued', 'starting', 'scaffold', 'code', 'deps', 'checks'] as const;

export interface JobToRun {
  job: JobRow;
  /** The owner's token budget override (null: the tier's budget). */
  tokenBudgetOverride: number | null;
  /** The reason of a pending request to fail the job (cancel, max age), or null. */
  failRequest: string | null;
}

/** The few rows of the runtime that are not plain repository reads: loading, scheduling, sweeping. */
export interface JobRuntimeQueries {
  /** A job with what a worker needs of its owner, in one round trip; null when missing. */
  loadJobToRun(jobId: string): Promise<JobToRun | null>;
  /** The same for many jobs in one round trip (workers claiming together); answers in the order asked. */
  loadJobsToRun(jobIds: readonly string[]): Promise<(JobToRun | null)[]>;
  /** Deletes a job and its log (a submit refused after the insert stores nothing). */
  deleteJob(jobId: string): Promise<boolean>;
  /**
   * Scheduled jobs due at `now`, claimed for release: their `scheduled_for` moves to `holdUntil`, so a
   * concurrent scheduler skips them (SKIP LOCKED) and, should this process die, they come due again.
   */
  claimDueScheduled(now: Instant, holdUntil: Instant, limit: number): Promise<JobRow[]>;
  /** Moves a still-scheduled job's release time (its day's quota was spent again); no transition. */
  reschedule(jobId: string, seq: number, scheduledFor: Instant): Promise<boolean>;
  /** Runnable jobs untouched since `before` (not awaiting confirmation), oldest first: orphan candidates. */
  findStaleRunnable(before: Instant, limit: number): Promise<{ id: string; tier: string }[]>;
  /**
   * The jobs a hot-state rebuild queues: every runnable one (not paused, not scheduled) when `all`, else
   * the queued ones and those untouched since `staleBefore` (a live process may still hold the others);
   * in admission order.
   */
  findRunnableToRequeue(options: { all: boolean; staleBefore: Instant }): Promise<{ id: string; tier: string }[]>;
  /** Jobs not finished and created before `before` (max-age sweep), oldest first. */
  findOverAge(before: Instant, limit: number): Promise<string[]>;
  /**
   * How long a job has spent paused for its owner's confirmation (ms): the pause and the confirm are both
   * recorded as checks → checks transitions, alternating, so it is the sum of (confirm − pause) pairs.
   */
  pausedMs(jobId: string): Promise<number>;
  /**
   * Keeps a request to fail an unfinished job (the first reason stays): the durable copy of what Redis
   * holds for the job's host. False when the job is missing or finished.
   */
  recordFailRequest(jobId: string, reason: string): Promise<boolean>;
  /** The pending fail requests of these jobs (unfinished ones only), by job id. */
  failRequests(jobIds: readonly string[]): Promise<Map<string, string>>;
  /** The owner's newest unfinished job's iteration state, or null when none. */
  currentIterations(ownerId: string): Promise<{ tier: string; iteration: number; confirmations: number } | null>;
}

const limitSchema = z.number().int().min(1).max(10_000);
const uuidSchema = z.uuid();
const ownerAndRequestSchema = z.object({ owner_token_budget_override: z.number().int().nullable(), fail_request: z.string().nullable() });
const failRequestSchema = z.object({ id: z.string(), fail_request: z.string() });
const idTierSchema = z.object({ id: z.string(), tier: z.string() });
const idSchema = z.object({ id: z.string() });
const iterationsSchema = z.object({ tier: z.string(), iteration: z.number().int(), confirmations: z.number().int() });
const ownerIterationsSchema = iterationsSchema.extend({ owner_id: z.string() });
const MAX_KEYS_PER_QUERY = 500;
type Iterations = z.infer<typeof iterationsSchema>;

/**
 * Reads by key issued in one tick become one query for the distinct keys (what the keys' callers get is
 * what a read issued after all of them started sees). Why: usage.get reads this per call, and a batch of
 * N calls (or N users polling at once) would otherwise hold N pool connections for N identical round
 * trips; profiling the `api` bench put the batch's latency in those queries.
 */
function coalescePerTick<V>(load: (keys: string[]) => Promise<Map<string, V>>): (key: string) => Promise<V | null> {
  type Waiter = { resolve: (value: V | null) => void; reject: (error: unknown) => void };
  let pending: Map<string, Waiter[]> | null = null;
  const flush = (batch: Map<string, Waiter[]>) => {
    const keys = [...batch.keys()];
    // Bounded statements: a tick with very many distinct keys becomes several queries.
    for (let i = 0; i < keys.length; i += MAX_KEYS_PER_QUERY) {
      const chunk = keys.slice(i, i + MAX_KEYS_PER_QUERY);
      load(chunk).then(
        (found) => {
          for (const key of chunk) for (const w of batch.get(key) ?? []) w.resolve(found.get(key) ?? null);
        },
        (error: unknown) => {
          for (const key of chunk) for (const w of batch.get(key) ?? []) w.reject(error);
        },
      );
    }
  };
  return (key) =>
    new Promise<V | null>((resolve, reject) => {
      if (pending === null) {
        const batch = new Map<string, Waiter[]>();
        pending = batch;
        // After the current microtasks: every call started by this tick's work joins the same query.
        process.nextTick(() => {
          pending = null;
          flush(batch);
        });
      }
      const waiters = pending.get(key);
      if (waiters) waiters.push({ resolve, reject });
      else pending.set(key, [{ resolve, reject }]);
    });
}

export function createJobRuntimeQueries(sql: Sql): JobRuntimeQueries {
  const loadJobsToRun = async (jobIds: readonly string[]): Promise<(JobToRun | null)[]> => {
    const ids = jobIds.filter((id) => uuidSchema.safeParse(id).success);
    const found = new Map<string, JobToRun>();
    if (ids.length > 0) {
      const rows = await sql`
        select j.*, u.token_budget_override as owner_token_budget_override
        from jobs j join users u on u.id = j.owner_id
        where j.id in ${sql(ids)}`;
      for (const row of rows) {
        const job = jobRowSchema.parse(row);
        const extra = ownerAndRequestSchema.parse(row);
        found.set(job.id, { job, tokenBudgetOverride: extra.owner_token_budget_override, failRequest: extra.fail_request });
      }
    }
    return jobIds.map((id) => found.get(id) ?? null);
  };

  return {
    async loadJobToRun(jobId) {
      const [loaded] = await loadJobsToRun([jobId]);
      return loaded ?? null;
    },

    loadJobsToRun,

    async recordFailRequest(jobId, reason) {
      if (!uuidSchema.safeParse(jobId).success) return false;
      const rows = await sql`
        update jobs set fail_request = coalesce(fail_request, ${reason})
        where id = ${jobId} and finished_at is null
        returning id`;
      return rows.length > 0;
    },

    async failRequests(jobIds) {
      const ids = jobIds.filter((id) => uuidSchema.safeParse(id).success);
      const found = new Map<string, string>();
      for (let i = 0; i < ids.length; i += MAX_KEYS_PER_QUERY) {
        const rows = await sql`
          select id::text as id, fail_request from jobs
          where id = any(${arrayLiteral(ids.slice(i, i + MAX_KEYS_PER_QUERY))}::uuid[]) and fail_request is not null and finished_at is null`;
        for (const row of rows) {
          const { id, fail_request } = failRequestSchema.parse(row);
          found.set(id, fail_request);
        }
      }
      return found;
    },

    async deleteJob(jobId) {
      const rows = await sql`delete from jobs where id = ${jobId} returning id`;
      return rows.length > 0;
    },

    async claimDueScheduled(now, holdUntil, limit) {
      const rows = await sql`
        update jobs set scheduled_for = ${instantSchema.parse(holdUntil)}
        where id in (
          select id from jobs
          where status = 'scheduled' and scheduled_for <= ${instantSchema.parse(now)}
          order by scheduled_for
          limit ${limitSchema.parse(limit)}
          for update skip locked
        )
        returning *`;
      return rows.map((r) => jobRowSchema.parse(r));
    },

    async reschedule(jobId, seq, scheduledFor) {
      const rows = await sql`
        update jobs set scheduled_for = ${instantSchema.parse(scheduledFor)}
        where id = ${jobId} and status = 'scheduled' and seq = ${seq}
        returning id`;
      return rows.length > 0;
    },

    async findStaleRunnable(before, limit) {
      const rows = await sql`
        select id, tier from jobs
        where finished_at is null and status in ${sql(RUNNABLE)} and not awaiting_confirmation
          and updated_at < ${instantSchema.parse(before)}
        order by updated_at
        limit ${limitSchema.parse(limit)}`;
      return rows.map((r) => idTierSchema.parse(r));
    },

    async findRunnableToRequeue({ all, staleBefore }) {
      const rows = await sql`
        select id, tier from jobs
        where finished_at is null and status in ${sql(RUNNABLE)} and not awaiting_confirmation
          and (${all} or status = 'queued' or updated_at <= ${instantSchema.parse(staleBefore)})
        order by created_at, id`;
      return rows.map((r) => idTierSchema.parse(r));
    },

    async findOverAge(before, limit) {
      const rows = await sql`
        select id from jobs
        where finished_at is null and created_at < ${instantSchema.parse(before)}
        order by created_at
        limit ${limitSchema.parse(limit)}`;
      return rows.map((r) => idSchema.parse(r).id);
    },

    async pausedMs(jobId) {
      const rows = await sql`
        select coalesce(sum(extract(epoch from next_at - at) * 1000), 0)::float8 as ms from (
          select at, lead(at) over (order by seq) as next_at, row_number() over (order by seq) as n
          from job_transitions where job_id = ${uuidSchema.parse(jobId)} and from_status = 'checks' and to_status = 'checks'
        ) pauses where n % 2 = 1 and next_at is not null`;
      return z.object({ ms: z.number() }).parse(rows[0]).ms;
    },

    currentIterations: coalescePerTick(async (ownerIds) => {
      const byOwner = new Map<string, Iterations>();
      if (ownerIds.length === 1) {
        // One owner (every single call, and a batch of one user's calls): the plain limit-1 read.
        const ownerId = ownerIds[0] as string;
        const rows = await sql`
          select tier, iteration,
                 coalesce((snapshot->'context'->>'confirmations')::int, 0) as confirmations
          from jobs
          where owner_id = ${ownerId} and finished_at is null
          order by created_at desc, id desc
          limit 1`;
        if (rows[0]) byOwner.set(ownerId, iterationsSchema.parse(rows[0]));
        return byOwner;
      }
      const rows = await sql`
        select distinct on (owner_id) owner_id, tier, iteration,
               coalesce((snapshot->'context'->>'confirmations')::int, 0) as confirmations
        from jobs
        where owner_id in ${sql(ownerIds)} and finished_at is null
        order by owner_id, created_at desc, id desc`;
      for (const row of rows) {
        const { owner_id: ownerId, ...iterations } = ownerIterationsSchema.parse(row);
        byOwner.set(ownerId, iterations);
      }
      return byOwner;
    }),
  };
}
