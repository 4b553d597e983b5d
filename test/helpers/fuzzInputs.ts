/**
 * fast-check arbitraries for the wire fuzz (test/e2e/wireFuzz.test.ts): a near-valid input for any
 * procedure, derived from its zod input schema through JSON Schema (so procedures added later are
 * covered without a table here), and hostile mutations of such inputs.
 */
import fc from 'fast-check';
import { z } from 'zod';

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
type Schema = Record<string, unknown>;

/** Ids the fuzz created, by field name (`projectId`, `jobId`, …): a near-valid input mostly uses them. */
export type KnownIds = Record<string, string[]>;

const isSchema = (v: unknown): v is Schema => typeof v === 'object' && v !== null && !Array.isArray(v);
const num = (v: unknown): number | undefined => (typeof v === 'number' ? v : undefined);

/** The JSON Schema of a procedure's input parsers (undefined when it takes none or it cannot be expressed). */
export function inputJsonSchema(inputs: readonly unknown[]): Schema | undefined {
  const first = inputs[0];
  if (!(first instanceof z.ZodType)) return undefined;
  try {
    return z.toJSONSchema(first, { io: 'input', unrepresentable: 'any' });
  } catch {
    return undefined;
  }
}

function stringArbitrary(schema: Schema): fc.Arbitrary<string> {
  const minLength = num(schema.minLength) ?? 0;
  const maxLength = Math.min(num(schema.maxLength) ?? 40, 40);
  if (Array.isArray(schema.enum)) return fc.constantFrom(...(schema.enum as string[]));
  if (typeof schema.pattern === 'string') {
    const re = new RegExp(schema.pattern, 'u');
    // fast-check builds a Unicode property class (\p{…}) as a set of code points, which takes seconds:
    // printable ASCII strings filtered by the pattern serve those (they are character-class rules).
    if (/\\[pP]\{/.test(schema.pattern)) {
      return fc.string({ minLength, maxLength: Math.max(minLength, maxLength) }).filter((x) => re.test(x));
    }
    // Not filtered by length: a generated string past maxLength is one more input for the server to refuse.
    return fc.stringMatching(re);
  }
  if (schema.format === 'uuid') return fc.uuid();
  return fc.string({ minLength, maxLength: Math.max(minLength, maxLength) });
}

/** A value that mostly satisfies `schema`; what it does not satisfy is for the server to refuse. */
export function arbitraryOf(schema: unknown, known: KnownIds, field?: string): fc.Arbitrary<Json> {
  if (!isSchema(schema)) return fc.jsonValue() as fc.Arbitrary<Json>;
  const ids = field ? known[field] : undefined;
  if (ids && ids.length > 0 && schema.type === 'string') {
    return fc.oneof({ arbitrary: fc.constantFrom(...ids), weight: 4 }, { arbitrary: stringArbitrary(schema), weight: 1 });
  }
  if (Array.isArray(schema.anyOf)) return fc.oneof(...schema.anyOf.map((s) => arbitraryOf(s, known, field)));
  if (Array.isArray(schema.enum)) return fc.constantFrom(...(schema.enum as Json[]));
  if ('const' in schema) return fc.constant(schema.const as Json);
  switch (schema.type) {
    case 'string':
      return stringArbitrary(schema);
    case 'integer':
      return fc.integer({ min: Math.max(num(schema.minimum) ?? -1000, -1e9), max: Math.min(num(schema.maximum) ?? 1000, 1e9) });
    case 'number':
      return fc.double({ min: num(schema.minimum) ?? -1000, max: num(schema.maximum) ?? 1000, noNaN: true });
    case 'boolean':
      return fc.boolean();
    case 'null':
      return fc.constant(null);
    case 'array': {
      const minLength = num(schema.minItems) ?? 0;
      return fc.array(arbitraryOf(schema.items, known), { minLength, maxLength: Math.max(minLength, Math.min(num(schema.maxItems) ?? 3, 3)) });
    }
    case 'object': {
      const properties = isSchema(schema.properties) ? schema.properties : {};
      const required = Array.isArray(schema.required) ? (schema.required as string[]) : [];
      const model: Record<string, fc.Arbitrary<Json>> = {};
      for (const [key, sub] of Object.entries(properties)) model[key] = arbitraryOf(sub, known, key);
      return fc.record(model, { requiredKeys: required });
    }
    default:
      return fc.jsonValue() as fc.Arbitrary<Json>;
  }
}

/** Paths of every value inside `value` (the root is []). */
function pathsOf(value: Json, path: (string | number)[] = [], out: (string | number)[][] = []): (string | number)[][] {
  out.push(path);
  if (Array.isArray(value)) value.forEach((v, i) => pathsOf(v, [...path, i], out));
  else if (value !== null && typeof value === 'object') for (const [k, v] of Object.entries(value)) pathsOf(v, [...path, k], out);
  return out;
}

function replaceAt(value: Json, path: readonly (string | number)[], next: (old: Json) => Json | undefined): Json | undefined {
  if (path.length === 0) return next(value);
  const [head, ...rest] = path;
  if (Array.isArray(value) && typeof head === 'number') {
    const copy = [...value];
    const replaced = replaceAt(copy[head] as Json, rest, next);
    if (replaced === undefined) copy.splice(head, 1);
    else copy[head] = replaced;
    return copy;
  }
  if (value !== null && typeof value === 'object' && !Array.isArray(value) && typeof head === 'string') {
    const copy: Record<string, Json> = { ...value };
    const replaced = replaceAt(copy[head] as Json, rest, next);
    if (replaced === undefined) delete copy[head];
    else copy[head] = replaced;
    return copy;
  }
  return value;
}

/**
 * Nesting `depth` levels deep once serialised (toJSON), but shown as `deep(n)`: fast-check prints a
 * counterexample recursively and would overflow the stack on the structure itself.
 */
class DeepNesting {
  constructor(readonly depth: number) {}
  toJSON(): Json {
    let v: Json = 'bottom';
    for (let i = 0; i < this.depth; i++) v = i % 2 ? [v] : { d: v };
    return v;
  }
  [fc.toStringMethod](): string {
    return `deep(${this.depth})`;
  }
}
const deep = (depth: number): Json => new DeepNesting(depth) as unknown as Json;

/** A long string once serialised, shown as `long(n)` in a counterexample. */
class LongString {
  constructor(readonly length: number) {}
  toJSON(): string {
    return 'x'.repeat(this.length);
  }
  [fc.toStringMethod](): string {
    return `long(${this.length})`;
  }
}

/** What replaces one spot of a valid input. `undefined` deletes the field. */
const replacement: fc.Arbitrary<(old: Json) => Json | undefined> = fc.oneof(
  fc.string({ maxLength: 20 }).map((s) => (old: Json) => `${typeof old === 'string' ? old : s}\u0000${s}`),
  fc.constantFrom<Json>(1e308, -1e308, 2 ** 53 + 1, -(2 ** 63), 1e21, 0.5, -1, 0).map((n) => () => n),
  fc.constantFrom<Json>(null, true, false, [], {}, [1, 'a'], { a: null }, '', ' ', 42, '42').map((v) => () => v),
  fc.integer({ min: 1_000, max: 120_000 }).map((n) => () => new LongString(n) as unknown as Json),
  fc.constantFrom('\ud800', 'a\udfffb', '\u202e', '\r\n', '\u0007', '💥', "'; drop table users; --", '%00', '../..').map((s) => () => s),
  fc.integer({ min: 50, max: 3_000 }).map((n) => () => deep(n)),
  fc.constant(() => undefined),
  fc.jsonValue({ maxDepth: 3 }).map((v) => () => v as Json),
);

/** A hostile variant of a valid input: one spot replaced, a field added, or the whole input replaced. */
export function mutationOf(valid: fc.Arbitrary<Json | undefined>): fc.Arbitrary<Json | undefined> {
  return fc.oneof(
    { weight: 6, arbitrary: fc.tuple(valid, fc.nat(), replacement).map(([v, at, change]) => {
      const base: Json = v === undefined ? {} : v;
      const paths = pathsOf(base);
      return replaceAt(base, paths[at % paths.length] ?? [], change);
    }) },
    { weight: 2, arbitrary: fc.tuple(valid, fc.string({ minLength: 1, maxLength: 12 }), fc.jsonValue({ maxDepth: 2 })).map(([v, key, extra]) =>
      v !== null && typeof v === 'object' && !Array.isArray(v) ? { ...v, [key]: extra as Json } : { [key]: extra as Json },
    ) },
    { weight: 2, arbitrary: fc.jsonValue({ maxDepth: 4 }) as fc.Arbitrary<Json> },
  );
}
