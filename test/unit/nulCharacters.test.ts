import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { findNulPaths, nulInputError } from '../../router/nulCharacters.js';

describe('findNulPaths', () => {
  it('finds NULs in strings and keys at any depth, with their paths', () => {
    expect(findNulPaths({ a: 'x', b: ['ok', 'n\u0000'], c: { 'k\u0000': 1, d: { e: '\u0000' } } })).toEqual([
      ['b', 1],
      ['c', 'k\u0000'],
      ['c', 'd', 'e'],
    ]);
    expect(findNulPaths('\u0000')).toEqual([[]]);
    expect(findNulPaths(undefined)).toEqual([]);
  });

  it('walks nesting deeper than the call stack', () => {
    let deep: unknown = 'bottom\u0000';
    for (let i = 0; i < 100_000; i++) deep = [deep];
    expect(findNulPaths(deep)).toHaveLength(1);
  });

  it('reports no path for any JSON value without NUL, and one for each string given a NUL', () => {
    const noNul = fc.jsonValue().filter((v) => !JSON.stringify(v).includes('\\u0000'));
    fc.assert(fc.property(noNul, (value) => findNulPaths(value).length === 0));
    fc.assert(
      fc.property(fc.array(fc.string(), { maxLength: 10 }), (strings) => {
        const withNul = strings.map((s) => `${s}\u0000`);
        expect(findNulPaths({ list: withNul })).toEqual(withNul.map((_, i) => ['list', i]));
      }),
    );
  });

  it('builds a ZodError whose issues carry those paths', () => {
    const error = nulInputError([['goal']]);
    expect(error).toBeInstanceOf(Error);
    expect(error.issues).toEqual([expect.objectContaining({ path: ['goal'], code: 'invalid_format' })]);
  });
});
