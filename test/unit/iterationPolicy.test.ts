import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { decideAfterFailedChecks, needsConfirmation } from '../../actors/iterationPolicy.js';

describe('needsConfirmation', () => {
  it.each([
    [0, 2, false],
    [1, 2, false],
    [2, 2, true],
    [3, 2, false],
    [4, 2, true],
    [3, 3, true],
    [5, 5, true],
    [7, 5, false],
  ])('count %i, depth %i → %s', (count, depth, expected) => {
    expect(needsConfirmation(count, depth)).toBe(expected);
  });
});

describe('decideAfterFailedChecks', () => {
  it('bootstrapper (depth 2): pause at 2 and 4, cap at 6', () => {
    // [iteration, confirmations] as a real job meets them: a confirmation is counted when granted.
    const seen: [number, number][] = [[0, 0], [1, 0], [2, 0], [3, 1], [4, 1], [5, 2], [6, 2]];
    const decisions = seen.map(([iteration, confirmations]) =>
      decideAfterFailedChecks({ iteration, iterationDepth: 2, confirmations }),
    );
    expect(decisions).toEqual(['retry', 'retry', 'await_confirmation', 'retry', 'await_confirmation', 'retry', 'cap']);
  });

  it('a boundary already confirmed does not pause again', () => {
    expect(decideAfterFailedChecks({ iteration: 4, iterationDepth: 2, confirmations: 1 })).toBe('await_confirmation');
    expect(decideAfterFailedChecks({ iteration: 4, iterationDepth: 2, confirmations: 2 })).toBe('retry');
  });

  it('the cap wins over a boundary, confirmed or not', () => {
    expect(decideAfterFailedChecks({ iteration: 6, iterationDepth: 2, confirmations: 0 })).toBe('cap');
    expect(decideAfterFailedChecks({ iteration: 9, iterationDepth: 3, confirmations: 3 })).toBe('cap');
  });

  it('property: cap exactly at or past 3 × depth; a pause only at an unconfirmed multiple of depth', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 20 }), fc.nat(80), fc.nat(10), (iterationDepth, iteration, confirmations) => {
        const decision = decideAfterFailedChecks({ iteration, iterationDepth, confirmations });
        expect(decision === 'cap').toBe(iteration >= 3 * iterationDepth);
        if (decision === 'await_confirmation') {
          expect(iteration % iterationDepth).toBe(0);
          expect(iteration).toBeGreaterThan(0);
          expect(confirmations).toBeLessThan(iteration / iterationDepth);
        }
      }),
    );
  });
});
