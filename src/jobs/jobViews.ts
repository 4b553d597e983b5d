import { STAGE_LABELS, type JobStatus } from '../../actors/jobTransitions.js';
import type { JobListItem, TransitionRow } from '../db/jobRows.js';
import type { JobEvent } from '../redis/jobEvent.js';

/** A job as the API lists it; times are ISO strings. */
export interface JobSummary {
  jobId: string;
  projectId: string;
  goal: string;
  tier: string;
  status: JobStatus;
  stageLabel: string;
  /** Times the job went back from checks to scaffold. */
  iteration: number;
  /** Paused until its owner confirms (jobs.confirm). */
  awaitingConfirmation: boolean;
  /** Seq of its last transition (the lastEventId of jobs.events). */
  seq: number;
  createdAt: string;
  updatedAt: string;
  startedAt: string | null;
  finishedAt: string | null;
  /** Why it failed, at most 200 characters. */
  error: string | null;
  /** A scheduled job's release time. */
  scheduledFor: string | null;
}

/** One job in full: its last message, and its place in the queue while it waits there. */
export interface JobDetails extends JobSummary {
  message: string;
  /** 1-based; null when the job is not in the queue. */
  position: number | null;
}

export function toJobSummary(row: JobListItem): JobSummary {
  return {
    jobId: row.id,
    projectId: row.projectId,
    goal: row.goal,
    tier: row.tier,
    status: row.status,
    stageLabel: STAGE_LABELS[row.status],
    iteration: row.iteration,
    awaitingConfirmation: row.awaitingConfirmation,
    seq: row.seq,
    createdAt: row.createdAt,
    updatedAt: row.updatedAt,
    startedAt: row.startedAt,
    finishedAt: row.finishedAt,
    error: row.error,
    scheduledFor: row.scheduledFor,
  };
}

/** A logged transition as the event it was published as (SPEC §2), for backfills. */
export function transitionToEvent(row: TransitionRow): JobEvent {
  return {
    jobId: row.jobId,
    seq: row.seq,
    status: row.toStatus,
    previousStatus: row.fromStatus,
    message: row.message,
    stageLabel: STAGE_LABELS[row.toStatus],
    iteration: row.iteration,
    timestamp: row.at,
  };
}
