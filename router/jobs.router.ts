import { tracked } from '@trpc/server';
import { WardenError } from '../src/errors.js';
import type { JobService } from '../src/jobs/jobService.js';
import type { AuthedContext } from './context.js';
import { jobEventsInput, jobRefInput, listJobsInput, submitJobInput } from './jobs.schemas.js';
import { authedProcedure, router } from './trpc.js';

/** The job service, or SERVICE_UNAVAILABLE when this server runs without the job runtime. */
export function jobsOf(ctx: AuthedContext): JobService {
  const jobs = ctx.services.jobs;
  if (!jobs) throw new WardenError('SERVICE_UNAVAILABLE', 'the job runtime is not running', { service: 'jobs' });
  return jobs;
}

/** SPEC §2–§3 over tRPC: thin calls into the JobService, which every process can serve. */
export const jobsRouter = router({
  submit: authedProcedure
    .meta({ description: 'Submit a job: queued (position, wait estimate), or scheduled when over the daily quota' })
    .input(submitJobInput)
    .mutation(({ ctx, input }) => jobsOf(ctx).submit(ctx.user, input)),

  get: authedProcedure
    .meta({ description: "One of the caller's jobs, with its last message and queue position" })
    .input(jobRefInput)
    .query(({ ctx, input }) => jobsOf(ctx).get(ctx.user, input.jobId)),

  list: authedProcedure
    .meta({ description: "The caller's jobs, newest first, by project and status, keyset-paginated" })
    .input(listJobsInput)
    .query(({ ctx, input }) => jobsOf(ctx).list(ctx.user, input ?? {})),

  confirm: authedProcedure
    .meta({ description: 'Resume a job paused for confirmation (one more batch of iterations)' })
    .input(jobRefInput)
    .mutation(({ ctx, input }) => jobsOf(ctx).confirm(ctx.user, input.jobId)),

  cancel: authedProcedure
    .meta({ description: 'Cancel a job wherever it runs; it ends failed, "Cancelled by owner"' })
    .input(jobRefInput)
    .mutation(({ ctx, input }) => jobsOf(ctx).cancel(ctx.user, input.jobId)),

  events: authedProcedure
    .meta({ description: "A job's transitions: its current state (or all after lastEventId), then live, until terminal" })
    .input(jobEventsInput)
    .subscription(async function* ({ ctx, input, signal }) {
      const lastEventId = input.lastEventId == null ? null : Number(input.lastEventId);
      const stream = await jobsOf(ctx).events(ctx.user, input.jobId, { lastEventId, ...(signal ? { signal } : {}) });
      for await (const event of stream) yield tracked(String(event.seq), event);
    }),
});
