import { tokenBudget } from '../src/domain/tiers.js';
import { jobsOf } from './jobs.router.js';
import { authedProcedure, router } from './trpc.js';

/** SPEC §4: today's counters of the caller (daily jobs from the quota store, iterations from the runtime). */
export const usageRouter = router({
  get: authedProcedure
    .meta({ description: "The caller's daily job, iteration and token counters (SPEC §4)" })
    .query(async ({ ctx }) => {
      // Tokens (chat turns and step handlers) from the same UTC-day counter the budget checks read.
      const [counters, tokensUsed] = await Promise.all([jobsOf(ctx).usage(ctx.user), ctx.services.stores.tokens.used(ctx.user.id)]);
      return { ...counters, tokensUsed, tokenBudget: tokenBudget(ctx.user.limits, ctx.user.tokenBudgetOverride) };
    }),
});
