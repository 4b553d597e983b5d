import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { DEFAULT_TIERS, resolveTier } from '../../src/domain/tiers.js';
import { estimateWait, humanDuration, nextAverage, queueRetryAfterMinutes } from '../../src/domain/waitEstimate.js';

const average = fc.double({ min: 0, max: 100_000, noNaN: true });
const position = fc.integer({ min: 0, max: 10_000 });
const workers = fc.integer({ min: 0, max: 64 });

describe('nextAverage', () => {
  it('is 0.3 × duration + 0.7 × old, starting from the tier default', () => {
    const start = resolveTier(DEFAULT_TIERS, 'bootstrapper').defaultJobSeconds;
    expect(start).toBe(480);
    expect(nextAverage(start, 600)).toBeCloseTo(516, 10);
    expect(nextAverage(516, 300)).toBeCloseTo(451.2, 10);
    expect(nextAverage(600, 600)).toBeCloseTo(600, 10);
  });

  it('lies between the old average and the new duration', () => {
    fc.assert(
      fc.property(average, average, (old, duration) => {
        const next = nextAverage(old, duration);
        const eps = 1e-9 * Math.max(old, duration, 1);
        return next >= Math.min(old, duration) - eps && next <= Math.max(old, duration) + eps;
      }),
    );
  });

  it('refuses a negative or non-finite duration', () => {
    expect(() => nextAverage(480, -1)).toThrow(RangeError);
    expect(() => nextAverage(480, Number.POSITIVE_INFINITY)).toThrow(RangeError);
  });
});

describe('estimateWait', () => {
  it('counts idle runners: the positions they take now wait 0, the rest as if the queue began after them', () => {
    expect(estimateWait({ averageSeconds: 600, position: 1, workers: 4, idle: 4 })).toMatchObject({ seconds: 0, text: '0 seconds' });
    expect(estimateWait({ averageSeconds: 600, position: 4, workers: 4, idle: 4 })).toMatchObject({ seconds: 0 });
    expect(estimateWait({ averageSeconds: 600, position: 6, workers: 4, idle: 2 })).toMatchObject({ seconds: 600 });
    expect(estimateWait({ averageSeconds: 600, position: 6, workers: 4, idle: 0 })).toEqual(estimateWait({ averageSeconds: 600, position: 6, workers: 4 }));
    expect(() => estimateWait({ averageSeconds: 600, position: 1, workers: 4, idle: -1 })).toThrow(RangeError);
  });

  it('is average × position / max(workers, 1) with a ±30 % range (SPEC §3)', () => {
    expect(estimateWait({ averageSeconds: 600, position: 1, workers: 4 })).toEqual({
      seconds: 150,
      low: 105,
      high: 195,
      confidence: 'medium',
      text: '3 minutes',
      rangeText: '2 minutes – 3 minutes',
    });
    expect(estimateWait({ averageSeconds: 480, position: 12, workers: 0 })).toMatchObject({
      seconds: 5760,
      low: 4032,
      high: 7488,
      confidence: 'low',
      text: '1h 36m',
    });
  });

  it('says "medium" below position 10 and "low" from 10 on', () => {
    expect(estimateWait({ averageSeconds: 60, position: 9, workers: 1 }).confidence).toBe('medium');
    expect(estimateWait({ averageSeconds: 60, position: 10, workers: 1 }).confidence).toBe('low');
  });

  it('treats zero workers as one', () => {
    expect(estimateWait({ averageSeconds: 100, position: 3, workers: 0 })).toEqual(
      estimateWait({ averageSeconds: 100, position: 3, workers: 1 }),
    );
  });

  it('never decreases as the position grows', () => {
    fc.assert(
      fc.property(average, position, position, workers, (avg, p1, p2, w) => {
        const [near, far] = p1 <= p2 ? [p1, p2] : [p2, p1];
        const a = estimateWait({ averageSeconds: avg, position: near, workers: w });
        const b = estimateWait({ averageSeconds: avg, position: far, workers: w });
        return a.seconds <= b.seconds && a.low <= b.low && a.high <= b.high;
      }),
    );
  });

  it('never increases as workers are added', () => {
    fc.assert(
      fc.property(average, position, workers, workers, (avg, p, w1, w2) => {
        const [few, many] = w1 <= w2 ? [w1, w2] : [w2, w1];
        return (
          estimateWait({ averageSeconds: avg, position: p, workers: many }).seconds <=
          estimateWait({ averageSeconds: avg, position: p, workers: few }).seconds
        );
      }),
    );
  });

  it('has a range that contains the estimate, about ±30 % around it', () => {
    fc.assert(
      fc.property(average, position, workers, (avg, p, w) => {
        const e = estimateWait({ averageSeconds: avg, position: p, workers: w });
        const raw = (avg * p) / Math.max(w, 1);
        return (
          e.low <= e.seconds &&
          e.seconds <= e.high &&
          Math.abs(e.low - 0.7 * raw) <= 0.5 + 1e-6 * raw &&
          Math.abs(e.high - 1.3 * raw) <= 0.5 + 1e-6 * raw &&
          e.text === humanDuration(e.seconds)
        );
      }),
    );
  });

  it('refuses a fractional or negative position', () => {
    expect(() => estimateWait({ averageSeconds: 60, position: 1.5, workers: 1 })).toThrow(RangeError);
    expect(() => estimateWait({ averageSeconds: 60, position: -1, workers: 1 })).toThrow(RangeError);
  });
});

describe('humanDuration', () => {
  it.each([
    [0, '0 seconds'],
    [1, '1 second'],
    [1.4, '1 second'],
    [45, '45 seconds'],
    [59.4, '59 seconds'],
    [59.6, '1 minute'],
    [60, '1 minute'],
    [89, '1 minute'],
    [90, '2 minutes'],
    [720, '12 minutes'],
    [3569, '59 minutes'],
    [3570, '1h'],
    [3600, '1h'],
    [3900, '1h 5m'],
    [7200, '2h'],
    [7229, '2h'],
    [7230, '2h 1m'],
    [90_000, '25h'],
  ])('%s s → %s', (seconds, text) => {
    expect(humanDuration(seconds)).toBe(text);
  });

  it('never decreases in the minutes it shows', () => {
    const minutesShown = (text: string): number => {
      const h = /^(\d+)h(?: (\d+)m)?$/.exec(text);
      if (h) return Number(h[1]) * 60 + Number(h[2] ?? 0);
      const m = /^(\d+) minutes?$/.exec(text);
      if (m) return Number(m[1]);
      const s = /^(\d+) seconds?$/.exec(text);
      if (s) return Number(s[1]) / 60;
      throw new Error(`unexpected text ${text}`);
    };
    fc.assert(
      fc.property(average, average, (x, y) => {
        const [a, b] = x <= y ? [x, y] : [y, x];
        return minutesShown(humanDuration(a)) <= minutesShown(humanDuration(b));
      }),
    );
  });

  it('refuses a negative or non-finite duration', () => {
    expect(() => humanDuration(-1)).toThrow(RangeError);
    expect(() => humanDuration(Number.NaN)).toThrow(RangeError);
  });
});

describe('queueRetryAfterMinutes', () => {
  it('is the time for one queued job to leave, in whole minutes, at least one', () => {
    expect(queueRetryAfterMinutes({ averageSeconds: 480, workers: 4 })).toBe(2);
    expect(queueRetryAfterMinutes({ averageSeconds: 900, workers: 1 })).toBe(15);
    expect(queueRetryAfterMinutes({ averageSeconds: 10, workers: 8 })).toBe(1);
    expect(queueRetryAfterMinutes({ averageSeconds: 600, workers: 0 })).toBe(10);
  });
});
