import type { Clock } from '../clock.js';
import type { Decision, DecisionsRepository } from '../db/decisionsRepository.js';
import type { Dismissal, LatestBuild, ProjectRiskRow, RisksRepository } from '../db/risksRepository.js';
import { projectRisks, suggestedFocus, tokenUsageRisk, type RiskFlag, type RiskRule } from '../domain/riskRules.js';
import { resolveTier, tokenBudget, type TierTable } from '../domain/tiers.js';
import { notFound } from '../errors.js';
import type { RiskLogger } from './riskLogger.js';

/**
 * The per-project risk views (SPEC §5): dashboard, journey, dismissals. Owner only: another user's
 * project is NOT_FOUND, exactly like a missing one.
 *
 * Degrade, never fail: the llm signal needs the owner's token usage from Redis. When that read fails or
 * takes longer than `usageTimeoutMs`, the answer comes without llm risks, lists `llm` in `degraded`, and
 * one warning is logged for the request.
 */

/** Today's token count of a user; the TokenStore has this shape. */
export interface UsageReader {
  used(userId: string): Promise<number>;
}

export type DegradedSignal = 'llm';

export interface RiskDashboard {
  projectId: string;
  /** System risks in SPEC order, then the llm risk. */
  risks: RiskFlag[];
  failureCount: number;
  /** Oldest first. */
  pendingDecisions: Decision[];
  /** Latest decided first. */
  lastDecisions: Decision[];
  latestBuild: LatestBuild | null;
  suggestedFocus: string;
  /** Signals that could not be read; their risks are missing from `risks`. */
  degraded: DegradedSignal[];
}

export interface RiskJourney {
  projectId: string;
  /** The dashboard's risks minus the dismissed rules. */
  risks: RiskFlag[];
  dismissedRules: RiskRule[];
  degraded: DegradedSignal[];
}

export interface RiskService {
  dashboard(ownerId: string, projectId: string): Promise<RiskDashboard>;
  journey(ownerId: string, projectId: string): Promise<RiskJourney>;
  dismiss(ownerId: string, projectId: string, rule: RiskRule): Promise<Dismissal>;
  dismissals(ownerId: string, projectId: string): Promise<Dismissal[]>;
}

export interface RiskServiceOptions {
  risks: RisksRepository;
  decisions: DecisionsRepository;
  usage: UsageReader;
  tiers: TierTable;
  clock: Clock;
  logger: RiskLogger;
  /** How long the usage read may take before the llm signal counts as degraded (default 250 ms). */
  usageTimeoutMs?: number;
}

export function createRiskService(options: RiskServiceOptions): RiskService {
  const { risks: repo, decisions, clock, logger } = options;
  const usageTimeoutMs = options.usageTimeoutMs ?? 250;

  const owned = async (ownerId: string, projectId: string): Promise<ProjectRiskRow> => {
    const row = await repo.projectForOwner(ownerId, projectId);
    if (!row) throw notFound('project', projectId);
    return row;
  };

  /** The llm risks of the owner, or null when the usage could not be read (logged once). */
  const llmRisks = async (row: ProjectRiskRow): Promise<RiskFlag[] | null> => {
    const budget = tokenBudget(resolveTier(options.tiers, row.ownerTier), row.ownerBudgetOverride);
    // An unlimited budget is never a risk: no need to ask Redis at all.
    if (budget < 0) return [];
    try {
      const used = await withTimeout(options.usage.used(row.ownerId), usageTimeoutMs);
      const risk = tokenUsageRisk(used, budget);
      return risk ? [risk] : [];
    } catch (err) {
      logger.warn({ err, userId: row.ownerId, projectId: row.projectId }, 'token usage unavailable; llm risk signal degraded');
      return null;
    }
  };

  const risksOf = async (row: ProjectRiskRow) => {
    const system = projectRisks(
      { lastActivityAt: row.lastActivityAt, lastDecisionAt: row.lastDecisionAt, consecutiveFailures: row.consecutiveFailures },
      clock,
    );
    const llm = await llmRisks(row);
    return { risks: [...system, ...(llm ?? [])], degraded: llm === null ? (['llm'] as DegradedSignal[]) : [] };
  };

  return {
    async dashboard(ownerId, projectId) {
      const row = await owned(ownerId, projectId);
      const [{ risks, degraded }, list, latestBuild] = await Promise.all([
        risksOf(row),
        decisions.listDecisions(row.projectId),
        repo.latestBuild(row.projectId),
      ]);
      const pending = list.pending.map((d) => ({ gateType: d.gateType, createdAt: Date.parse(d.createdAt) }));
      return {
        projectId: row.projectId,
        risks,
        failureCount: row.consecutiveFailures,
        pendingDecisions: list.pending,
        lastDecisions: list.recent,
        latestBuild,
        suggestedFocus: suggestedFocus(pending, risks),
        degraded,
      };
    },

    async journey(ownerId, projectId) {
      const row = await owned(ownerId, projectId);
      const [{ risks, degraded }, dismissed] = await Promise.all([risksOf(row), repo.dismissals(row.projectId)]);
      const dismissedRules = dismissed.map((d) => d.rule);
      return {
        projectId: row.projectId,
        risks: risks.filter((r) => !dismissedRules.includes(r.rule)),
        dismissedRules,
        degraded,
      };
    },

    async dismiss(ownerId, projectId, rule) {
      const row = await owned(ownerId, projectId);
      return repo.dismiss({ projectId: row.projectId, rule, by: ownerId, at: clock.now() });
    },

    async dismissals(ownerId, projectId) {
      const row = await owned(ownerId, projectId);
      return repo.dismissals(row.projectId);
    },
  };
}

/** Rejects after `ms`; the late settlement of `work` is swallowed so it cannot become an unhandled rejection. */
function withTimeout<T>(work: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms`)), ms);
  });
  work.catch(() => {});
  return Promise.race([work, timeout]).finally(() => clearTimeout(timer));
}
