import { randomUUID } from 'node:crypto';
import { z } from 'zod';
import { appendLater, causalityChainSchema, parseCausalityChain, type CausalityChain } from '../domain/causalityChain.js';
import { PROJECT_RULE_BITS } from '../domain/riskRules.js';
import { WardenError } from '../errors.js';
import type { Sql, TransactionSql } from './client.js';
import { instantSchema, isoFromDb, type Instant } from './instant.js';

/**
 * Gate decisions of a project (SPEC §5's "pending and last decisions"): opened pending with a gate type,
 * later decided. Deciding one moves `projects.last_decision_at` forward, which feeds the stale_decision
 * rule, and clears that rule's "emitted" mark so that a later staleness is a new crossing.
 * `projects.oldest_pending_decision_at` follows every open and decide, so a decision left waiting feeds
 * the same rule. A planner's decision (SPEC §6) also carries a question, its choices and the causality
 * chain it acted on; deciding it records the choice and appends the decision id to the chain.
 * Every owner-facing function is scoped by owner: another user's project behaves as a missing one.
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
  /** What the owner is asked; null for a plain gate decision. */
  question: string | null;
  /** The choices offered (any choice when empty). */
  choices: string[];
  /** What the planner acted on; null for a decision no planner opened. */
  chain: CausalityChain | null;
  /** The owner's choice, once decided. */
  choice: string | null;
}

export interface ProjectDecisions {
  /** Oldest first: the first is what the dashboard suggests to review. */
  pending: Decision[];
  /** The latest decided, newest first. */
  recent: Decision[];
}

export const gateTypeSchema = z.string().regex(/^[a-z][a-z0-9_]{0,62}$/, 'gate type must be lowercase words joined by _');
/** A choice offered or made: lowercase words joined by underscores (`retry_narrower`). */
export const choiceSchema = z.string().regex(/^[a-z][a-z0-9_]{0,62}$/, 'choice must be lowercase words joined by _');

/** What a planner opens: a question with its choices on a project, and the chain it acted on. */
export interface PlannedDecisionInput {
  projectId: string;
  gateType: string;
  question: string;
  choices: string[];
  chain: CausalityChain;
  at: Instant;
}

const plannedInputSchema = z.object({
  projectId: z.uuid(),
  gateType: gateTypeSchema,
  question: z.string().min(1).max(500),
  choices: z.array(choiceSchema).min(1).max(10),
  chain: causalityChainSchema,
  at: instantSchema,
});

const decisionRowSchema = z
  .object({
    id: z.string(),
    project_id: z.string(),
    gate_type: z.string(),
    status: z.enum(['pending', 'decided']),
    created_at: isoFromDb,
    decided_at: isoFromDb.nullable(),
    decided_by: z.string().nullable(),
    question: z.string().nullable(),
    choices: z.array(z.string()).nullable(),
    chain: z.unknown().nullable(),
    choice: z.string().nullable(),
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
      question: r.question,
      choices: r.choices ?? [],
      chain: r.chain === null ? null : parseCausalityChain(r.chain),
      choice: r.choice,
    }),
  );

const uuid = z.uuid();

export interface DecisionsRepository {
  /** Opens a pending decision; null when the project is not the owner's. */
  openDecision(input: { ownerId: string; projectId: string; gateType: string; at: Instant; id?: string }): Promise<Decision | null>;
  /**
   * Opens a planner's decision, unless one with the same chain origin exists (planners run in every
   * process; the first wins). Not owner-scoped: planners act for the system. Null when it already
   * existed or the project does not.
   */
  openPlannedDecision(input: PlannedDecisionInput): Promise<Decision | null>;
  /**
   * Decides a pending decision and moves the project's last decision time forward, in one transaction;
   * null when there is no such pending decision on a project of this owner (also when already decided).
   * A decision that offers choices needs one of them (CONFLICT otherwise); its chain gets the decision id.
   */
  decide(input: { ownerId: string; projectId: string; decisionId: string; at: Instant; choice?: string }): Promise<Decision | null>;
  /** Pending (oldest first) and the `recent` latest decided; the caller has checked ownership. */
  listDecisions(projectId: string, recent?: number): Promise<ProjectDecisions>;
}

export function createDecisionsRepository(sql: Sql): DecisionsRepository {
  return {
    async openDecision(input) {
      if (!uuid.safeParse(input.projectId).success) return null;
      const gateType = gateTypeSchema.parse(input.gateType);
      const at = instantSchema.parse(input.at);
      return sql.begin(async (tx) => {
        const rows = await tx`
          insert into project_decisions (id, project_id, gate_type, status, created_at)
          select ${input.id ?? randomUUID()}, p.id, ${gateType}, 'pending', ${at}
          from projects p where p.id = ${input.projectId} and p.owner_id = ${input.ownerId}
          returning *`;
        if (!rows[0]) return null;
        await notePending(tx, input.projectId, at);
        return decisionRowSchema.parse(rows[0]);
      });
    },

    async openPlannedDecision(input) {
      const p = plannedInputSchema.parse(input);
      return sql.begin(async (tx) => {
        const rows = await tx`
          insert into project_decisions (id, project_id, gate_type, status, created_at, question, choices, chain, origin_id)
          select ${randomUUID()}, p.id, ${p.gateType}, 'pending', ${p.at}, ${p.question}, ${p.choices}::text[],
                 ${JSON.stringify(p.chain)}::text::jsonb, ${p.chain.origin.id}
          from projects p where p.id = ${p.projectId}
          on conflict (origin_id) where origin_id is not null do nothing
          returning *`;
        if (!rows[0]) return null;
        await notePending(tx, p.projectId, p.at);
        return decisionRowSchema.parse(rows[0]);
      });
    },

    async decide(input) {
      if (!uuid.safeParse(input.projectId).success || !uuid.safeParse(input.decisionId).success) return null;
      const at = instantSchema.parse(input.at);
      const choice = input.choice === undefined ? null : choiceSchema.parse(input.choice);
      return sql.begin(async (tx) => {
        const found = await tx`
          select d.* from project_decisions d join projects p on p.id = d.project_id
          where d.id = ${input.decisionId} and d.project_id = ${input.projectId} and d.status = 'pending'
            and p.owner_id = ${input.ownerId}
          for update of d`;
        if (!found[0]) return null;
        const pending = decisionRowSchema.parse(found[0]);
        if (pending.choices.length > 0 && (choice === null || !pending.choices.includes(choice))) {
          throw new WardenError('CONFLICT', `choose one of: ${pending.choices.join(', ')}`, {
            entity: 'decision',
            id: pending.id,
            reason: `choice must be one of ${pending.choices.join(', ')}`,
          });
        }
        // Copy-on-write: the stored chain is replaced by a new one that also names this decision.
        const chain = pending.chain ? appendLater(pending.chain, 'decisionIds', pending.id) : null;
        const rows = await tx`
          update project_decisions set status = 'decided', decided_at = ${at}, decided_by = ${input.ownerId},
            choice = ${choice}, chain = ${chain ? JSON.stringify(chain) : null}::text::jsonb
          where id = ${pending.id}
          returning *`;
        await tx`
          update projects set
            last_decision_at = greatest(last_decision_at, ${at}),
            oldest_pending_decision_at = (
              select min(created_at) from project_decisions where project_id = ${input.projectId} and status = 'pending'),
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

/** A decision opened at `at`: the project's oldest pending time moves back to it if it is older. */
async function notePending(tx: TransactionSql, projectId: string, at: Date): Promise<void> {
  await tx`
    update projects set oldest_pending_decision_at = least(oldest_pending_decision_at, ${at})
    where id = ${projectId}`;
}
