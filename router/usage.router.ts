import { jobsOf } from './jobs.router.js';
import { authedProcedure, router } from './trpc.js';

/** SPEC §4: today's counters of the caller (daily jobs from the quota store, iterations from the runtime). */
export const usageRouter = router({
  get: authedProcedure
    .meta({ description: "The caller's daily job and iteration counters (SPEC §4)" })
    .query(({ ctx }) => jobsOf(ctx).usage(ctx.user)),
});
