import { z } from 'zod';
import { choiceSchema, type Decision } from '../src/db/decisionsRepository.js';
import type { ProjectRow } from '../src/db/projectsRepository.js';

/** Longest project name; the table's check says the same. */
export const MAX_PROJECT_NAME = 200;

/** Ids are bounded but not shape-checked: a malformed id answers NOT_FOUND, exactly like a missing one. */
export const projectIdSchema = z.string().min(1).max(200);

export const createProjectInput = z.strictObject({
  // Control characters (NUL above all, which PostgreSQL text refuses) are an input error, not a 500.
  name: z
    .string()
    .trim()
    .min(1)
    .max(MAX_PROJECT_NAME)
    .regex(/^\P{Cc}*$/u, 'must not contain control characters'),
});

export const projectRefInput = z.strictObject({ projectId: projectIdSchema });

/** The owner's answer to a pending decision: one of the choices it offers. */
export const decideInput = z.strictObject({
  projectId: projectIdSchema,
  // Like project ids: bounded, not shape-checked; a malformed id is NOT_FOUND.
  decisionId: z.string().min(1).max(200),
  choice: choiceSchema,
});

export const listProjectsInput = z
  .strictObject({
    limit: z.number().int().min(1).max(100).optional(),
    cursor: z.string().min(1).max(512).optional(),
  })
  .optional();

/** A project as the API shows it; times are ISO strings. */
export interface ProjectView {
  projectId: string;
  name: string;
  createdAt: string;
  lastActivityAt: string;
  lastDecisionAt: string | null;
}

/** projects.get: the project and its pending decisions, oldest first. */
export interface ProjectDetailView extends ProjectView {
  pendingDecisions: Decision[];
}

export function toProjectView(row: ProjectRow): ProjectView {
  return {
    projectId: row.id,
    name: row.name,
    createdAt: row.createdAt,
    lastActivityAt: row.lastActivityAt,
    lastDecisionAt: row.lastDecisionAt,
  };
}
