import type { AppServices, AuthUser, IterationUsage } from './context.js';
import { authedProcedure, router } from './trpc.js';

/** SPEC §4: today's counters of the caller. `dailyLimitResetsAt` is the next UTC midnight (ISO). */
export interface UsageCounters {
  jobsUsed: number;
  jobsRemaining: number;
  iterationsUsed: number;
  iterationsRemaining: number;
  dailyLimitResetsAt: string;
}

/**
 * Reads the counters: daily jobs from the QuotaStore (hot, one GET); iterations from the job runtime
 * when it is plugged in, else the tier's depth (nothing used yet, a batch of `depth` left).
 */
export async function readUsageCounters(services: AppServices, user: AuthUser): Promise<UsageCounters> {
  const [jobs, iterations] = await Promise.all([
    services.stores.quotas.usage(user.id, user.limits.dailyJobs),
    services.iterations
      ? services.iterations(user)
      : Promise.resolve<IterationUsage>({ used: 0, remaining: user.limits.iterationDepth }),
  ]);
  return {
    jobsUsed: jobs.used,
    jobsRemaining: jobs.remaining,
    iterationsUsed: iterations.used,
    iterationsRemaining: iterations.remaining,
    dailyLimitResetsAt: new Date(jobs.resetsAt).toISOString(),
  };
}

export const usageRouter = router({
  get: authedProcedure
    .meta({ description: "The caller's daily job and iteration counters (SPEC §4)" })
    .query(({ ctx }) => readUsageCounters(ctx.services, ctx.user)),
});
