import type { RiskPatch } from '../src/db/registersRepository.js';
import type { RegisterRisk } from '../src/domain/riskRegister.js';
import { WardenError } from '../src/errors.js';
import type { RegisterService } from '../src/registers/registerService.js';
import type { AuthedContext } from './context.js';
import {
  addRiskInput,
  createRegisterInput,
  importRegisterInput,
  listRegistersInput,
  registerRefInput,
  removeRiskInput,
  updateRiskInput,
  type RiskInput,
} from './registers.schemas.js';
import { authedProcedure, router } from './trpc.js';

/** The register service, or SERVICE_UNAVAILABLE when this server runs without it. */
function registersOf(ctx: AuthedContext): RegisterService {
  const registers = ctx.services.registers;
  if (!registers) throw new WardenError('SERVICE_UNAVAILABLE', 'risk registers are not running', { service: 'registers' });
  return registers;
}

/** A risk as given through the API: what is left out is empty; nothing is "stated". */
function toRisk(input: RiskInput): RegisterRisk {
  return {
    id: input.id,
    category: input.category,
    component: input.component ?? null,
    description: input.description,
    probability: input.probability,
    impact: input.impact,
    mitigation: input.mitigation ?? null,
    mitigationPlan: input.mitigationPlan ?? null,
    owner: input.owner ?? null,
    timeline: input.timeline ?? null,
    residualRisk: input.residualRisk ?? null,
    statedScore: null,
    statedPriority: null,
  };
}

/** The fields a patch gives (undefined means "leave as is", so it is dropped). */
function toPatch(patch: Record<string, unknown>): RiskPatch {
  return Object.fromEntries(Object.entries(patch).filter(([, v]) => v !== undefined));
}

/**
 * Risk registers (SPEC §7). Every register is its owner's: another user's answers NOT_FOUND,
 * exactly like a missing one. Every write answers the register with its freshly computed profile.
 */
export const registersRouter = router({
  create: authedProcedure
    .meta({ description: 'Create a risk register (optionally with risks); answers it with its profile' })
    .input(createRegisterInput)
    .mutation(({ ctx, input }) =>
      registersOf(ctx).create(ctx.user.id, {
        title: input.title,
        subject: input.subject,
        reviewer: input.reviewer ?? null,
        reviewedOn: input.reviewedOn ?? null,
        assessment: input.assessment ?? null,
        risks: (input.risks ?? []).map(toRisk),
      }),
    ),

  get: authedProcedure
    .meta({ description: 'A register: header, risks in order, computed profile' })
    .input(registerRefInput)
    .query(({ ctx, input }) => registersOf(ctx).get(ctx.user.id, input.registerId)),

  list: authedProcedure
    .meta({ description: "The caller's registers, newest first, keyset-paginated, each with its levels, score and gate" })
    .input(listRegistersInput)
    .query(({ ctx, input }) =>
      registersOf(ctx).list(ctx.user.id, {
        ...(input?.limit === undefined ? {} : { limit: input.limit }),
        cursor: input?.cursor ?? null,
      }),
    ),

  delete: authedProcedure
    .meta({ description: 'Delete a register and its risks' })
    .input(registerRefInput)
    .mutation(({ ctx, input }) => registersOf(ctx).delete(ctx.user.id, input.registerId)),

  addRisk: authedProcedure
    .meta({ description: 'Add a risk (id unique within the register, at most 1,000 risks)' })
    .input(addRiskInput)
    .mutation(({ ctx, input }) => registersOf(ctx).addRisk(ctx.user.id, input.registerId, toRisk(input.risk))),

  updateRisk: authedProcedure
    .meta({ description: 'Change fields of a risk' })
    .input(updateRiskInput)
    .mutation(({ ctx, input }) => registersOf(ctx).updateRisk(ctx.user.id, input.registerId, input.riskId, toPatch(input.patch))),

  removeRisk: authedProcedure
    .meta({ description: 'Remove a risk from a register' })
    .input(removeRiskInput)
    .mutation(({ ctx, input }) => registersOf(ctx).removeRisk(ctx.user.id, input.registerId, input.riskId)),

  profile: authedProcedure
    .meta({ description: "A register's computed profile: scores, counts, overall score, gate, must-fix, disagreements" })
    .input(registerRefInput)
    .query(({ ctx, input }) => registersOf(ctx).profile(ctx.user.id, input.registerId)),

  import: authedProcedure
    .meta({ description: 'Import a Markdown risk profile (dryRun: profile only); refused imports store nothing' })
    .input(importRegisterInput)
    .mutation(({ ctx, input }) =>
      registersOf(ctx).import(ctx.user.id, { markdown: input.markdown, ...(input.dryRun === undefined ? {} : { dryRun: input.dryRun }) }),
    ),

  export: authedProcedure
    .meta({ description: 'A register as Markdown with the computed summary (imports back with no disagreements)' })
    .input(registerRefInput)
    .query(({ ctx, input }) => registersOf(ctx).export(ctx.user.id, input.registerId)),

  portfolio: authedProcedure
    .meta({ description: "Across all the caller's registers: levels, categories, worst gate, top 20 risks, average score" })
    .query(({ ctx }) => registersOf(ctx).portfolio(ctx.user.id)),
});
