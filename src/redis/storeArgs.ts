/**
 * Argument checks shared by the stores. Numbers go into Lua scripts as strings, where NaN or a fraction
 * would be misread silently, so they are checked before they leave the process.
 */
export function assertCount(name: string, value: number, min = 0): void {
  if (!Number.isSafeInteger(value) || value < min) {
    throw new RangeError(`${name} must be an integer ≥ ${min}, got ${value}`);
  }
}

export function assertId(name: string, value: string): void {
  if (value.length === 0) throw new RangeError(`${name} must not be empty`);
}

/** A limit that may be -1 for unlimited. */
export function assertLimit(name: string, value: number): void {
  if (value !== -1) assertCount(name, value);
}

/** A queue score handed back by a caller (putBack): a safe integer, so it round-trips exactly. */
export function assertQueueScore(score: number): void {
  if (!Number.isSafeInteger(score) || score < 0) throw new RangeError(`queue score must be a safe integer ≥ 0, got ${score}`);
}
