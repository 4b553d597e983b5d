import type { ContextChange, JsonValue } from './inspectionRecord.js';

/** Longest string a record keeps; job messages and reasons are at most 200 characters anyway. */
const MAX_STRING = 240;
const MAX_KEYS = 24;
const MAX_DEPTH = 3;

/**
 * A JSON-safe, bounded copy of any value: long strings clipped, deep or wide structures cut, functions,
 * symbols and undefined dropped, non-finite numbers as null. Records never hold live objects, so an
 * actor's context can change (or be collected) without touching what was recorded.
 */
export function toJsonSafe(value: unknown, depth = 0): JsonValue | undefined {
  switch (typeof value) {
    case 'string':
      return value.length <= MAX_STRING ? value : `${value.slice(0, MAX_STRING - 1)}…`;
    case 'number':
      return Number.isFinite(value) ? value : null;
    case 'boolean':
      return value;
    case 'bigint':
      return value.toString();
    case 'object': {
      if (value === null) return null;
      if (depth >= MAX_DEPTH) return '[…]';
      if (Array.isArray(value)) {
        return value.slice(0, MAX_KEYS).map((item) => toJsonSafe(item, depth + 1) ?? null);
      }
      if (value instanceof Date) return Number.isNaN(value.getTime()) ? null : value.toISOString();
      return toJsonObject(value, depth);
    }
    default:
      return undefined;
  }
}

/** The object's own enumerable fields as a JSON object (see toJsonSafe), minus `omit`. */
export function toJsonObject(value: object, depth = 0, omit?: string): Record<string, JsonValue> {
  const out: Record<string, JsonValue> = {};
  let count = 0;
  for (const [key, field] of Object.entries(value)) {
    if (key === omit) continue;
    if (count++ >= MAX_KEYS) break;
    const safe = toJsonSafe(field, depth + 1);
    if (safe !== undefined) out[key] = safe;
  }
  return out;
}

/**
 * The fields that differ between two JSON-safe objects (shallow: a changed nested value is reported as
 * a whole), or null when nothing changed. A field that appears or disappears has null on its other side.
 */
export function diffObjects(before: Record<string, JsonValue>, after: Record<string, JsonValue>): Record<string, ContextChange> | null {
  let diff: Record<string, ContextChange> | null = null;
  for (const key of new Set([...Object.keys(before), ...Object.keys(after)])) {
    const from = before[key] ?? null;
    const to = after[key] ?? null;
    if (sameJson(from, to)) continue;
    diff ??= {};
    diff[key] = { from, to };
  }
  return diff;
}

function sameJson(a: JsonValue, b: JsonValue): boolean {
  if (a === b) return true;
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null) return false;
  return JSON.stringify(a) === JSON.stringify(b);
}

/** A state value as a dotted path: `"queued"`, `{ checks: "running" }` → `"checks.running"`. */
export function statePath(value: unknown): string {
  if (typeof value === 'string') return value;
  if (typeof value !== 'object' || value === null) return '';
  const parts: string[] = [];
  for (const [key, child] of Object.entries(value)) {
    const rest = statePath(child);
    parts.push(rest === '' ? key : `${key}.${rest}`);
  }
  // Parallel regions (none in the job machine) are listed side by side.
  return parts.join(',');
}
