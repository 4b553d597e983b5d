import type { Decision } from '../src/db/decisionsRepository.js';
import type { ProjectRow } from '../src/db/projectsRepository.js';
import { notFound, WardenError } from '../src/errors.js';
import {
  createProjectInput,
  decideInput,
  listProjectsInput,
  projectRefInput,
  toProjectView,
  type ProjectDetailView,
  type ProjectView,
} from './projects.schemas.js';
import { authedProcedure, router } from './trpc.js';

/** A row the caller owns, or NOT_FOUND — the same answer for another user's project as for none. */
function owned(row: ProjectRow | null, projectId: string): ProjectRow {
  if (!row) throw notFound('project', projectId);
  return row;
}

export const projectsRouter = router({
  create: authedProcedure
    .meta({ description: 'Create a project owned by the caller' })
    .input(createProjectInput)
    .mutation(async ({ ctx, input }): Promise<{ projectId: string }> => {
      const { projects, clock } = ctx.services;
      const row = await projects.createProject({ ownerId: ctx.user.id, name: input.name, now: clock.now() });
      return { projectId: row.id };
    }),

  get: authedProcedure
    .meta({ description: 'A project of the caller, with its pending decisions (oldest first)' })
    .input(projectRefInput)
    .query(async ({ ctx, input }): Promise<ProjectDetailView> => {
      const row = owned(await ctx.services.projects.getProject(ctx.user.id, input.projectId), input.projectId);
      const decisions = ctx.services.risks?.decisions;
      const pendingDecisions = decisions ? (await decisions.listDecisions(row.id, 0)).pending : [];
      return { ...toProjectView(row), pendingDecisions };
    }),

  list: authedProcedure
    .meta({ description: "The caller's projects, newest first, keyset-paginated" })
    .input(listProjectsInput)
    .query(async ({ ctx, input }): Promise<{ items: ProjectView[]; nextCursor: string | null }> => {
      const page = await ctx.services.projects.listProjects(ctx.user.id, {
        ...(input?.limit !== undefined ? { limit: input.limit } : {}),
        cursor: input?.cursor ?? null,
      });
      return { items: page.items.map(toProjectView), nextCursor: page.nextCursor };
    }),

  recordActivity: authedProcedure
    .meta({ description: 'Mark activity on a project now (feeds the stale_project risk)' })
    .input(projectRefInput)
    .mutation(async ({ ctx, input }): Promise<ProjectView> => {
      const { projects, clock } = ctx.services;
      const row = await projects.recordActivity(ctx.user.id, input.projectId, clock.now());
      return toProjectView(owned(row, input.projectId));
    }),

  recordDecision: authedProcedure
    .meta({ description: 'Record a gate decision on a project now (feeds the stale_decision risk)' })
    .input(projectRefInput)
    .mutation(async ({ ctx, input }): Promise<ProjectView> => {
      const { projects, clock } = ctx.services;
      const row = await projects.recordDecision(ctx.user.id, input.projectId, clock.now());
      return toProjectView(owned(row, input.projectId));
    }),

  decide: authedProcedure
    .meta({ description: "Answer a project's pending decision with one of its choices; closes the planner's causality chain" })
    .input(decideInput)
    .mutation(async ({ ctx, input }): Promise<Decision> => {
      const { risks, clock } = ctx.services;
      if (!risks) throw new WardenError('SERVICE_UNAVAILABLE', 'the risk module is not running', { service: 'risks' });
      const decided = await risks.decisions.decide({ ownerId: ctx.user.id, ...input, at: clock.now() });
      if (!decided) throw notFound('pending decision', input.decisionId);
      return decided;
    }),
});
