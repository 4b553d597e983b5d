/**
 * The one source of time. Everything that reads the time takes a Clock, so that midnight, staleness
 * and lease expiry are tested at exact instants instead of by sleeping.
 */
export interface Clock {
  /** Milliseconds since the Unix epoch. */
  now(): number;
}

export const systemClock: Clock = { now: () => Date.now() };

/** A clock that moves only when told to; for tests. */
export interface ManualClock extends Clock {
  set(ms: number | Date | string): void;
  advance(ms: number): void;
}

export function createManualClock(start: number | Date | string = '2026-01-01T00:00:00Z'): ManualClock {
  let current = toMs(start);
  return {
    now: () => current,
    set: (ms) => {
      current = toMs(ms);
    },
    advance: (ms) => {
      current += ms;
    },
  };
}

function toMs(value: number | Date | string): number {
  if (typeof value === 'number') return value;
  if (value instanceof Date) return value.getTime();
  return Date.parse(value);
}

/** The next UTC midnight strictly after `ms`. */
export function nextUtcMidnight(ms: number): number {
  const d = new Date(ms);
  return Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), d.getUTCDate() + 1);
}

/** The UTC calendar date of `ms` as YYYY-MM-DD; all counters are keyed by it. */
export function utcDate(ms: number): string {
  return new Date(ms).toISOString().slice(0, 10);
}
