import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { bytesPerHour, linearSlope, quantile } from '../../bench/lib/soakStats.js';

describe('soak statistics', () => {
  it('recovers the slope of any line, and gives 0 for flat or too few points', () => {
    fc.assert(
      fc.property(fc.double({ min: -1e6, max: 1e6, noNaN: true }), fc.double({ min: -1e6, max: 1e6, noNaN: true }), (a, b) => {
        const points = Array.from({ length: 10 }, (_, i) => ({ x: i, y: a * i + b }));
        expect(linearSlope(points)).toBeCloseTo(a, 3);
      }),
    );
    expect(linearSlope([{ x: 1, y: 5 }])).toBe(0);
    expect(linearSlope([{ x: 1, y: 5 }, { x: 1, y: 7 }])).toBe(0);
  });

  it('reads memory growth per hour after the warm-up only', () => {
    const samples = Array.from({ length: 61 }, (_, i) => ({ atMs: i * 60_000, bytes: i < 10 ? 1e9 : 100e6 + i * 1e6 }));
    expect(bytesPerHour(samples, 10 * 60_000)).toBeCloseTo(60e6, 0);
  });

  it('takes quantiles by nearest rank', () => {
    const values = Array.from({ length: 100 }, (_, i) => 100 - i);
    expect(quantile(values, 0.99)).toBe(99);
    expect(quantile(values, 0.5)).toBe(50);
    expect(quantile([], 0.5)).toBeNaN();
  });
});
