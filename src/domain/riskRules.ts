import type { Clock } from '../clock.js';

/**
 * The risk rules of SPEC §5 as pure functions. The dashboard evaluates one project with them, and the
 * scan worker evaluates a hundred thousand with the same predicates (`projectRiskBits`, `isHighTokenUsage`),
 * so there is one copy of every threshold.
 */

export const DAY_MS = 86_400_000;

export const RISK_THRESHOLDS = {
  staleDecisionDays: 7,
  consecutiveFailures: 3,
  staleProjectDays: 14,
  /** Token usage is a risk when used / budget > 4/5, compared as integers (no 0.8 in binary). */
  usageNumerator: 4,
  usageDenominator: 5,
} as const;

/** Project rules in the order SPEC §5 lists them (the dashboard shows them in this order). */
export const PROJECT_RISK_RULES = ['stale_decision', 'build_failures', 'stale_project'] as const;
export type ProjectRiskRule = (typeof PROJECT_RISK_RULES)[number];
export type UserRiskRule = 'high_token_usage';
export type RiskRule = ProjectRiskRule | UserRiskRule;
/** Every rule a project owner can dismiss from the journey view. */
export const RISK_RULES: readonly RiskRule[] = [...PROJECT_RISK_RULES, 'high_token_usage'];

export interface RiskFlag {
  readonly type: 'system' | 'llm';
  readonly rule: RiskRule;
  readonly message: string;
}

export interface ProjectSignals {
  /** Epoch ms of the last gate decision; null when none was ever made. */
  lastDecisionAt: number | null;
  lastActivityAt: number;
  /** Consecutive failed jobs since the project's last ready job. */
  consecutiveFailures: number;
}

/** Bits of `projectRiskBits`; also what the monitor stores as "already emitted" per project. */
export const PROJECT_RULE_BITS: Readonly<Record<ProjectRiskRule, number>> = {
  stale_decision: 1,
  build_failures: 2,
  stale_project: 4,
};

/** Whole days from `thenMs` to `nowMs`: floor((now − then) / 86,400,000); negative for a future time. */
export function wholeDaysSince(thenMs: number, nowMs: number): number {
  return Math.floor((nowMs - thenMs) / DAY_MS);
}

/** `lastDecisionAt` NaN or null means no decision was ever made (the worker's typed arrays use NaN). */
export function isStaleDecision(lastDecisionAt: number | null, nowMs: number): boolean {
  // NaN compares false, so "no decision" is never stale.
  return lastDecisionAt !== null && wholeDaysSince(lastDecisionAt, nowMs) >= RISK_THRESHOLDS.staleDecisionDays;
}

export function hasBuildFailures(consecutiveFailures: number): boolean {
  return consecutiveFailures >= RISK_THRESHOLDS.consecutiveFailures;
}

export function isStaleProject(lastActivityAt: number, nowMs: number): boolean {
  return wholeDaysSince(lastActivityAt, nowMs) >= RISK_THRESHOLDS.staleProjectDays;
}

/**
 * The project rules as three comparisons, computed once per instant: `wholeDaysSince(t, now) >= N` is
 * exactly `t <= now − N days` for the integer epoch-ms times the scan reads. The scan worker's loop uses
 * these numbers directly (kept in locals it ran 3–5× faster on a worker thread than calling the
 * predicates per entry); `projectRiskBits` is the same computation for one project.
 */
export interface ProjectRuleCutoffs {
  /** A last decision at or before this instant is stale. */
  staleDecisionAtOrBefore: number;
  /** Last activity at or before this instant is stale. */
  staleActivityAtOrBefore: number;
  minConsecutiveFailures: number;
}

export function projectRuleCutoffs(nowMs: number): ProjectRuleCutoffs {
  return {
    staleDecisionAtOrBefore: nowMs - RISK_THRESHOLDS.staleDecisionDays * DAY_MS,
    staleActivityAtOrBefore: nowMs - RISK_THRESHOLDS.staleProjectDays * DAY_MS,
    minConsecutiveFailures: RISK_THRESHOLDS.consecutiveFailures,
  };
}

/** The project rules that hold, as PROJECT_RULE_BITS; NaN `lastDecisionAt` means none (NaN compares false). */
export function projectRiskBits(
  lastDecisionAt: number,
  lastActivityAt: number,
  consecutiveFailures: number,
  nowMs: number,
): number {
  const c = projectRuleCutoffs(nowMs);
  return (
    (lastDecisionAt <= c.staleDecisionAtOrBefore ? PROJECT_RULE_BITS.stale_decision : 0) |
    (consecutiveFailures >= c.minConsecutiveFailures ? PROJECT_RULE_BITS.build_failures : 0) |
    (lastActivityAt <= c.staleActivityAtOrBefore ? PROJECT_RULE_BITS.stale_project : 0)
  );
}

/** The project risks of SPEC §5, in its order: stale_decision, build_failures, stale_project. */
export function projectRisks(signals: ProjectSignals, clock: Clock): RiskFlag[] {
  const now = clock.now();
  const risks: RiskFlag[] = [];
  if (signals.lastDecisionAt !== null && isStaleDecision(signals.lastDecisionAt, now)) {
    const days = wholeDaysSince(signals.lastDecisionAt, now);
    risks.push(systemRisk('stale_decision', `No decision made in ${days} days. Project may need attention.`));
  }
  if (hasBuildFailures(signals.consecutiveFailures)) {
    risks.push(
      systemRisk(
        'build_failures',
        `${signals.consecutiveFailures} consecutive build failures. Review implementation or dependencies.`,
      ),
    );
  }
  if (isStaleProject(signals.lastActivityAt, now)) {
    const days = wholeDaysSince(signals.lastActivityAt, now);
    risks.push(systemRisk('stale_project', `No activity in ${days} days. Project may be abandoned.`));
  }
  return risks;
}

/**
 * used / budget > 0.8, strictly, with no risk for an unlimited (-1) budget. Compared as 5 × used > 4 ×
 * budget so that exactly 80% is never a risk through rounding. Token counts are integers far below 2^50.
 */
export function isHighTokenUsage(used: number, budget: number): boolean {
  if (budget < 0) return false;
  return used * RISK_THRESHOLDS.usageDenominator > budget * RISK_THRESHOLDS.usageNumerator;
}

/**
 * The whole percentage of the budget used, rounded down, so the message never overstates usage
 * (84.9% reads "84%", 85% reads "85%"). Above 100% is shown as it is. A zero budget with usage reads 100%.
 */
export function usagePercent(used: number, budget: number): number {
  if (budget <= 0) return used > 0 ? 100 : 0;
  let percent = Math.floor((used * 100) / budget);
  // Float division can round a quotient just below an integer up to it; correct with integer math.
  if (percent * budget > used * 100) percent -= 1;
  return percent;
}

/** The user's token-usage risk (SPEC §5), or null below the threshold or with an unlimited budget. */
export function tokenUsageRisk(used: number, budget: number): RiskFlag | null {
  if (!isHighTokenUsage(used, budget)) return null;
  return {
    type: 'llm',
    rule: 'high_token_usage',
    message: `We're at ${usagePercent(used, budget)}% of today's token budget. Consider upgrading to avoid interruptions.`,
  };
}

export interface PendingDecisionRef {
  gateType: string;
  createdAt: number;
}

/**
 * The dashboard's suggested focus (SPEC §5): the oldest pending decision first; else the risk whose rule
 * name sorts first (alphabetically: build_failures, high_token_usage, stale_decision, stale_project);
 * else all clear.
 */
export function suggestedFocus(pending: readonly PendingDecisionRef[], risks: readonly RiskFlag[]): string {
  const oldest = [...pending].sort((a, b) => a.createdAt - b.createdAt)[0];
  if (oldest) return `Review ${formatGateType(oldest.gateType)} decision to continue`;
  const first = [...risks].sort((a, b) => (a.rule < b.rule ? -1 : a.rule > b.rule ? 1 : 0))[0];
  if (first) return `Address risk: ${first.message}`;
  return 'All clear — ready to build';
}

/** A stored gate type (`architecture_review`) as people read it (`Architecture Review`). */
export function formatGateType(gateType: string): string {
  return gateType
    .split(/[_\s-]+/)
    .filter((word) => word.length > 0)
    .map((word) => word[0]!.toUpperCase() + word.slice(1))
    .join(' ');
}

function systemRisk(rule: ProjectRiskRule, message: string): RiskFlag {
  return { type: 'system', rule, message };
}
