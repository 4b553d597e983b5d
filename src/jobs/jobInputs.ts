import { z } from 'zod';
import { JOB_STATUSES } from '../../actors/jobTransitions.js';
import { MAX_GOAL_LENGTH } from '../db/jobsRepository.js';

/**
 * The job API's inputs, written once: the router takes them as its procedures' parsers and the job
 * service parses with them again at its own boundary (it is callable from code that is not the router).
 */

/** Ids are bounded but not shape-checked: a malformed id answers NOT_FOUND, exactly like a missing one. */
export const jobIdSchema = z.string().min(1).max(200);

export const submitJobInput = z.strictObject({
  projectId: z.string().min(1).max(200),
  goal: z.string().trim().min(1).max(MAX_GOAL_LENGTH),
  /** Over the daily quota: `schedule` the job for after the next UTC midnight (default), or `refuse` it (DAILY_LIMIT). */
  ifOverQuota: z.enum(['schedule', 'refuse']).default('schedule'),
});

export const listJobsFilter = z.strictObject({
  projectId: z.string().min(1).max(200).optional(),
  status: z.enum(JOB_STATUSES).optional(),
  limit: z.number().int().min(1).max(100).optional(),
  cursor: z.string().min(1).max(512).nullish(),
});
