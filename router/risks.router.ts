import { tracked } from '@trpc/server';
import { z } from 'zod';
import { RISK_RULES, type RiskRule } from '../src/domain/riskRules.js';
import { WardenError } from '../src/errors.js';
import { riskEventToJson, type RiskScope } from '../src/risk/riskEvent.js';
import { streamRiskEvents } from '../src/risk/riskEventStream.js';
import type { RiskRuntime } from '../src/risk/riskRuntime.js';
import type { AuthedContext } from './context.js';
import { projectIdSchema } from './projects.schemas.js';
import { adminProcedure, authedProcedure, router } from './trpc.js';

/** The risk runtime, or SERVICE_UNAVAILABLE when this server runs without it. */
function risksOf(ctx: AuthedContext): RiskRuntime {
  const risks = ctx.services.risks;
  if (!risks) throw new WardenError('SERVICE_UNAVAILABLE', 'the risk module is not running', { service: 'risks' });
  return risks;
}

const projectRef = z.strictObject({ projectId: projectIdSchema });
const dismissInput = z.strictObject({
  projectId: projectIdSchema,
  rule: z.enum(RISK_RULES as [RiskRule, ...RiskRule[]]),
});
// Risk events keep no history: a reconnecting client's lastEventId is accepted and live events follow.
const eventsInput = z.strictObject({ lastEventId: z.string().max(64).nullish() }).optional();

/** SPEC §5–§6 over tRPC. Project procedures are owner only: another user's project is NOT_FOUND. */
export const risksRouter = router({
  dashboard: authedProcedure
    .meta({ description: 'Risk flags, failure count, decisions, latest build and suggested focus of a project' })
    .input(projectRef)
    .query(({ ctx, input }) => risksOf(ctx).service.dashboard(ctx.user.id, input.projectId)),

  journey: authedProcedure
    .meta({ description: "A project's risks minus the rules its owner dismissed" })
    .input(projectRef)
    .query(({ ctx, input }) => risksOf(ctx).service.journey(ctx.user.id, input.projectId)),

  dismiss: authedProcedure
    .meta({ description: "Dismiss a rule from a project's journey (recorded with who and when)" })
    .input(dismissInput)
    .mutation(({ ctx, input }) => risksOf(ctx).service.dismiss(ctx.user.id, input.projectId, input.rule)),

  dismissals: authedProcedure
    .meta({ description: "The rules dismissed on a project, with who and when" })
    .input(projectRef)
    .query(({ ctx, input }) => risksOf(ctx).service.dismissals(ctx.user.id, input.projectId)),

  scan: adminProcedure
    .meta({ description: 'Run the risk monitor now; the scan summary (counts, emitted facts, durations)' })
    .mutation(({ ctx }) => risksOf(ctx).monitor.scan()),

  events: authedProcedure
    .meta({ description: 'Live RISK_DETECTED facts the caller may see: all for an admin, else their own and their projects' })
    .input(eventsInput)
    .subscription(async function* ({ ctx, signal }) {
      const risks = risksOf(ctx);
      const user = ctx.user;
      const { projects } = ctx.services;
      const canSee = async (scope: RiskScope) => {
        if (user.role === 'admin') return true;
        if (scope.kind === 'user') return scope.id === user.id;
        if (scope.kind === 'project') return (await projects.getProject(user.id, scope.id)) !== null;
        return false;
      };
      const stream = streamRiskEvents({ bus: risks.bus, canSee, logger: ctx.services.log, ...(signal ? { signal } : {}) });
      for await (const event of stream) yield tracked(event.fact.riskId, riskEventToJson(event));
    }),
});
