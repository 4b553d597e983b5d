import { z } from 'zod';
import { jobIdSchema, listJobsFilter } from '../src/jobs/jobInputs.js';

export { jobIdSchema, submitJobInput } from '../src/jobs/jobInputs.js';

export const jobRefInput = z.strictObject({ jobId: jobIdSchema });

export const listJobsInput = listJobsFilter.optional();

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
