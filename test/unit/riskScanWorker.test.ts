import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { createManualClock } from '../../src/clock.js';
import { DAY_MS, PROJECT_RULE_BITS, isHighTokenUsage, projectRisks } from '../../src/domain/riskRules.js';
import evaluateScanPart from '../../src/workers/riskScan.worker.js';
import { ScanBuffer } from '../../src/workers/riskScanBuffers.js';

const NOW = Date.parse('2031-05-10T12:00:00Z');
// Ages around every boundary, in ms: 6, 7, 13 and 14 days, each ± 1 ms, plus anything.
const age = fc.oneof(
  fc.constantFrom(...[6, 7, 13, 14].flatMap((d) => [d * DAY_MS - 1, d * DAY_MS, d * DAY_MS + 1])),
  fc.integer({ min: -DAY_MS, max: 40 * DAY_MS }),
);
const user = fc.record({
  used: fc.oneof(fc.constantFrom(400_000, 400_001, 425_000), fc.integer({ min: 0, max: 3_000_000 })),
  budget: fc.constantFrom(-1, 0, 1000, 500_000, 2_000_000),
  told: fc.boolean(),
});
const project = fc.record({
  decisionAge: fc.option(age, { nil: null }),
  activityAge: age,
  failures: fc.integer({ min: 0, max: 6 }),
  emitted: fc.integer({ min: 0, max: 7 }),
});

describe('scan worker', () => {
  it('agrees with the per-entry rules, whatever the split into parts', () => {
    fc.assert(
      fc.property(fc.array(user, { maxLength: 60 }), fc.array(project, { maxLength: 60 }), fc.nat(), (users, projects, cut) => {
        const { buffer, capacity, views } = new ScanBuffer().ensure({ users: users.length, projects: projects.length });
        users.forEach((u, i) => {
          views.users.used[i] = u.used;
          views.users.budget[i] = u.budget;
          views.users.emitted[i] = u.told ? 1 : 0;
        });
        projects.forEach((p, i) => {
          views.projects.decisionAt[i] = p.decisionAge === null ? Number.NaN : NOW - p.decisionAge;
          views.projects.activityAt[i] = NOW - p.activityAge;
          views.projects.failures[i] = p.failures;
          views.projects.emitted[i] = p.emitted;
        });
        // Two parts split at an arbitrary point, as the pool would run them.
        const u = cut % (users.length + 1);
        const p = cut % (projects.length + 1);
        const parts = [
          { users: [0, u] as [number, number], projects: [0, p] as [number, number] },
          { users: [u, users.length] as [number, number], projects: [p, projects.length] as [number, number] },
        ];
        const hits: number[] = [];
        const changes: number[] = [];
        for (const part of parts) {
          const [nu, np] = evaluateScanPart({ buffer, capacity, ...part, now: NOW });
          hits.push(...views.users.hits.subarray(part.users[0], part.users[0] + nu));
          changes.push(...views.projects.changed.subarray(part.projects[0], part.projects[0] + np));
        }

        const expectedHits = users.flatMap((x, i) => (!x.told && isHighTokenUsage(x.used, x.budget) ? [i] : []));
        expect(hits).toEqual(expectedHits);
        const clock = createManualClock(NOW);
        projects.forEach((x, i) => {
          const risks = projectRisks(
            {
              lastDecisionAt: x.decisionAge === null ? null : NOW - x.decisionAge,
              lastActivityAt: NOW - x.activityAge,
              consecutiveFailures: x.failures,
            },
            clock,
          );
          const bits = risks.reduce((b, r) => b | PROJECT_RULE_BITS[r.rule as keyof typeof PROJECT_RULE_BITS], 0);
          expect(views.projects.current[i]).toBe(bits);
          expect(changes.includes(i)).toBe(bits !== x.emitted);
        });
      }),
    );
  });
});
