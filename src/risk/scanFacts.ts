import { createRiskFact, type RiskFact } from '../domain/riskFact.js';
import type { ProjectRiskRule } from '../domain/riskRules.js';

/**
 * The risk facts the monitor emits for each rule: the rule as an upper-case risk type, and a severity.
 * Usage severity is the share of the budget used (capped at 1); the project rules have fixed
 * severities, a failing build being the most urgent and a quiet project the least.
 */
export const RISK_TYPE_OF = {
  high_token_usage: 'HIGH_TOKEN_USAGE',
  stale_decision: 'STALE_DECISION',
  build_failures: 'BUILD_FAILURES',
  stale_project: 'STALE_PROJECT',
} as const;

export const PROJECT_RULE_SEVERITY: Readonly<Record<ProjectRiskRule, string>> = {
  stale_decision: '0.60',
  build_failures: '0.80',
  stale_project: '0.40',
};

/** `percent` is usagePercent(): a whole number; the severity is exactly percent / 100, at most 1. */
export function usageRiskFact(percent: number, now: number): RiskFact {
  const severity = percent >= 100 ? '1.00' : `0.${String(Math.max(0, percent)).padStart(2, '0')}`;
  return createRiskFact({ riskType: RISK_TYPE_OF.high_token_usage, severity, timestamp: now });
}

export function projectRiskFact(rule: ProjectRiskRule, now: number): RiskFact {
  return createRiskFact({ riskType: RISK_TYPE_OF[rule], severity: PROJECT_RULE_SEVERITY[rule], timestamp: now });
}
