import type { PortfolioRiskDetail, RegisterPortfolioQueries } from '../db/registerPortfolioQueries.js';
import { emptyLevelCounts, GATES, RISK_CATEGORIES, RISK_LEVELS, riskLevel, riskScore, type Gate, type LevelCounts, type RiskCategory, type RiskLevel } from '../domain/riskRegister.js';
import type { PortfolioEvaluator } from '../workers/portfolio.pool.js';

/** How many of the highest-scored risks the portfolio names, and of the worst-gate registers. */
export const PORTFOLIO_TOP = 20;
export const PORTFOLIO_WORST_LISTED = 100;

export interface PortfolioRisk {
  registerId: string;
  registerTitle: string;
  riskId: string;
  category: RiskCategory;
  component: string | null;
  description: string;
  score: number;
  level: RiskLevel;
}

/** Across all of one owner's registers (SPEC §7). */
export interface Portfolio {
  registers: number;
  risks: number;
  levels: LevelCounts;
  /** Every category, in SPEC order, with its levels. */
  categories: { category: RiskCategory; total: number; levels: LevelCounts }[];
  /** The worst gate of any register; null with no register. */
  worstGate: Gate | null;
  /** How many registers hold the worst gate, and the first of them (oldest first, at most 100). */
  worstGateRegisterCount: number;
  worstGateRegisters: { registerId: string; title: string; subject: string }[];
  /** The 20 highest-scored risks: score descending, then oldest register first, then written order. */
  top: PortfolioRisk[];
  /** Mean of the registers' overall scores, to two decimals; null with no register. */
  averageOverallScore: number | null;
  /** Where it was counted: on the worker pool (large portfolios) or on the calling thread. */
  computedOn: 'pool' | 'thread';
}

export async function computePortfolio(queries: RegisterPortfolioQueries, evaluator: PortfolioEvaluator, ownerId: string): Promise<Portfolio> {
  return queries.withPortfolio(ownerId, async (snapshot) => {
    const { registers, codes, offsets } = snapshot;
    const riskCount = codes.length;
    const computedOn = evaluator.placement(riskCount);
    const result = await evaluator.evaluate({ codes, offsets, top: PORTFOLIO_TOP });
    const levels = countsOf((l) => result.levels[l] ?? 0);
    const categories = RISK_CATEGORIES.map((category, c) => {
      const counts = countsOf((l) => result.categoryLevels[c * RISK_LEVELS.length + l] ?? 0);
      return { category, total: RISK_LEVELS.reduce((sum, l) => sum + counts[l], 0), levels: counts };
    });
    const details = await snapshot.details(result.top);
    const top = result.top.flatMap(([r, i]): PortfolioRisk[] => {
      const found = details.find((d) => d.registerIndex === r && d.index === i);
      const register = registers[r];
      if (!found || !register) return [];
      return [{ ...riskOf(found), registerId: register.id, registerTitle: register.title }];
    });
    const worst = registers.length === 0 ? null : (GATES[result.worstGate] ?? null);
    return {
      registers: registers.length,
      risks: riskCount,
      levels,
      categories,
      worstGate: worst,
      worstGateRegisterCount: worst === null ? 0 : result.worstRegisters.length,
      worstGateRegisters: result.worstRegisters.slice(0, PORTFOLIO_WORST_LISTED).flatMap((r) => {
        const register = registers[r];
        return register ? [{ registerId: register.id, title: register.title, subject: register.subject }] : [];
      }),
      top,
      averageOverallScore: registers.length === 0 ? null : Math.round((result.overallScoreSum / registers.length) * 100) / 100,
      computedOn,
    };
  });
}

function countsOf(at: (levelIndex: number) => number): LevelCounts {
  const counts = emptyLevelCounts();
  RISK_LEVELS.forEach((level, i) => (counts[level] = at(i)));
  return counts;
}

function riskOf(detail: PortfolioRiskDetail): Omit<PortfolioRisk, 'registerId' | 'registerTitle'> {
  const score = riskScore(detail.probability, detail.impact);
  return {
    riskId: detail.riskId,
    category: detail.category,
    component: detail.component,
    description: detail.description,
    score,
    level: riskLevel(score),
  };
}
