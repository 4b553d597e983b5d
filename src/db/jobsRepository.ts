import { randomUUID } from 'node:crypto';
import { z } from 'zod';
import { JOB_STATUSES, STAGE_LABELS, type JobStatus } from '../../actors/jobTransitions.js';
import { WardenError, notFound } from '../errors.js';
import type { Sql } from './client.js';
import { instantSchema, type Instant } from './instant.js';
import { jobListItemSchema, jobRowSchema, transitionRowSchema } from './jobRows.js';
import type { JobListItem, JobRow, TransitionRow } from './jobRows.js';
import { pageLimitSchema, parseCursorOrThrow, toPage, type Page } from './pageCursor.js';
import { isForeignKeyViolation, isUniqueViolation } from './pgErrors.js';
import { recordTransitions, type TransitionOutcome, type TransitionWrite } from './recordTransitions.js';

export const MAX_GOAL_LENGTH = 10_000;

export interface InsertJobInput {
  /** Defaults to a random UUID; a caller may pick it (e.g. to enqueue under the same id). */
  id?: string;
  ownerId: string;
  projectId: string;
  tier: string;
  goal: string;
  /** A job is born queued, or scheduled when its owner's daily quota is spent. */
  status: 'queued' | 'scheduled';
  /** Message of transition seq 1; defaults to the status's stage label. */
  message?: string;
  now: Instant;
  scheduledFor?: Instant | null;
  queueScore?: number | null;
  /** An initial actor snapshot and the machine version that wrote it (both or neither). */
  snapshot?: unknown;
  machineVersion?: number;
}

const insertInputSchema = z
  .object({
    id: z.uuid().optional(),
    ownerId: z.string().min(1),
    projectId: z.string(),
    tier: z.string().min(1),
    goal: z.string().min(1).max(MAX_GOAL_LENGTH),
    status: z.enum(['queued', 'scheduled']),
    message: z.string().optional(),
    now: instantSchema,
    scheduledFor: instantSchema.nullish(),
    queueScore: z.number().finite().nullish(),
    snapshot: z.unknown().optional(),
    machineVersion: z.number().int().optional(),
  })
  .refine((r) => (r.snapshot === undefined) === (r.machineVersion === undefined), {
    message: 'snapshot and machineVersion go together',
  })
  .refine((r) => r.snapshot !== null, { message: 'snapshot, when given, is not null' });

export interface ListJobsOptions {
  ownerId: string;
  projectId?: string;
  status?: JobStatus;
  limit?: number;
  cursor?: string | null;
}

const listOptionsSchema = z.object({
  ownerId: z.string(),
  projectId: z.string().optional(),
  status: z.enum(JOB_STATUSES).optional(),
  limit: pageLimitSchema,
  cursor: z.string().nullish(),
});

const uuid = z.uuid();

export interface JobsRepository {
  /**
   * Inserts the job row and its first transition (seq 1, from null) in one statement, so neither exists
   * without the other. Throws NOT_FOUND (entity "project") for a project that is missing or not the
   * owner's, NOT_FOUND (entity "user") for an owner with no user row, and CONFLICT when the id is taken.
   */
  insertJob(input: InsertJobInput): Promise<JobRow>;
  /** `ownerId` null is the runtime's unscoped read; otherwise another owner's job is null, like a missing one. */
  getJob(ownerId: string | null, jobId: string): Promise<JobRow | null>;
  /** Newest first, keyset-paginated (stable under inserts); without snapshots. Throws INVALID_CURSOR. */
  listJobs(options: ListJobsOptions): Promise<Page<JobListItem>>;
  /** The job's transition log in seq order, only seq > afterSeq when given. Callers check ownership first. */
  getTransitions(jobId: string, afterSeq?: number): Promise<TransitionRow[]>;
  /** Group commit of many jobs' transitions in one round trip; see {@link recordTransitions}. */
  recordTransitions(records: readonly TransitionWrite[]): Promise<TransitionOutcome[]>;
}

export function createJobsRepository(sql: Sql): JobsRepository {
  return {
    async insertJob(input) {
      const j = insertInputSchema.parse(input);
      const id = j.id ?? randomUUID();
      const message = j.message ?? STAGE_LABELS[j.status];
      if (!uuid.safeParse(j.projectId).success) throw notFound('project', j.projectId);
      // Sent as text and cast in SQL: a string bound to a json parameter would be stored as a JSON string.
      const snapshot = j.snapshot === undefined ? null : JSON.stringify(j.snapshot);
      try {
        const rows = await sql`
          with job as (
            insert into jobs (id, owner_id, project_id, tier, goal, status, iteration, awaiting_confirmation, seq,
                              created_at, updated_at, snapshot, machine_version, scheduled_for, queue_score)
            values (${id}, ${j.ownerId}, ${j.projectId}, ${j.tier}, ${j.goal}, ${j.status}, 0, false, 1,
                    ${j.now}, ${j.now}, ${snapshot}::text::json, ${j.machineVersion ?? null}, ${j.scheduledFor ?? null},
                    ${j.queueScore ?? null})
            returning *
          ), first as (
            insert into job_transitions (job_id, seq, from_status, to_status, message, iteration, at)
            select id, 1, null, status, ${message}, 0, created_at from job
          )
          select * from job`;
        return jobRowSchema.parse(rows[0]);
      } catch (err) {
        if (isForeignKeyViolation(err, 'jobs_owner_id_fkey')) throw notFound('user', j.ownerId);
        if (isForeignKeyViolation(err)) throw notFound('project', j.projectId);
        if (isUniqueViolation(err)) {
          throw new WardenError('CONFLICT', 'A job with this id exists', { entity: 'job', id, reason: 'duplicate id' });
        }
        throw err;
      }
    },

    async getJob(ownerId, jobId) {
      if (!uuid.safeParse(jobId).success) return null;
      const rows = await sql`
        select * from jobs where id = ${jobId} ${ownerId === null ? sql`` : sql`and owner_id = ${ownerId}`}`;
      return rows[0] ? jobRowSchema.parse(rows[0]) : null;
    },

    async listJobs(options) {
      const o = listOptionsSchema.parse(options);
      const cursor = parseCursorOrThrow(o.cursor);
      if (o.projectId !== undefined && !uuid.safeParse(o.projectId).success) return { items: [], nextCursor: null };
      // Every column but the snapshot; the (owner|project, created_at desc, id desc) indexes serve the order.
      const rows = await sql`
        select id, owner_id, project_id, tier, goal, status, iteration, awaiting_confirmation, seq, created_at,
               updated_at, started_at, finished_at, error, machine_version, scheduled_for, queue_score
        from jobs
        where owner_id = ${o.ownerId}
          ${o.projectId === undefined ? sql`` : sql`and project_id = ${o.projectId}`}
          ${o.status === undefined ? sql`` : sql`and status = ${o.status}`}
          ${cursor ? sql`and (created_at, id) < (${cursor.createdAt}::timestamptz, ${cursor.id}::uuid)` : sql``}
        order by created_at desc, id desc
        limit ${o.limit + 1}`;
      return toPage(rows.map((r) => jobListItemSchema.parse(r)), o.limit);
    },

    async getTransitions(jobId, afterSeq = 0) {
      if (!uuid.safeParse(jobId).success) return [];
      const rows = await sql`
        select * from job_transitions where job_id = ${jobId} and seq > ${afterSeq} order by seq`;
      return rows.map((r) => transitionRowSchema.parse(r));
    },

    recordTransitions: (records) => recordTransitions(sql, records),
  };
}
