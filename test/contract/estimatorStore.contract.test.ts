import { describe, expect, it } from 'vitest';
import { createManualClock } from '../../src/clock.js';
import { DEFAULT_TIERS, resolveTier } from '../../src/domain/tiers.js';
import { estimateWait, nextAverage } from '../../src/domain/waitEstimate.js';
import { storeImplementations } from './storeImplementations.js';

const implementations = storeImplementations('estimator');
const defaults = (tier: string) => resolveTier(DEFAULT_TIERS, tier).defaultJobSeconds;

describe.each(implementations)('EstimatorStore on %s', (_name, impl) => {
  const open = () => impl.open(createManualClock('2031-01-01T00:00:00Z'), { peers: 3 });

  it('starts each tier at its default (SPEC §1), 600 s for an unknown tier', async () => {
    const { estimator } = open().stores;
    expect(await estimator.average('bootstrapper', defaults('bootstrapper'))).toBe(480);
    expect(await estimator.average('partner', defaults('partner'))).toBe(600);
    expect(await estimator.average('cto_scale', defaults('cto_scale'))).toBe(900);
    expect(await estimator.average('enterprise', defaults('enterprise'))).toBe(600);
  });

  it('moves the average by new = 0.3 × duration + 0.7 × old', async () => {
    const { estimator } = open().stores;
    const d = defaults('bootstrapper');
    // 0.3 × 600 + 0.7 × 480 = 516; then 0.3 × 300 + 0.7 × 516 = 451.2.
    expect(await estimator.recordDuration('bootstrapper', 600, d)).toBeCloseTo(516, 9);
    expect(await estimator.recordDuration('bootstrapper', 300, d)).toBeCloseTo(451.2, 9);
    expect(await estimator.average('bootstrapper', d)).toBeCloseTo(451.2, 9);
    // Bit-identical to the pure rule, so both implementations give the same estimates.
    expect(await estimator.average('bootstrapper', d)).toBe(nextAverage(nextAverage(480, 600), 300));
    expect(await estimator.average('partner', defaults('partner'))).toBe(600);
  });

  it('keeps fractional seconds exactly', async () => {
    const { estimator } = open().stores;
    const avg = await estimator.recordDuration('cto_scale', 123.456, defaults('cto_scale'));
    expect(avg).toBe(nextAverage(900, 123.456));
    expect(await estimator.average('cto_scale', 900)).toBe(avg);
  });

  it('loses no duration when many jobs finish at once on several clients', async () => {
    const { stores, peers } = open();
    await Promise.all(Array.from({ length: 30 }, (_, i) => peers[i % 3]!.estimator.recordDuration('partner', 120, 600)));
    let expected = 600;
    for (let i = 0; i < 30; i++) expected = nextAverage(expected, 120);
    expect(await stores.estimator.average('partner', 600)).toBeCloseTo(expected, 9);
  });

  it("gives SPEC §3's estimate from a stored average", async () => {
    const { estimator } = open().stores;
    await estimator.recordDuration('bootstrapper', 600, 480);
    const averageSeconds = await estimator.average('bootstrapper', 480);
    // 516 × 3 / 2 = 774 s, shown as 13 minutes, ±30 % = 542 … 1006 s.
    expect(estimateWait({ averageSeconds, position: 3, workers: 2 })).toEqual({
      seconds: 774,
      low: 542,
      high: 1006,
      confidence: 'medium',
      text: '13 minutes',
      rangeText: '9 minutes – 17 minutes',
    });
  });

  it('rejects a negative or non-finite duration', async () => {
    const { estimator } = open().stores;
    await expect(estimator.recordDuration('partner', -1, 600)).rejects.toThrow(RangeError);
    await expect(estimator.recordDuration('partner', Number.NaN, 600)).rejects.toThrow(RangeError);
    expect(await estimator.average('partner', 600)).toBe(600);
  });
});
