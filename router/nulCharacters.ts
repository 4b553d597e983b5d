import { z } from 'zod';

/** Most offending paths reported; an input with thousands of NULs does not need thousands of issues. */
const MAX_ISSUES = 20;

/**
 * The paths of every string (and object key) in a raw input that contains a NUL character.
 *
 * Why a walk of the raw input rather than a rule in each schema: PostgreSQL refuses U+0000 in text and
 * jsonb, so a NUL that passes a schema becomes a 500 at the database. One check in the base procedures
 * covers every procedure, including those added later, without each schema remembering it. Iterative,
 * not recursive: the JSON parser accepts nesting deeper than the call stack allows.
 */
export function findNulPaths(input: unknown): PropertyKey[][] {
  const found: PropertyKey[][] = [];
  // Each entry links to its parent instead of copying the path, so a deep input costs linear time.
  const stack: Step[] = [{ value: input, key: undefined, parent: undefined }];
  while (stack.length > 0 && found.length < MAX_ISSUES) {
    const step = stack.pop() as Step;
    const { value } = step;
    if (typeof value === 'string') {
      if (value.includes('\u0000')) found.push(pathOf(step));
    } else if (Array.isArray(value)) {
      for (let i = value.length - 1; i >= 0; i--) stack.push({ value: value[i] as unknown, key: i, parent: step });
    } else if (typeof value === 'object' && value !== null) {
      const keys = Object.keys(value);
      for (let i = keys.length - 1; i >= 0; i--) {
        const key = keys[i] as string;
        const child: Step = { value: (value as Record<string, unknown>)[key], key, parent: step };
        if (key.includes('\u0000')) found.push(pathOf(child));
        else stack.push(child);
      }
    }
  }
  return found;
}

interface Step {
  value: unknown;
  key: string | number | undefined;
  parent: Step | undefined;
}

function pathOf(step: Step): PropertyKey[] {
  const path: PropertyKey[] = [];
  for (let s: Step | undefined = step; s?.key !== undefined; s = s.parent) path.push(s.key);
  return path.reverse();
}

/** The ZodError a NUL-carrying input is refused with, so the error formatter sends it as `issues`. */
export function nulInputError(paths: PropertyKey[][]): z.ZodError {
  // ZodRealError, not ZodError: only an Error instance survives as a TRPCError's `cause` with its issues.
  return new z.ZodRealError(
    paths.map((path) => ({
      code: 'invalid_format' as const,
      format: 'regex',
      pattern: '/^[^\\u0000]*$/',
      path,
      message: 'must not contain NUL characters (\\u0000)',
    })),
  );
}
