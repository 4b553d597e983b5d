import { tracked } from '@trpc/server';
import { z } from 'zod';
import { RISK_RULES, type RiskRule } from '../src/domain/riskRules.js';
import { WardenError } from '../src/errors.js';
import type { RiskScope } from '../src/risk/riskEvent.js';
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
// lastEventId is the riskId of the last event received (the SSE id); the stream resumes after it.
const eventsInput = z.strictObject({ lastEventId: z.string().max(64).nullish() }).optional();
/** A seq of the caller's log, as the opaque cursor of the next page. */
const historyCursor = z.string().regex(/^[1-9]\d{0,14}$/, 'invalid cursor');
const historyInput = z
  .strictObject({
    limit: z.number().int().min(1).max(100).optional(),
    cursor: historyCursor.optional(),
    order: z.enum(['newest', 'oldest']).optional(),
  })
  .optional();

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

  history: authedProcedure
    .meta({ description: "The caller's stored risk facts (their own and their projects'), newest first unless order: 'oldest'; keyset-paginated" })
    .input(historyInput)
    .query(async ({ ctx, input }) => {
      const limit = input?.limit ?? 20;
      const order = input?.order ?? 'newest';
      const from = input?.cursor === undefined ? null : Number(input.cursor);
      const rows = await risksOf(ctx).facts.page(ctx.user.id, { order, from, limit: limit + 1 });
      const items = rows.slice(0, limit);
      const last = items.at(-1);
      return {
        items: items.map((r) => ({ seq: r.seq, ...r.event })),
        nextCursor: rows.length > limit && last ? String(last.seq) : null,
      };
    }),

  events: authedProcedure
    .meta({
      description:
        "RISK_DETECTED facts of the caller's own and their projects', resumable from lastEventId; an admin also sees every other fact live",
    })
    .input(eventsInput)
    .subscription(async function* ({ ctx, input, signal }) {
      const risks = risksOf(ctx);
      const user = ctx.user;
      const { projects } = ctx.services;
      const owns = async (scope: RiskScope) => {
        if (scope.kind === 'user') return scope.id === user.id;
        if (scope.kind === 'project') return (await projects.getProject(user.id, scope.id)) !== null;
        return false;
      };
      const stream = streamRiskEvents({
        bus: risks.bus,
        facts: risks.facts,
        userId: user.id,
        owns,
        seesOthers: user.role === 'admin',
        lastEventId: input?.lastEventId ?? null,
        logger: ctx.services.log,
        ...(signal ? { signal } : {}),
      });
      for await (const event of stream) yield tracked(event.fact.riskId, event);
    }),
});
