import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { MAX_QUEUE_BOOST, MAX_QUEUE_COUNTER, queueBandBase, queueScore } from '../../src/domain/priority.js';
import { DEFAULT_TIERS } from '../../src/domain/tiers.js';

const boost = fc.integer({ min: 0, max: MAX_QUEUE_BOOST });
const counter = fc.integer({ min: 1, max: MAX_QUEUE_COUNTER });

describe('queueScore', () => {
  it('is (1000 − boost) × 1e12 + counter', () => {
    expect(queueScore(0, 1)).toBe(1_000_000_000_000_001);
    expect(queueScore(DEFAULT_TIERS.partner.queueBoost, 7)).toBe(998_000_000_000_007);
    expect(queueScore(DEFAULT_TIERS.cto_scale.queueBoost, 42)).toBe(995_000_000_000_042);
    expect(queueBandBase(2)).toBe(998e12);
  });

  it('stays an exact integer below 2^53 over the whole allowed range', () => {
    expect(queueScore(0, MAX_QUEUE_COUNTER)).toBeLessThan(2 ** 53);
    fc.assert(
      fc.property(boost, counter, (b, c) => {
        const score = queueScore(b, c);
        return Number.isSafeInteger(score) && score - (1000 - b) * 1e12 === c;
      }),
    );
  });

  it('puts a higher boost first whatever the counters', () => {
    fc.assert(
      fc.property(boost, boost, counter, counter, (b1, b2, c1, c2) => {
        fc.pre(b1 !== b2);
        const [high, low] = b1 > b2 ? [b1, b2] : [b2, b1];
        const [cHigh, cLow] = b1 > b2 ? [c1, c2] : [c2, c1];
        return queueScore(high, cHigh) < queueScore(low, cLow);
      }),
    );
  });

  it('is first-in first-out within one boost', () => {
    fc.assert(fc.property(boost, counter, counter, (b, c1, c2) => Math.sign(queueScore(b, c1) - queueScore(b, c2)) === Math.sign(c1 - c2)));
  });

  it('refuses a boost or counter outside its range', () => {
    for (const [b, c] of [
      [-1, 1],
      [1000, 1],
      [1.5, 1],
      [0, -1],
      [0, MAX_QUEUE_COUNTER + 1],
      [0, Number.NaN],
    ] as const) {
      expect(() => queueScore(b, c)).toThrow(RangeError);
    }
  });
});
