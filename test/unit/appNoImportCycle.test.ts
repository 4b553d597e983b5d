import { existsSync, readFileSync } from 'node:fs';
import { dirname, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

/**
 * src/app.ts builds everything; nothing it imports may import it back (the inspector once did, for a
 * second way to attach itself). Walks the relative imports, type-only ones included: a type import is
 * still a dependency a reader has to follow.
 */
const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const APP = resolve(ROOT, 'src/app.ts');

function importsOf(file: string): string[] {
  const source = readFileSync(file, 'utf8');
  const found: string[] = [];
  for (const match of source.matchAll(/^\s*(?:import|export)\s[^;]*?from\s+'(\.[^']+)'/gms)) {
    const spec = match[1];
    if (spec === undefined) continue;
    const path = resolve(dirname(file), spec.replace(/\.js$/, '.ts'));
    if (existsSync(path)) found.push(path);
  }
  return found;
}

/** Every chain of imports from `from` that leads back to `to`. */
function pathsBack(from: string, to: string): string[][] {
  const chains: string[][] = [];
  const seen = new Set<string>();
  const walk = (file: string, chain: string[]) => {
    for (const next of importsOf(file)) {
      if (next === to) chains.push([...chain, next]);
      else if (!seen.has(next)) {
        seen.add(next);
        walk(next, [...chain, next]);
      }
    }
  };
  walk(from, [from]);
  return chains;
}

describe('src/app.ts', () => {
  it('is in no import cycle', () => {
    const cycles = pathsBack(APP, APP).map((chain) => chain.map((f) => relative(ROOT, f)).join(' → '));
    expect(cycles).toEqual([]);
  });
});
