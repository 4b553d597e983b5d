import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { createManualClock } from '../../src/clock.js';
import {
  DAY_MS,
  PROJECT_RULE_BITS,
  formatGateType,
  isHighTokenUsage,
  projectRiskBits,
  projectRisks,
  suggestedFocus,
  tokenUsageRisk,
  usagePercent,
  wholeDaysSince,
  type ProjectSignals,
} from '../../src/domain/riskRules.js';

const NOW = Date.parse('2026-03-15T12:00:00Z');
const clock = createManualClock(NOW);
const quiet: ProjectSignals = { lastDecisionAt: null, lastActivityAt: NOW, consecutiveFailures: 0 };
const rulesOf = (signals: Partial<ProjectSignals>) => projectRisks({ ...quiet, ...signals }, clock).map((r) => r.rule);

describe('whole days', () => {
  it('floors the elapsed time to whole days', () => {
    expect(wholeDaysSince(NOW - 7 * DAY_MS, NOW)).toBe(7);
    expect(wholeDaysSince(NOW - 7 * DAY_MS + 1, NOW)).toBe(6);
    expect(wholeDaysSince(NOW + 1, NOW)).toBe(-1);
  });
});

describe('stale_decision', () => {
  it('is no risk at 6 days, even one millisecond short of 7', () => {
    expect(rulesOf({ lastDecisionAt: NOW - 6 * DAY_MS })).toEqual([]);
    expect(rulesOf({ lastDecisionAt: NOW - 7 * DAY_MS + 1 })).toEqual([]);
  });

  it('is a risk at exactly 7 whole days, with the SPEC message', () => {
    expect(projectRisks({ ...quiet, lastDecisionAt: NOW - 7 * DAY_MS }, clock)).toEqual([
      { type: 'system', rule: 'stale_decision', message: 'No decision made in 7 days. Project may need attention.' },
    ]);
  });

  it('says how many whole days have passed', () => {
    const [risk] = projectRisks({ ...quiet, lastDecisionAt: NOW - 9 * DAY_MS - 5000 }, clock);
    expect(risk?.message).toBe('No decision made in 9 days. Project may need attention.');
  });

  it('is no risk when no decision was ever made', () => {
    expect(rulesOf({ lastDecisionAt: null })).toEqual([]);
    expect(projectRiskBits(Number.NaN, NOW, 0, NOW)).toBe(0);
  });
});

describe('build_failures', () => {
  it('is no risk at 2 consecutive failures', () => {
    expect(rulesOf({ consecutiveFailures: 2 })).toEqual([]);
  });

  it('is a risk at 3, with the count in the message', () => {
    expect(projectRisks({ ...quiet, consecutiveFailures: 3 }, clock)).toEqual([
      {
        type: 'system',
        rule: 'build_failures',
        message: '3 consecutive build failures. Review implementation or dependencies.',
      },
    ]);
    expect(projectRisks({ ...quiet, consecutiveFailures: 11 }, clock)[0]?.message).toMatch(/^11 consecutive/);
  });
});

describe('stale_project', () => {
  it('is no risk at 13 days, even one millisecond short of 14', () => {
    expect(rulesOf({ lastActivityAt: NOW - 13 * DAY_MS })).toEqual([]);
    expect(rulesOf({ lastActivityAt: NOW - 14 * DAY_MS + 1 })).toEqual([]);
  });

  it('is a risk at 14 whole days', () => {
    expect(projectRisks({ ...quiet, lastActivityAt: NOW - 14 * DAY_MS }, clock)).toEqual([
      { type: 'system', rule: 'stale_project', message: 'No activity in 14 days. Project may be abandoned.' },
    ]);
  });
});

describe('project rules together', () => {
  it('come in the SPEC order and agree with the worker bits', () => {
    const signals = { lastDecisionAt: NOW - 30 * DAY_MS, lastActivityAt: NOW - 20 * DAY_MS, consecutiveFailures: 4 };
    expect(rulesOf(signals)).toEqual(['stale_decision', 'build_failures', 'stale_project']);
    expect(projectRiskBits(signals.lastDecisionAt, signals.lastActivityAt, 4, NOW)).toBe(7);
  });

  it('bits and risks agree for any signals', () => {
    fc.assert(
      fc.property(
        fc.option(fc.integer({ min: 0, max: 40 * DAY_MS }), { nil: null }),
        fc.integer({ min: 0, max: 40 * DAY_MS }),
        fc.integer({ min: 0, max: 10 }),
        (decisionAgo, activityAgo, failures) => {
          const signals = {
            lastDecisionAt: decisionAgo === null ? null : NOW - decisionAgo,
            lastActivityAt: NOW - activityAgo,
            consecutiveFailures: failures,
          };
          const fromRisks = projectRisks(signals, clock).reduce((bits, r) => {
            return bits | PROJECT_RULE_BITS[r.rule as keyof typeof PROJECT_RULE_BITS];
          }, 0);
          const bits = projectRiskBits(signals.lastDecisionAt ?? Number.NaN, signals.lastActivityAt, failures, NOW);
          expect(bits).toBe(fromRisks);
        },
      ),
    );
  });
});

describe('high_token_usage', () => {
  const budget = 500_000;

  it('is no risk at exactly 80%', () => {
    expect(tokenUsageRisk(400_000, budget)).toBeNull();
  });

  it('is a risk one token above 80% (strictly greater)', () => {
    expect(tokenUsageRisk(400_001, budget)?.rule).toBe('high_token_usage');
    expect(tokenUsageRisk(400_001, budget)?.message).toContain("We're at 80%");
  });

  it('says "85%" at 85%, with the SPEC message', () => {
    expect(tokenUsageRisk(425_000, budget)).toEqual({
      type: 'llm',
      rule: 'high_token_usage',
      message: "We're at 85% of today's token budget. Consider upgrading to avoid interruptions.",
    });
  });

  it('rounds the percentage down, so it never overstates', () => {
    expect(usagePercent(424_999, budget)).toBe(84);
    expect(usagePercent(3, 3)).toBe(100);
    expect(usagePercent(600_000, budget)).toBe(120);
  });

  it('is never a risk for an unlimited budget', () => {
    expect(tokenUsageRisk(10_000_000_000, -1)).toBeNull();
    expect(isHighTokenUsage(Number.MAX_SAFE_INTEGER, -1)).toBe(false);
  });

  it('matches exact rational comparison for any integers', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 2 ** 40 }), fc.integer({ min: 1, max: 2 ** 40 }), (used, b) => {
        expect(isHighTokenUsage(used, b)).toBe(BigInt(used) * 5n > BigInt(b) * 4n);
        const p = BigInt(usagePercent(used, b));
        expect(p * BigInt(b) <= BigInt(used) * 100n).toBe(true);
        expect((p + 1n) * BigInt(b) > BigInt(used) * 100n).toBe(true);
      }),
    );
  });
});

describe('suggested focus', () => {
  const risk = (rule: 'stale_project' | 'build_failures', message: string) => ({ type: 'system' as const, rule, message });

  it('points at the oldest pending decision first', () => {
    const pending = [
      { gateType: 'security_review', createdAt: NOW - 1000 },
      { gateType: 'architecture', createdAt: NOW - 5000 },
    ];
    expect(suggestedFocus(pending, [risk('stale_project', 'x')])).toBe('Review Architecture decision to continue');
  });

  it('else points at the risk whose rule name sorts first', () => {
    const risks = [risk('stale_project', 'No activity in 20 days.'), risk('build_failures', '3 consecutive build failures.')];
    expect(suggestedFocus([], risks)).toBe('Address risk: 3 consecutive build failures.');
  });

  it('else says all clear', () => {
    expect(suggestedFocus([], [])).toBe('All clear — ready to build');
  });

  it('writes gate types as people read them', () => {
    expect(formatGateType('security_review')).toBe('Security Review');
    expect(formatGateType('design')).toBe('Design');
  });
});
