import { z } from 'zod';
import { JOB_STATUSES, type JobStatus } from '../../actors/jobTransitions.js';
import { PROJECT_RULE_BITS, RISK_RULES, type RiskRule } from '../domain/riskRules.js';
import type { Sql, TransactionSql } from './client.js';
import { instantSchema, isoFromDb, type Instant } from './instant.js';

/**
 * The risk queries of one project: what the dashboard reads, dismissals, and the failure streak that
 * jobs keep current as they finish. (Bulk reads for the monitor are in riskScanRepository.ts.)
 */

/** One project's risk signals and its owner's budget settings; times in epoch ms. */
export interface ProjectRiskRow {
  projectId: string;
  ownerId: string;
  lastActivityAt: number;
  /**
   * What stale_decision measures from: the last decision made or the oldest decision still pending,
   * whichever is older (a decision left waiting is as stale as one made long ago); null with neither.
   */
  lastDecisionAt: number | null;
  consecutiveFailures: number;
  ownerTier: string;
  ownerBudgetOverride: number | null;
}

export interface LatestBuild {
  jobId: string;
  status: JobStatus;
  updatedAt: string;
}

export interface Dismissal {
  projectId: string;
  rule: RiskRule;
  dismissedBy: string;
  dismissedAt: string;
}

/** A job that reached a terminal status, as the runtime reports it. */
export interface BuildOutcome {
  jobId: string;
  projectId: string;
  status: 'ready' | 'failed';
  finishedAt: Instant;
}

export interface BuildOutcomeResult {
  /** False when this job had been counted already (a repeated call changes nothing). */
  counted: boolean;
  /** The project's streak after the call. */
  consecutiveFailures: number;
}

const ruleSchema = z.enum(RISK_RULES as [RiskRule, ...RiskRule[]]);
const epochMs = z.coerce.number().finite();

const projectRiskRowSchema = z
  .object({
    id: z.string(),
    owner_id: z.string(),
    last_activity_ms: epochMs,
    last_decision_ms: epochMs.nullable(),
    consecutive_failures: z.number().int(),
    tier: z.string(),
    token_budget_override: z.number().int().nullable(),
  })
  .transform(
    (r): ProjectRiskRow => ({
      projectId: r.id,
      ownerId: r.owner_id,
      lastActivityAt: r.last_activity_ms,
      lastDecisionAt: r.last_decision_ms,
      consecutiveFailures: r.consecutive_failures,
      ownerTier: r.tier,
      ownerBudgetOverride: r.token_budget_override,
    }),
  );

const dismissalRowSchema = z
  .object({ project_id: z.string(), rule: ruleSchema, dismissed_by: z.string(), dismissed_at: isoFromDb })
  .transform(
    (r): Dismissal => ({ projectId: r.project_id, rule: r.rule, dismissedBy: r.dismissed_by, dismissedAt: r.dismissed_at }),
  );

const latestBuildSchema = z
  .object({ id: z.string(), status: z.enum(JOB_STATUSES), updated_at: isoFromDb })
  .transform((r): LatestBuild => ({ jobId: r.id, status: r.status, updatedAt: r.updated_at }));

const outcomeSchema = z.object({
  jobId: z.uuid(),
  projectId: z.uuid(),
  status: z.enum(['ready', 'failed']),
  finishedAt: instantSchema,
});

const uuid = z.uuid();

export interface RisksRepository {
  /** The project's signals when `ownerId` owns it; null otherwise (missing, not a UUID, someone else's). */
  projectForOwner(ownerId: string, projectId: string): Promise<ProjectRiskRow | null>;
  /** The project's newest job, whatever its status; null before the first. */
  latestBuild(projectId: string): Promise<LatestBuild | null>;
  /** Records a dismissal; dismissing a rule again keeps (and returns) the first record. */
  dismiss(input: { projectId: string; rule: RiskRule; by: string; at: Instant }): Promise<Dismissal>;
  /** Oldest first. */
  dismissals(projectId: string): Promise<Dismissal[]>;
  recordBuildOutcome(outcome: BuildOutcome): Promise<BuildOutcomeResult>;
}

export function createRisksRepository(sql: Sql): RisksRepository {
  return {
    async projectForOwner(ownerId, projectId) {
      if (!uuid.safeParse(projectId).success) return null;
      const rows = await sql`
        select p.id, p.owner_id, p.consecutive_failures, u.tier, u.token_budget_override,
               (extract(epoch from p.last_activity_at) * 1000)::float8 as last_activity_ms,
               (extract(epoch from least(p.last_decision_at, p.oldest_pending_decision_at)) * 1000)::float8 as last_decision_ms
        from projects p join users u on u.id = p.owner_id
        where p.id = ${projectId} and p.owner_id = ${ownerId}`;
      return rows[0] ? projectRiskRowSchema.parse(rows[0]) : null;
    },

    async latestBuild(projectId) {
      const rows = await sql`
        select id, status, updated_at from jobs where project_id = ${projectId}
        order by created_at desc, id desc limit 1`;
      return rows[0] ? latestBuildSchema.parse(rows[0]) : null;
    },

    async dismiss(input) {
      const rule = ruleSchema.parse(input.rule);
      const at = instantSchema.parse(input.at);
      // The no-op update makes RETURNING give back the existing row on conflict.
      const rows = await sql`
        insert into risk_dismissals (project_id, rule, dismissed_by, dismissed_at)
        values (${input.projectId}, ${rule}, ${input.by}, ${at})
        on conflict (project_id, rule) do update set rule = excluded.rule
        returning *`;
      return dismissalRowSchema.parse(rows[0]);
    },

    async dismissals(projectId) {
      const rows = await sql`
        select * from risk_dismissals where project_id = ${projectId} order by dismissed_at, rule`;
      return rows.map((r) => dismissalRowSchema.parse(r));
    },

    recordBuildOutcome: (outcome) => recordBuildOutcome(sql, outcome),
  };
}

/**
 * Counts a finished job into its project's failure streak: `ready` resets it to 0 (and clears the
 * build_failures "emitted" mark, so three more failures are a new crossing), `failed` adds 1. A finished
 * job is also activity on the project. Idempotent per job: a second call for the same job (a retry after
 * a crash between the transition and this call) changes nothing. Takes a transaction too, so the runtime
 * can count the outcome in the same transaction as the terminal transition.
 */
export async function recordBuildOutcome(sql: Sql | TransactionSql, outcome: BuildOutcome): Promise<BuildOutcomeResult> {
  const o = outcomeSchema.parse(outcome);
  const rows = await sql`
    with counted as (
      insert into project_build_outcomes (job_id, project_id, status, finished_at)
      values (${o.jobId}, ${o.projectId}, ${o.status}, ${o.finishedAt})
      on conflict (job_id) do nothing
      returning project_id, status
    )
    update projects p set
      consecutive_failures = case when c.status = 'ready' then 0 else p.consecutive_failures + 1 end,
      risk_flags_emitted = case when c.status = 'ready'
        then p.risk_flags_emitted & ~${PROJECT_RULE_BITS.build_failures}::smallint
        else p.risk_flags_emitted end,
      last_activity_at = greatest(p.last_activity_at, ${o.finishedAt})
    from counted c
    where p.id = c.project_id
    returning p.consecutive_failures`;
  const after = z.object({ consecutive_failures: z.number().int() }).array().parse(rows)[0];
  if (after) return { counted: true, consecutiveFailures: after.consecutive_failures };
  const current = await sql`select consecutive_failures from projects where id = ${o.projectId}`;
  const row = z.object({ consecutive_failures: z.number().int() }).array().parse(current)[0];
  return { counted: false, consecutiveFailures: row?.consecutive_failures ?? 0 };
}
