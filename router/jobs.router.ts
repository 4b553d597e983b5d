import { tracked } from '@trpc/server';
import { WardenError } from '../src/errors.js';
import type { JobService } from '../src/jobs/jobService.js';
import type { JobEvent } from '../src/redis/jobEvent.js';
import type { AuthedContext } from './context.js';
import { jobEventsInput, jobRefInput, listJobsInput, submitJobInput } from './jobs.schemas.js';
import { authedProcedure, router } from './trpc.js';

/** The job service, or SERVICE_UNAVAILABLE when this server runs without the job runtime. */
export function jobsOf(ctx: AuthedContext): JobService {
  const jobs = ctx.services.jobs;
  if (!jobs) throw new WardenError('SERVICE_UNAVAILABLE', 'the job runtime is not running', { service: 'jobs' });
  return jobs;
}

/** Each event with its seq as the SSE id, which the client sends back as `lastEventId` on reconnect. */
async function* trackedBySeq(stream: AsyncIterable<JobEvent>) {
  for await (const event of stream) yield tracked(String(event.seq), event);
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
    .subscription(async ({ ctx, input, signal }) => {
      const lastEventId = input.lastEventId == null ? null : Number(input.lastEventId);
      // Awaited by the resolver, not inside a generator: a missing or foreign job is then refused by the
      // procedure (NOT_FOUND via mapWardenErrors). Thrown from a generator it would reach the client as a
      // stream error, INTERNAL_SERVER_ERROR, which tRPC's SSE link retries forever.
      const stream = await jobsOf(ctx).events(ctx.user, input.jobId, { lastEventId, ...(signal ? { signal } : {}) });
      return trackedBySeq(stream);
    }),
});
