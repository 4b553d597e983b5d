import { z } from 'zod';
import { JOB_STATUSES } from '../actors/jobTransitions.js';
import { MAX_GOAL_LENGTH } from '../src/db/jobsRepository.js';

/** Ids are bounded but not shape-checked: a malformed id answers NOT_FOUND, exactly like a missing one. */
export const jobIdSchema = z.string().min(1).max(200);

export const submitJobInput = z.strictObject({
  projectId: z.string().min(1).max(200),
  goal: z.string().trim().min(1).max(MAX_GOAL_LENGTH),
});

export const jobRefInput = z.strictObject({ jobId: jobIdSchema });

export const listJobsInput = z
  .strictObject({
    projectId: z.string().min(1).max(200).optional(),
    status: z.enum(JOB_STATUSES).optional(),
    limit: z.number().int().min(1).max(100).optional(),
    cursor: z.string().min(1).max(512).optional(),
  })
  .optional();

/**
 * jobs.events: `lastEventId` is the seq of the last event the client has (tRPC's SSE link sends it back
 * on reconnect, as the id given with `tracked`); without it the stream starts with the job's current state.
 */
export const jobEventsInput = z.strictObject({
  jobId: jobIdSchema,
  lastEventId: z
    .string()
    .regex(/^\d{1,9}$/, 'a seq: digits only')
    .nullish(),
});
