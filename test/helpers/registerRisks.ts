import fc from 'fast-check';
import { RISK_CATEGORIES, type Rating, type RegisterRisk } from '../../src/domain/riskRegister.js';

/** A risk with every optional field empty; override what a test cares about. */
export function makeRisk(id: string, probability: Rating, impact: Rating, overrides: Partial<RegisterRisk> = {}): RegisterRisk {
  return {
    id,
    category: 'technical',
    component: null,
    description: `Risk ${id}`,
    probability,
    impact,
    mitigation: null,
    mitigationPlan: null,
    owner: null,
    timeline: null,
    residualRisk: null,
    statedScore: null,
    statedPriority: null,
    ...overrides,
  };
}

export const ratingArb = fc.constantFrom<Rating>(1, 2, 3);

/** Risks with unique ids, any ratings, categories and components. */
export function risksArb(maxLength = 60): fc.Arbitrary<RegisterRisk[]> {
  const one = fc.record({
    probability: ratingArb,
    impact: ratingArb,
    category: fc.constantFrom(...RISK_CATEGORIES),
    component: fc.option(fc.constantFrom('Auth Service', 'Mail Worker', 'Web Client'), { nil: null }),
  });
  return fc
    .array(one, { maxLength })
    .map((rows) => rows.map((r, i) => makeRisk(`TECH-${String(i + 1).padStart(3, '0')}`, r.probability, r.impact, r)));
}
