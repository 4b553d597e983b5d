import { GATES, RISK_CATEGORIES, RISK_LEVELS, gateOf, overallScore, riskLevel, riskScore, type LevelCounts, type Rating } from '../domain/riskRegister.js';

/**
 * The portfolio of one owner (SPEC §7), run on a Piscina worker when it is large (or inline when small).
 * A plain function over packed codes (src/db/registerPortfolioQueries.ts): each byte is one risk,
 * `category × 9 + (probability − 1) × 3 + (impact − 1)`; `offsets` delimit the registers. The scoring is
 * the domain's own (riskScore, riskLevel, overallScore, gateOf), tabulated once for the 54 codes.
 */
export interface PortfolioTask {
  codes: Uint8Array;
  /** registers + 1 entries; register i holds codes[offsets[i]] … codes[offsets[i + 1] − 1]. */
  offsets: Int32Array;
  /** How many of the highest-scored risks to name. */
  top: number;
}

export interface PortfolioTaskResult {
  /** Counts per level, in RISK_LEVELS order. */
  levels: number[];
  /** Counts per category × level: index category × 5 + level (RISK_CATEGORIES, RISK_LEVELS orders). */
  categoryLevels: number[];
  /** Index in GATES of the worst gate of any register (0 = PASS when there is none). */
  worstGate: number;
  /** Registers whose gate is the worst one, by index. */
  worstRegisters: number[];
  /** Sum of the registers' overall scores (the average is this / registers). */
  overallScoreSum: number;
  /** [register index, index within the register] of the top risks: score descending, then written order. */
  top: [number, number][];
}

const CODES = RISK_CATEGORIES.length * 9;
const SCORE_OF = new Uint8Array(CODES);
const LEVEL_OF = new Uint8Array(CODES);
for (let code = 0; code < CODES; code++) {
  const score = riskScore((Math.floor((code % 9) / 3) + 1) as Rating, ((code % 3) + 1) as Rating);
  SCORE_OF[code] = score;
  LEVEL_OF[code] = RISK_LEVELS.indexOf(riskLevel(score));
}

export default function evaluatePortfolio(task: PortfolioTask): PortfolioTaskResult {
  const { codes, offsets } = task;
  const levels = new Array<number>(RISK_LEVELS.length).fill(0);
  const categoryLevels = new Array<number>(RISK_CATEGORIES.length * RISK_LEVELS.length).fill(0);
  // The first `top` risks of each score (1–9), in written order: enough to take the top across scores.
  const byScore: [number, number][][] = Array.from({ length: 10 }, () => []);
  const counts: LevelCounts = { critical: 0, high: 0, medium: 0, low: 0, minimal: 0 };
  const gates = new Uint8Array(offsets.length - 1);
  let worstGate = 0;
  let overallScoreSum = 0;

  for (let r = 0; r + 1 < offsets.length; r++) {
    const start = offsets[r]!;
    const end = offsets[r + 1]!;
    const perLevel = [0, 0, 0, 0, 0];
    for (let i = start; i < end; i++) {
      const code = codes[i]!;
      const level = LEVEL_OF[code]!;
      perLevel[level]!++;
      categoryLevels[Math.floor(code / 9) * 5 + level]!++;
      const bucket = byScore[SCORE_OF[code]!]!;
      if (bucket.length < task.top) bucket.push([r, i - start]);
    }
    RISK_LEVELS.forEach((name, l) => {
      counts[name] = perLevel[l]!;
      levels[l]! += perLevel[l]!;
    });
    overallScoreSum += overallScore(counts);
    const gate = GATES.indexOf(gateOf(counts));
    gates[r] = gate;
    if (gate > worstGate) worstGate = gate;
  }

  const worstRegisters: number[] = [];
  for (let r = 0; r < gates.length; r++) if (gates[r] === worstGate) worstRegisters.push(r);
  const top: [number, number][] = [];
  for (let score = 9; score >= 1 && top.length < task.top; score--) {
    for (const key of byScore[score]!) {
      if (top.length >= task.top) break;
      top.push(key);
    }
  }
  return { levels, categoryLevels, worstGate, worstRegisters, overallScoreSum, top };
}
