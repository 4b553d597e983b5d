import {
  BASE_SCORE,
  capitalize,
  categoryFromName,
  describeCounts,
  GATES,
  LEVEL_DEDUCTION,
  levelFromName,
  RISK_LEVELS,
  riskLevel,
  riskScore,
  type LevelCounts,
  type RegisterRisk,
  type RiskLevel,
} from './riskRegister.js';
import type { ComputedFigures } from './riskRegisterProfile.js';
import type { Disagreement, StatedSummary, Unverifiable } from './riskRegisterStated.js';

export interface StatedFindings {
  disagreements: Disagreement[];
  unverifiable: Unverifiable[];
}

/**
 * Every stated figure against what the risks give. One disagreement per contradicted figure, in the
 * order a reader meets them (summary, calculation, rows, categories, components); figures the risks
 * cannot decide go to `unverifiable`. Nothing stated is taken as input to the computed profile.
 */
export function checkStated(stated: StatedSummary, risks: readonly RegisterRisk[], computed: ComputedFigures): StatedFindings {
  const disagreements: Disagreement[] = [];
  const unverifiable: Unverifiable[] = [];
  const differ = (d: Disagreement) => {
    if (d.stated !== d.computed) disagreements.push(d);
  };

  // Executive summary.
  if (stated.total) {
    differ({ figure: 'total', label: 'Total risks', stated: stated.total.value, computed: computed.total, line: stated.total.line });
  }
  for (const level of RISK_LEVELS) {
    const figure = stated.levels?.[level];
    if (figure) {
      const label = `${capitalize(level)} risks`;
      differ({ figure: `levels.${level}`, label, stated: figure.value, computed: computed.levels[level], line: figure.line });
    }
  }
  if (stated.overallScore) {
    const { value, line } = stated.overallScore;
    differ({ figure: 'overallScore', label: 'Risk score', stated: value, computed: computed.overallScore, line });
  }
  if (stated.gate) {
    const gate = GATES.find((g) => g === stated.gate?.value.trim().toUpperCase());
    const { value, line } = stated.gate;
    if (gate) differ({ figure: 'gate', label: 'Gate', stated: gate, computed: computed.gate, line });
    else unverifiable.push({ figure: 'gate', label: 'Gate', stated: value, reason: 'not a gate (PASS, CONCERNS, FAIL)', line });
  }

  checkCalculation(stated, computed.levels, computed.overallScore, differ);

  // Rows.
  for (const risk of risks) {
    const scored = riskOf(risk);
    const line = stated.rows?.[risk.id] ?? null;
    if (risk.statedScore !== null) {
      differ({ figure: `risks.${risk.id}.score`, label: `${risk.id} score`, stated: risk.statedScore, computed: scored.score, line });
    }
    if (risk.statedPriority !== null) {
      const level = levelFromName(risk.statedPriority);
      const figure = `risks.${risk.id}.priority`;
      const label = `${risk.id} priority`;
      if (level) differ({ figure, label, stated: level, computed: scored.level, line });
      else unverifiable.push({ figure, label, stated: risk.statedPriority, reason: 'not a risk level', line });
    }
  }

  // Distribution by category: a line with a breakdown states every level it leaves out as 0.
  if (stated.categories) {
    const seen = new Set<string>();
    for (const entry of stated.categories) {
      const category = categoryFromName(entry.name);
      const text = describeCounts(entry.total, entry.levels);
      if (!category) {
        const reason = 'not one of the six categories';
        unverifiable.push({ figure: `categories.${entry.name}`, label: `Category ${entry.name}`, stated: text, reason, line: entry.line });
        continue;
      }
      seen.add(category);
      const actual = computed.categories.find((c) => c.category === category);
      const total = actual?.total ?? 0;
      const levels = actual?.levels ?? null;
      const agrees = entry.total === total && (entry.levels === null || sameLevels(entry.levels, levels));
      const computedText = describeCounts(total, entry.levels === null ? null : levels);
      if (!agrees) {
        const label = `Category ${capitalize(category)}`;
        disagreements.push({ figure: `categories.${category}`, label, stated: text, computed: computedText, line: entry.line });
      }
    }
    for (const actual of computed.categories) {
      if (seen.has(actual.category)) continue;
      const label = `Category ${capitalize(actual.category)}`;
      const computedText = describeCounts(actual.total, actual.levels);
      disagreements.push({ figure: `categories.${actual.category}`, label, stated: describeCounts(0, null), computed: computedText, line: null });
    }
  }

  // Distribution by component: only checkable when the rows name their components.
  if (stated.components) {
    const named = computed.components.length > 0;
    const seen = new Set<string>();
    for (const entry of stated.components) {
      const figure = `components.${entry.name}`;
      const label = `Component ${entry.name}`;
      const text = describeCounts(entry.total, null);
      if (!named) {
        unverifiable.push({ figure, label, stated: text, reason: 'the risks name no component', line: entry.line });
        continue;
      }
      const key = entry.name.trim().toLowerCase();
      seen.add(key);
      const actual = computed.components.find((c) => c.component.trim().toLowerCase() === key);
      differ({ figure, label, stated: text, computed: describeCounts(actual?.total ?? 0, null), line: entry.line });
    }
    if (named) {
      for (const actual of computed.components) {
        if (seen.has(actual.component.trim().toLowerCase())) continue;
        const figure = `components.${actual.component}`;
        const label = `Component ${actual.component}`;
        disagreements.push({ figure, label, stated: describeCounts(0, null), computed: describeCounts(actual.total, null), line: null });
      }
    }
  }

  return { disagreements, unverifiable };
}

/** The "Risk Score Calculation" section: base, each deduction line, and the final sum's own arithmetic. */
function checkCalculation(
  stated: StatedSummary,
  levels: LevelCounts,
  overall: number,
  differ: (d: Disagreement) => void,
): void {
  const calc = stated.calculation;
  if (!calc) return;
  if (calc.base) {
    differ({ figure: 'calculation.base', label: 'Base score', stated: calc.base.value, computed: BASE_SCORE, line: calc.base.line });
  }
  for (const d of calc.deductions) {
    const name = `${capitalize(d.level)} deduction`;
    const at = `calculation.${d.level}`;
    differ({ figure: `${at}.perRisk`, label: `${name} per risk`, stated: d.perRisk, computed: LEVEL_DEDUCTION[d.level], line: d.line });
    differ({ figure: `${at}.count`, label: `${name} count`, stated: d.count, computed: levels[d.level], line: d.line });
    // Its own arithmetic first (−5 × 3 = −20 is wrong whatever the risks say), then against the risks.
    differ({ figure: `${at}.arithmetic`, label: `${name} arithmetic`, stated: d.amount, computed: d.perRisk * d.count, line: d.line });
    const expected = LEVEL_DEDUCTION[d.level] * levels[d.level];
    differ({ figure: `${at}.amount`, label: name, stated: d.amount, computed: expected, line: d.line });
  }
  if (calc.final) {
    const { terms, result, text, line } = calc.final;
    const [head = 0, ...rest] = terms;
    const raw = rest.reduce((sum, t) => sum - t, head);
    // A written floor ("100 − 120 = 0") is the rule, not an arithmetic slip.
    const arithmetic = Math.max(0, raw);
    differ({ figure: 'calculation.arithmetic', label: `Calculation "${text}"`, stated: result, computed: arithmetic, line });
    differ({ figure: 'calculation.result', label: 'Final risk score', stated: result, computed: overall, line });
  }
}

function sameLevels(stated: Partial<Record<RiskLevel, number>>, actual: LevelCounts | null): boolean {
  return RISK_LEVELS.every((l) => (stated[l] ?? 0) === (actual?.[l] ?? 0));
}

function riskOf(risk: RegisterRisk): { score: number; level: RiskLevel } {
  const score = riskScore(risk.probability, risk.impact);
  return { score, level: riskLevel(score) };
}
