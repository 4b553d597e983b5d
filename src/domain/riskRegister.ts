/**
 * Risk registers (SPEC §7): the scoring table and the vocabulary of a register's risks. Pure: no I/O.
 * Every figure of a profile is derived from these functions, never from what a document states.
 */

export const RISK_LEVELS = ['critical', 'high', 'medium', 'low', 'minimal'] as const;
export type RiskLevel = (typeof RISK_LEVELS)[number];

export const RISK_CATEGORIES = ['technical', 'performance', 'data', 'security', 'operational', 'business'] as const;
export type RiskCategory = (typeof RISK_CATEGORIES)[number];

export const MITIGATION_KINDS = ['preventive', 'detective', 'corrective'] as const;
export type MitigationKind = (typeof MITIGATION_KINDS)[number];

/** Worst last, so the worst of several gates is the one with the highest index. */
export const GATES = ['PASS', 'CONCERNS', 'FAIL'] as const;
export type Gate = (typeof GATES)[number];

/** Probability and impact: low 1, medium 2, high 3. */
export type Rating = 1 | 2 | 3;

/** Points taken off the overall score of 100 per risk of each level. */
export const LEVEL_DEDUCTION: Readonly<Record<RiskLevel, number>> = {
  critical: 20,
  high: 10,
  medium: 5,
  low: 2,
  minimal: 0,
};

export const BASE_SCORE = 100;
export const MAX_RISKS_PER_REGISTER = 1000;

/** Risk ids such as `SEC-001`: a capital prefix, then dash-separated parts. */
export const RISK_ID_PATTERN = /^[A-Z][A-Z0-9]*(?:-[A-Z0-9]+)+$/;
export const MAX_RISK_ID_LENGTH = 40;

/** Short forms used in ids and some documents (`SEC` for security). */
const CATEGORY_ALIASES: Readonly<Record<string, RiskCategory>> = {
  tech: 'technical',
  perf: 'performance',
  sec: 'security',
  ops: 'operational',
  bus: 'business',
};

/** One risk of a register, as stored. */
export interface RegisterRisk {
  id: string;
  category: RiskCategory;
  component: string | null;
  description: string;
  probability: Rating;
  impact: Rating;
  mitigation: MitigationKind | null;
  mitigationPlan: string | null;
  owner: string | null;
  timeline: string | null;
  residualRisk: string | null;
  /** The score a document gave this row, kept to be checked, never used. */
  statedScore: number | null;
  /** The priority a document gave this row, as written. */
  statedPriority: string | null;
}

export type LevelCounts = Record<RiskLevel, number>;

export function riskScore(probability: Rating, impact: Rating): number {
  return probability * impact;
}

/** 9 critical, 6 high, 4 medium, 2–3 low, 1 minimal (the only products of two ratings). */
export function riskLevel(score: number): RiskLevel {
  if (score >= 9) return 'critical';
  if (score >= 6) return 'high';
  if (score >= 4) return 'medium';
  if (score >= 2) return 'low';
  return 'minimal';
}

export function emptyLevelCounts(): LevelCounts {
  return { critical: 0, high: 0, medium: 0, low: 0, minimal: 0 };
}

/** 100 − 20/critical − 10/high − 5/medium − 2/low, never below 0. */
export function overallScore(levels: LevelCounts): number {
  return Math.max(0, BASE_SCORE - totalDeduction(levels));
}

export function totalDeduction(levels: LevelCounts): number {
  let sum = 0;
  for (const level of RISK_LEVELS) sum += LEVEL_DEDUCTION[level] * levels[level];
  return sum;
}

/** FAIL with any critical, CONCERNS with any high, else PASS. */
export function gateOf(levels: LevelCounts): Gate {
  if (levels.critical > 0) return 'FAIL';
  if (levels.high > 0) return 'CONCERNS';
  return 'PASS';
}

export function worseGate(a: Gate, b: Gate): Gate {
  return GATES.indexOf(a) >= GATES.indexOf(b) ? a : b;
}

/** A category from its name or short form, case-insensitively; null when it is none of the six. */
export function categoryFromName(name: string): RiskCategory | null {
  const key = name.trim().toLowerCase();
  const exact = RISK_CATEGORIES.find((c) => c === key);
  return exact ?? CATEGORY_ALIASES[key] ?? null;
}

/** A level from a written priority ("High", "critical", "Min"); null when it names none. */
export function levelFromName(name: string): RiskLevel | null {
  const key = name.trim().toLowerCase();
  if (key === 'min') return 'minimal';
  return RISK_LEVELS.find((l) => l === key) ?? null;
}

/** "critical" → "Critical": how levels, categories and kinds are written in documents. */
export function capitalize(word: string): string {
  return word.charAt(0).toUpperCase() + word.slice(1);
}

export function sumCounts(counts: LevelCounts): number {
  return RISK_LEVELS.reduce((sum, l) => sum + counts[l], 0);
}

/** `3 risks (1 critical, 1 high, 1 low)`: how a category line states its counts. */
export function describeCounts(total: number, levels: Partial<Record<RiskLevel, number>> | null): string {
  const head = `${total} risk${total === 1 ? '' : 's'}`;
  if (levels === null) return head;
  const parts = RISK_LEVELS.flatMap((l) => ((levels[l] ?? 0) > 0 ? [`${levels[l] ?? 0} ${l}`] : []));
  return parts.length > 0 ? `${head} (${parts.join(', ')})` : head;
}

/** Code-point order: deterministic across locales. */
export function compareText(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
