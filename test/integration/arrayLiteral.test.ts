import { describe, expect, it } from 'vitest';
import { arrayLiteral } from '../../src/db/arrayLiteral.js';
import { useTestDb } from '../helpers/testDb.js';

const db = await useTestDb('array_literal');

describe('arrayLiteral, read back by PostgreSQL', () => {
  it('carries any text through, quotes, backslashes, separators and the word NULL included', async () => {
    const texts = ['plain', '', 'a "quoted" word', 'back\\slash', 'trailing \\', '{braces}, commas', 'NULL', 'line\nbreak\ttab', 'é ✓ 🚀'];
    const [row] = await db.sql<{ v: string[] }[]>`select ${arrayLiteral(texts)}::text[] as v`;
    expect(row?.v).toEqual(texts);
  });

  it('carries nulls, booleans, integers and doubles as their types', async () => {
    // Read element by element: postgres.js reads a NULL inside a returned text[] as the string "NULL".
    const rows = await db.sql<{ t: string | null; b: boolean; i: number | null; f: number }[]>`
      select * from unnest(${arrayLiteral(['x', null, 'y'])}::text[], ${arrayLiteral([true, false, true])}::bool[],
                           ${arrayLiteral([1, null, -7])}::int[], ${arrayLiteral([1796318317057.5, 0.1, -2.5])}::float8[]) as u(t, b, i, f)`;
    expect(rows.map((r) => ({ ...r }))).toEqual([
      { t: 'x', b: true, i: 1, f: 1796318317057.5 },
      { t: null, b: false, i: null, f: 0.1 },
      { t: 'y', b: true, i: -7, f: -2.5 },
    ]);
  });

  it('refuses a number PostgreSQL could not read back', () => {
    expect(() => arrayLiteral([Number.NaN])).toThrow(/not a finite number/);
  });
});
