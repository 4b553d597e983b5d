import { randomUUID } from 'node:crypto';
import { z } from 'zod';
import { PROJECT_RULE_BITS } from '../domain/riskRules.js';
import type { Sql } from './client.js';
import { instantSchema, isoFromDb, type Instant } from './instant.js';

/**
 * Gate decisions of a project (SPEC §5's "pending and last decisions"): opened pending with a gate type,
 * later decided. Deciding one moves `projects.last_decision_at` forward, which feeds the stale_decision
 * rule, and clears that rule's "emitted" mark so that a later staleness is a new crossing.
 * Every function is scoped by owner: another user's project behaves as a missing one (null / empty).
 */

export interface Decision {
  id: string;
  projectId: string;
  /** `architecture_review`: lowercase words joined by underscores. */
  gateType: string;
  status: 'pending' | 'decided';
  createdAt: string;
  decidedAt: string | null;
  decidedBy: string | null;
}

export interface ProjectDecisions {
  /** Oldest first: the first is what the dashboard suggests to review. */
  pending: Decision[];
  /** The latest decided, newest first. */
  recent: Decision[];
}

export const gateTypeSchema = z.string().regex(/^[a-z][a-z0-9_]{0,62}$/, 'gate type must be lowercase words joined by _');

const decisionRowSchema = z
  .object({
    id: z.string(),
    project_id: z.string(),
    gate_type: z.string(),
    status: z.enum(['pending', 'decided']),
    created_at: isoFromDb,
    decided_at: isoFromDb.nullable(),
    decided_by: z.string().nullable(),
  })
  .transform(
    (r): Decision => ({
      id: r.id,
      projectId: r.project_id,
      gateType: r.gate_type,
      status: r.status,
      createdAt: r.created_at,
      decidedAt: r.decided_at,
      decidedBy: r.decided_by,
    }),
  );

const uuid = z.uuid();

export interface DecisionsRepository {
  /** Opens a pending decision; null when the project is not the owner's. */
  openDecision(input: { ownerId: string; projectId: string; gateType: string; at: Instant; id?: string }): Promise<Decision | null>;
  /**
   * Decides a pending decision and moves the project's last decision time forward, in one transaction;
   * null when there is no such pending decision on a project of this owner (also when already decided).
   */
  decide(input: { ownerId: string; projectId: string; decisionId: string; at: Instant }): Promise<Decision | null>;
  /** Pending (oldest first) and the `recent` latest decided; the caller has checked ownership. */
  listDecisions(projectId: string, recent?: number): Promise<ProjectDecisions>;
}

export function createDecisionsRepository(sql: Sql): DecisionsRepository {
  return {
    async openDecision(input) {
      if (!uuid.safeParse(input.projectId).success) return null;
      const gateType = gateTypeSchema.parse(input.gateType);
      const at = instantSchema.parse(input.at);
      const rows = await sql`
        insert into project_decisions (id, project_id, gate_type, status, created_at)
        select ${input.id ?? randomUUID()}, p.id, ${gateType}, 'pending', ${at}
        from projects p where p.id = ${input.projectId} and p.owner_id = ${input.ownerId}
        returning *`;
      return rows[0] ? decisionRowSchema.parse(rows[0]) : null;
    },

    async decide(input) {
      if (!uuid.safeParse(input.projectId).success || !uuid.safeParse(input.decisionId).success) return null;
      const at = instantSchema.parse(input.at);
      return sql.begin(async (tx) => {
        const rows = await tx`
          update project_decisions d set status = 'decided', decided_at = ${at}, decided_by = ${input.ownerId}
          from projects p
          where d.id = ${input.decisionId} and d.project_id = ${input.projectId} and d.status = 'pending'
            and p.id = d.project_id and p.owner_id = ${input.ownerId}
          returning d.*`;
        if (!rows[0]) return null;
        await tx`
          update projects set
            last_decision_at = greatest(last_decision_at, ${at}),
            risk_flags_emitted = risk_flags_emitted & ~${PROJECT_RULE_BITS.stale_decision}::smallint
          where id = ${input.projectId}`;
        return decisionRowSchema.parse(rows[0]);
      });
    },

    async listDecisions(projectId, recent = 5) {
      const [pending, decided] = await Promise.all([
        sql`select * from project_decisions where project_id = ${projectId} and status = 'pending'
            order by created_at, id`,
        sql`select * from project_decisions where project_id = ${projectId} and status = 'decided'
            order by decided_at desc, id desc limit ${recent}`,
      ]);
      return {
        pending: pending.map((r) => decisionRowSchema.parse(r)),
        recent: decided.map((r) => decisionRowSchema.parse(r)),
      };
    },
  };
}
