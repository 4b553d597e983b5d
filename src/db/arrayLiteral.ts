/**
 * A PostgreSQL array literal (`{a,"b c",NULL}`) for a parameter cast in SQL (`${literal}::int[]`).
 * postgres.js' own `sql.array` needs the server's array type oids, which it fetches when a connection
 * opens: a statement built on a pool's first connection before that fetch goes out typed as one element
 * ("cannot cast type uuid to uuid[]"). A literal with the cast in the statement has no such window.
 */
export function arrayLiteral(values: readonly (string | number | boolean | null)[]): string {
  // Tokens joined once: concatenating piece by piece builds a rope V8 must flatten before the write.
  const tokens = new Array<string>(values.length);
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    if (v === null || v === undefined) tokens[i] = 'NULL';
    else if (typeof v === 'string') tokens[i] = v.includes('"') || v.includes('\\') ? `"${v.replace(/[\\"]/g, '\\$&')}"` : `"${v}"`;
    else if (typeof v === 'boolean') tokens[i] = v ? 't' : 'f';
    else if (Number.isFinite(v)) tokens[i] = String(v);
    else throw new Error(`arrayLiteral: ${String(v)} is not a finite number`);
  }
  return `{${tokens.join(',')}}`;
}
