import { z } from 'zod';
import { JOB_STATUSES } from '../actors/jobTransitions.js';
import { WardenError } from '../src/errors.js';
import type { InspectorService } from '../src/inspector/inspectorService.js';
import type { AuthedContext } from './context.js';
import { adminProcedure, router } from './trpc.js';

const jobId = z.string().min(1).max(200);

const actorsInput = z
  .strictObject({
    status: z.enum(JOB_STATUSES).optional(),
    host: z.string().min(1).max(300).optional(),
    search: z.string().max(200).optional(),
    limit: z.number().int().min(1).max(10_000).optional(),
  })
  .optional();

const eventsInput = z.strictObject({ jobId: jobId.optional() }).optional();

/** The inspector's read side, or SERVICE_UNAVAILABLE when this server runs without it. */
function inspectorOf(ctx: AuthedContext): InspectorService {
  const inspector = ctx.services.inspector;
  if (!inspector) throw new WardenError('SERVICE_UNAVAILABLE', 'the actor inspector is not running', { service: 'inspector' });
  return inspector;
}

/** SPEC §11: the actor inspector, admin only. The page at /inspector/ and `npm run inspect` use these. */
export const inspectorRouter = router({
  actors: adminProcedure
    .meta({ description: 'Live job actors of every process: job, owner, project, status, iteration, awaiting confirmation, age, host' })
    .input(actorsInput)
    .query(({ ctx, input }) => {
      const filter = input ?? {};
      return inspectorOf(ctx).actors({
        ...(filter.status === undefined ? {} : { status: filter.status }),
        ...(filter.host === undefined ? {} : { host: filter.host }),
        ...(filter.search === undefined ? {} : { search: filter.search }),
        ...(filter.limit === undefined ? {} : { limit: filter.limit }),
      });
    }),

  history: adminProcedure
    .meta({ description: "One job's inspection ring buffer, its live actor, and the durable transition log" })
    .input(z.strictObject({ jobId }))
    .query(({ ctx, input }) => inspectorOf(ctx).history(input.jobId)),

  statechart: adminProcedure
    .meta({ description: 'The job machine as a graph, laid out for drawing' })
    .query(({ ctx }) => inspectorOf(ctx).statechart()),

  events: adminProcedure
    .meta({ description: 'Live: without jobId the actor list then its changes; with jobId its history then its records' })
    .input(eventsInput)
    .subscription(async function* ({ ctx, input, signal }) {
      yield* inspectorOf(ctx).events({ jobId: input?.jobId }, signal);
    }),
});
