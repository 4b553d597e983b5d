import { z } from 'zod';
import { JOB_STATUSES, type JobStatus } from '../../actors/jobTransitions.js';
import { isoFromDb } from './instant.js';

/** A job as stored; times are ISO strings. */
export interface JobRow {
  id: string;
  ownerId: string;
  projectId: string;
  tier: string;
  goal: string;
  status: JobStatus;
  iteration: number;
  awaitingConfirmation: boolean;
  /** Seq of the last applied transition; the next one must be exactly seq + 1. */
  seq: number;
  createdAt: string;
  updatedAt: string;
  startedAt: string | null;
  finishedAt: string | null;
  /** Failure reason, at most 200 characters. */
  error: string | null;
  /** The actor's persisted snapshot (JSON), null until the runtime stores one. */
  snapshot: unknown;
  /** Version of the machine that wrote `snapshot`; null exactly when `snapshot` is. */
  machineVersion: number | null;
  scheduledFor: string | null;
  queueScore: number | null;
}

/** What lists return: the row without the snapshot, which can be large and is for the runtime only. */
export type JobListItem = Omit<JobRow, 'snapshot'>;

/** One row of the durable transition log. */
export interface TransitionRow {
  jobId: string;
  seq: number;
  /** Null for seq 1, the transition that created the job. */
  fromStatus: JobStatus | null;
  toStatus: JobStatus;
  message: string;
  iteration: number;
  at: string;
}

const status = z.enum(JOB_STATUSES);

const jobColumns = {
  id: z.string(),
  owner_id: z.string(),
  project_id: z.string(),
  tier: z.string(),
  goal: z.string(),
  status,
  iteration: z.number().int(),
  awaiting_confirmation: z.boolean(),
  seq: z.number().int(),
  created_at: isoFromDb,
  updated_at: isoFromDb,
  started_at: isoFromDb.nullable(),
  finished_at: isoFromDb.nullable(),
  error: z.string().nullable(),
  machine_version: z.number().int().nullable(),
  scheduled_for: isoFromDb.nullable(),
  queue_score: z.number().nullable(),
};

type JobColumns = z.output<z.ZodObject<typeof jobColumns>>;

function toListItem(r: JobColumns): JobListItem {
  return {
    id: r.id,
    ownerId: r.owner_id,
    projectId: r.project_id,
    tier: r.tier,
    goal: r.goal,
    status: r.status,
    iteration: r.iteration,
    awaitingConfirmation: r.awaiting_confirmation,
    seq: r.seq,
    createdAt: r.created_at,
    updatedAt: r.updated_at,
    startedAt: r.started_at,
    finishedAt: r.finished_at,
    error: r.error,
    machineVersion: r.machine_version,
    scheduledFor: r.scheduled_for,
    queueScore: r.queue_score,
  };
}

export const jobListItemSchema = z.object(jobColumns).transform(toListItem);

export const jobRowSchema = z
  .object({ ...jobColumns, snapshot: z.unknown() })
  .transform((r): JobRow => ({ ...toListItem(r), snapshot: r.snapshot ?? null }));

export const transitionRowSchema = z
  .object({
    job_id: z.string(),
    seq: z.number().int(),
    from_status: status.nullable(),
    to_status: status,
    message: z.string(),
    iteration: z.number().int(),
    at: isoFromDb,
  })
  .transform(
    (r): TransitionRow => ({
      jobId: r.job_id,
      seq: r.seq,
      fromStatus: r.from_status,
      toStatus: r.to_status,
      message: r.message,
      iteration: r.iteration,
      at: r.at,
    }),
  );
