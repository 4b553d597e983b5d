import {
  BASE_SCORE,
  emptyLevelCounts,
  gateOf,
  LEVEL_DEDUCTION,
  overallScore,
  RISK_CATEGORIES,
  RISK_LEVELS,
  riskLevel,
  riskScore,
  type Gate,
  type LevelCounts,
  type RegisterRisk,
  type RiskCategory,
  sumCounts,
  compareText,
  type RiskLevel,
} from './riskRegister.js';
import { checkStated } from './riskRegisterCheck.js';
import type { Disagreement, StatedSummary, Unverifiable } from './riskRegisterStated.js';

/** One risk as the profile scores it. */
export interface ScoredRisk {
  id: string;
  category: RiskCategory;
  component: string | null;
  score: number;
  level: RiskLevel;
}

export interface CategoryCount {
  category: RiskCategory;
  total: number;
  levels: LevelCounts;
}

export interface ComponentCount {
  component: string;
  total: number;
  levels: LevelCounts;
}

export interface MustFixItem {
  id: string;
  score: number;
  level: RiskLevel;
  category: RiskCategory;
  description: string;
}

/** Everything computed from a register's risks, and where its stated summary disagrees. */
export interface RegisterProfile {
  total: number;
  risks: ScoredRisk[];
  levels: LevelCounts;
  /** Categories that have risks, in SPEC order. */
  categories: CategoryCount[];
  /** Components that have risks, by name; risks with no component are counted in `withoutComponent`. */
  components: ComponentCount[];
  withoutComponent: number;
  overallScore: number;
  /** The score's derivation, e.g. `100 − 20 − 10 − 10 − 6 = 54`. */
  calculation: string;
  gate: Gate;
  /** Critical and high risks, highest score first, then by id. */
  mustFix: MustFixItem[];
  disagreements: Disagreement[];
  unverifiable: Unverifiable[];
}

/** The profile of a register: pure, deterministic, independent of the order of `risks` except for `risks`. */
export function computeProfile(risks: readonly RegisterRisk[], stated: StatedSummary = {}): RegisterProfile {
  const levels = emptyLevelCounts();
  const byCategory = new Map<RiskCategory, LevelCounts>();
  const byComponent = new Map<string, LevelCounts>();
  let withoutComponent = 0;
  const scored: ScoredRisk[] = [];
  const mustFix: MustFixItem[] = [];

  for (const risk of risks) {
    const score = riskScore(risk.probability, risk.impact);
    const level = riskLevel(score);
    levels[level]++;
    bump(byCategory, risk.category, level);
    if (risk.component === null) withoutComponent++;
    else bump(byComponent, risk.component, level);
    scored.push({ id: risk.id, category: risk.category, component: risk.component, score, level });
    if (level === 'critical' || level === 'high') {
      mustFix.push({ id: risk.id, score, level, category: risk.category, description: risk.description });
    }
  }
  mustFix.sort((a, b) => b.score - a.score || compareText(a.id, b.id));

  const categories = RISK_CATEGORIES.flatMap((category) => {
    const counts = byCategory.get(category);
    return counts ? [{ category, total: sumCounts(counts), levels: counts }] : [];
  });
  const components = [...byComponent.entries()]
    .sort(([a], [b]) => compareText(a, b))
    .map(([component, counts]) => ({ component, total: sumCounts(counts), levels: counts }));

  const base = {
    total: risks.length,
    risks: scored,
    levels,
    categories,
    components,
    withoutComponent,
    overallScore: overallScore(levels),
    calculation: describeCalculation(levels),
    gate: gateOf(levels),
    mustFix,
  };
  return { ...base, ...checkStated(stated, risks, base) };
}

/** The figures checkStated compares against: the profile without its findings. */
export type ComputedFigures = Omit<RegisterProfile, 'disagreements' | 'unverifiable'>;

/** `100 − 20 − 10 = 70`; a floor at 0 is written out (`100 − 120 → 0`) so the text never lies. */
export function describeCalculation(levels: LevelCounts): string {
  const terms = calculationTerms(levels);
  const raw = terms.reduce((sum, t) => sum - t, BASE_SCORE);
  const head = [String(BASE_SCORE), ...terms.map(String)].join(' − ');
  return raw < 0 ? `${head} = ${raw} → 0` : `${head} = ${raw}`;
}

/** The deductions, critical first, one term per level that has risks. */
export function calculationTerms(levels: LevelCounts): number[] {
  return RISK_LEVELS.filter((l) => LEVEL_DEDUCTION[l] > 0 && levels[l] > 0).map((l) => LEVEL_DEDUCTION[l] * levels[l]);
}

function bump<K>(map: Map<K, LevelCounts>, key: K, level: RiskLevel): void {
  let counts = map.get(key);
  if (!counts) map.set(key, (counts = emptyLevelCounts()));
  counts[level]++;
}
