import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { gateOf, overallScore, riskLevel, riskScore, type Rating, type RiskLevel } from '../../src/domain/riskRegister.js';
import { computeProfile } from '../../src/domain/riskRegisterProfile.js';
import { makeRisk, ratingArb, risksArb } from '../helpers/registerRisks.js';

/** SPEC §7's table, written out for all nine pairs rather than derived. */
const TABLE: [Rating, Rating, number, RiskLevel][] = [
  [1, 1, 1, 'minimal'],
  [1, 2, 2, 'low'],
  [2, 1, 2, 'low'],
  [1, 3, 3, 'low'],
  [3, 1, 3, 'low'],
  [2, 2, 4, 'medium'],
  [2, 3, 6, 'high'],
  [3, 2, 6, 'high'],
  [3, 3, 9, 'critical'],
];

describe('risk scoring (SPEC §7)', () => {
  it.each(TABLE)('probability %i × impact %i = %i, %s', (p, i, score, level) => {
    expect(riskScore(p, i)).toBe(score);
    expect(riskLevel(score)).toBe(level);
    expect(computeProfile([makeRisk('SEC-001', p, i)]).risks[0]).toMatchObject({ score, level });
  });

  it('levels follow the table for every pair, in any register', () => {
    fc.assert(
      fc.property(risksArb(), (risks) => {
        const profile = computeProfile(risks);
        return profile.risks.every((scored, n) => {
          const risk = risks[n]!;
          const row = TABLE.find(([p, i]) => p === risk.probability && i === risk.impact)!;
          return scored.score === row[2] && scored.level === row[3];
        });
      }),
    );
  });

  it('keeps the overall score within 0–100', () => {
    fc.assert(
      fc.property(risksArb(200), (risks) => {
        const { overallScore: score } = computeProfile(risks);
        return Number.isInteger(score) && score >= 0 && score <= 100;
      }),
    );
  });

  it('never raises the score when a risk is added', () => {
    fc.assert(
      fc.property(risksArb(), ratingArb, ratingArb, (risks, p, i) => {
        const before = computeProfile(risks).overallScore;
        const after = computeProfile([...risks, makeRisk('NEW-001', p, i)]).overallScore;
        return after <= before;
      }),
    );
  });

  it('counts every risk once per view, and the gate is the worst level present', () => {
    fc.assert(
      fc.property(risksArb(), (risks) => {
        const profile = computeProfile(risks);
        const sum = (xs: number[]) => xs.reduce((a, b) => a + b, 0);
        expect(sum(Object.values(profile.levels))).toBe(risks.length);
        expect(sum(profile.categories.map((c) => c.total))).toBe(risks.length);
        expect(sum(profile.components.map((c) => c.total)) + profile.withoutComponent).toBe(risks.length);
        const expectedGate = profile.levels.critical > 0 ? 'FAIL' : profile.levels.high > 0 ? 'CONCERNS' : 'PASS';
        expect(profile.gate).toBe(expectedGate);
        expect(gateOf(profile.levels)).toBe(expectedGate);
        expect(profile.mustFix.length).toBe(profile.levels.critical + profile.levels.high);
        // Highest score first, then id.
        const order = profile.mustFix.map((m) => [m.score, m.id] as const);
        const sorted = [...order].sort((a, b) => b[0] - a[0] || (a[1] < b[1] ? -1 : a[1] > b[1] ? 1 : 0));
        expect(order).toEqual(sorted);
      }),
    );
  });

  it('deducts 20/10/5/2/0 and stops at 0', () => {
    expect(overallScore({ critical: 1, high: 1, medium: 2, low: 3, minimal: 2 })).toBe(54);
    expect(overallScore({ critical: 5, high: 0, medium: 0, low: 0, minimal: 0 })).toBe(0);
    expect(overallScore({ critical: 6, high: 3, medium: 0, low: 0, minimal: 0 })).toBe(0);
    expect(overallScore({ critical: 0, high: 0, medium: 0, low: 0, minimal: 100 })).toBe(100);
  });

  it('finds no disagreement when nothing is stated, and when the rows state their own figures', () => {
    fc.assert(
      fc.property(risksArb(), (risks) => {
        const own = risks.map((r) => ({ ...r, statedScore: r.probability * r.impact, statedPriority: riskLevel(r.probability * r.impact) }));
        return computeProfile(risks).disagreements.length === 0 && computeProfile(own).disagreements.length === 0;
      }),
    );
  });
});
