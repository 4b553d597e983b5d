import { randomUUID } from 'node:crypto';
import { z } from 'zod';
import { notFound } from '../errors.js';
import type { Sql } from './client.js';
import { instantSchema, isoFromDb, type Instant } from './instant.js';
import { pageLimitSchema, parseCursorOrThrow, toPage, type Page } from './pageCursor.js';
import { isForeignKeyViolation } from './pgErrors.js';

export const MAX_PROJECT_NAME_LENGTH = 200;

/** A project as stored; times are ISO strings. */
export interface ProjectRow {
  id: string;
  ownerId: string;
  name: string;
  createdAt: string;
  lastActivityAt: string;
  /** The last gate decision, null before the first. */
  lastDecisionAt: string | null;
}

const projectRowSchema = z
  .object({
    id: z.string(),
    owner_id: z.string(),
    name: z.string(),
    created_at: isoFromDb,
    last_activity_at: isoFromDb,
    last_decision_at: isoFromDb.nullable(),
  })
  .transform(
    (r): ProjectRow => ({
      id: r.id,
      ownerId: r.owner_id,
      name: r.name,
      createdAt: r.created_at,
      lastActivityAt: r.last_activity_at,
      lastDecisionAt: r.last_decision_at,
    }),
  );

export interface CreateProjectInput {
  ownerId: string;
  name: string;
  now: Instant;
  /** Defaults to a random UUID. */
  id?: string;
}

const createInputSchema = z.object({
  ownerId: z.string().min(1),
  name: z.string().min(1).max(MAX_PROJECT_NAME_LENGTH),
  now: instantSchema,
  id: z.uuid().optional(),
});

const listOptionsSchema = z.object({ limit: pageLimitSchema, cursor: z.string().nullish() });
const uuid = z.uuid();

export interface ProjectsRepository {
  /** Throws NOT_FOUND (entity "user") when the owner has no user row. */
  createProject(input: CreateProjectInput): Promise<ProjectRow>;
  /** Null when missing, when the id is not a UUID, or when another user owns it: the caller cannot tell. */
  getProject(ownerId: string, projectId: string): Promise<ProjectRow | null>;
  /** Newest first, keyset-paginated. Throws INVALID_CURSOR for a cursor it did not make. */
  listProjects(ownerId: string, options?: { limit?: number; cursor?: string | null }): Promise<Page<ProjectRow>>;
  /** Moves last activity forward (never back); null when not the owner's project. */
  recordActivity(ownerId: string, projectId: string, at: Instant): Promise<ProjectRow | null>;
  /** Records a gate decision time (never moved back); null when not the owner's project. */
  recordDecision(ownerId: string, projectId: string, at: Instant): Promise<ProjectRow | null>;
}

export function createProjectsRepository(sql: Sql): ProjectsRepository {
  return {
    async createProject(input) {
      const p = createInputSchema.parse(input);
      try {
        const rows = await sql`
          insert into projects (id, owner_id, name, created_at, last_activity_at)
          values (${p.id ?? randomUUID()}, ${p.ownerId}, ${p.name}, ${p.now}, ${p.now})
          returning *`;
        return projectRowSchema.parse(rows[0]);
      } catch (err) {
        if (isForeignKeyViolation(err)) throw notFound('user', p.ownerId);
        throw err;
      }
    },

    async getProject(ownerId, projectId) {
      if (!uuid.safeParse(projectId).success) return null;
      const rows = await sql`select * from projects where id = ${projectId} and owner_id = ${ownerId}`;
      return rows[0] ? projectRowSchema.parse(rows[0]) : null;
    },

    async listProjects(ownerId, options = {}) {
      const { limit, cursor: raw } = listOptionsSchema.parse(options);
      const cursor = parseCursorOrThrow(raw);
      const rows = await sql`
        select * from projects
        where owner_id = ${ownerId}
          ${cursor ? sql`and (created_at, id) < (${cursor.createdAt}::timestamptz, ${cursor.id}::uuid)` : sql``}
        order by created_at desc, id desc
        limit ${limit + 1}`;
      return toPage(rows.map((r) => projectRowSchema.parse(r)), limit);
    },

    async recordActivity(ownerId, projectId, at) {
      if (!uuid.safeParse(projectId).success) return null;
      const when = instantSchema.parse(at);
      const rows = await sql`
        update projects set last_activity_at = greatest(last_activity_at, ${when})
        where id = ${projectId} and owner_id = ${ownerId}
        returning *`;
      return rows[0] ? projectRowSchema.parse(rows[0]) : null;
    },

    async recordDecision(ownerId, projectId, at) {
      if (!uuid.safeParse(projectId).success) return null;
      const when = instantSchema.parse(at);
      // greatest() ignores nulls, so the first decision sets the column.
      const rows = await sql`
        update projects set last_decision_at = greatest(last_decision_at, ${when})
        where id = ${projectId} and owner_id = ${ownerId}
        returning *`;
      return rows[0] ? projectRowSchema.parse(rows[0]) : null;
    },
  };
}
