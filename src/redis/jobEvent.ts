import { z } from 'zod';
import { JOB_STATUSES } from '../../actors/jobTransitions.js';

/**
 * A published job transition (SPEC §2). Subscribers parse every message with this schema: a message
 * that does not match is dropped and reported, never handed on.
 */
export const jobEventSchema = z.strictObject({
  jobId: z.string().min(1),
  /** 1, 2, 3 … per job, no gap, no duplicate. */
  seq: z.number().int().positive(),
  status: z.enum(JOB_STATUSES),
  /** null only for an event that creates a job. */
  previousStatus: z.enum(JOB_STATUSES).nullable(),
  message: z.string(),
  stageLabel: z.string(),
  iteration: z.number().int().nonnegative(),
  /** ISO 8601, UTC. */
  timestamp: z.iso.datetime(),
});

export type JobEvent = z.infer<typeof jobEventSchema>;

/** Parses a raw channel message; throws a ZodError (or SyntaxError) when it is not a job event. */
export function parseJobEvent(raw: string): JobEvent {
  return jobEventSchema.parse(JSON.parse(raw));
}
