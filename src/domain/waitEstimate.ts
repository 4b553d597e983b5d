/**
 * The wait-time estimator's pure rules (SPEC §3). The stores keep one moving average per tier; these
 * functions turn it into what a user sees.
 */

/** Weight of the newest duration in the moving average: new = 0.3 × duration + 0.7 × old. */
export const EMA_WEIGHT = 0.3;
/** The range shown around an estimate: ±30 %. */
export const ESTIMATE_SPREAD = 0.3;
/** Positions below this get "medium" confidence, the rest "low". */
export const MEDIUM_CONFIDENCE_BELOW = 10;

export type EstimateConfidence = 'medium' | 'low';

export interface WaitEstimate {
  /** The estimate in whole seconds. */
  seconds: number;
  /** 70 % of the estimate, whole seconds. */
  low: number;
  /** 130 % of the estimate, whole seconds. */
  high: number;
  confidence: EstimateConfidence;
  /** The estimate as a human string, e.g. "12 minutes". */
  text: string;
  /** The range as a human string, e.g. "8 minutes – 16 minutes". */
  rangeText: string;
}

/**
 * The next moving average after a job of `durationSeconds`. The Redis script computes the same
 * expression in the same order (weight, then 1 − weight), so both stores give bit-identical averages.
 */
export function nextAverage(previousSeconds: number, durationSeconds: number, weight = EMA_WEIGHT): number {
  assertSeconds('previous average', previousSeconds);
  assertSeconds('duration', durationSeconds);
  return weight * durationSeconds + (1 - weight) * previousSeconds;
}

/**
 * estimate = average × position / max(workers, 1), shown as ±30 % with a confidence. Seconds are rounded
 * to whole seconds after the range is computed, so low ≤ seconds ≤ high always holds.
 *
 * `idle` runners (default 0) take the first jobs in the queue now: those positions wait ~0, and the rest
 * wait as if the queue started after them — a position-1 job on an idle server is not "3 minutes" away.
 */
export function estimateWait(input: { averageSeconds: number; position: number; workers: number; idle?: number }): WaitEstimate {
  const { averageSeconds, position, workers } = input;
  const idle = input.idle ?? 0;
  assertSeconds('average', averageSeconds);
  if (!Number.isInteger(position) || position < 0) throw new RangeError(`position must be an integer ≥ 0, got ${position}`);
  if (!Number.isFinite(workers)) throw new RangeError(`workers must be finite, got ${workers}`);
  if (!Number.isInteger(idle) || idle < 0) throw new RangeError(`idle must be an integer ≥ 0, got ${idle}`);
  const raw = (averageSeconds * Math.max(0, position - idle)) / Math.max(workers, 1);
  const seconds = Math.round(raw);
  const low = Math.round(raw * (1 - ESTIMATE_SPREAD));
  const high = Math.round(raw * (1 + ESTIMATE_SPREAD));
  return {
    seconds,
    low,
    high,
    confidence: position < MEDIUM_CONFIDENCE_BELOW ? 'medium' : 'low',
    text: humanDuration(seconds),
    rangeText: `${humanDuration(low)} – ${humanDuration(high)}`,
  };
}

/**
 * A duration as people say it: "45 seconds", "1 second", "1 minute", "12 minutes", "1h 5m", "2h".
 *
 * Rounding: under a minute (after rounding to whole seconds) it is whole seconds, half up. From 60 s on it
 * is whole minutes, rounded half up (89 s → "1 minute", 90 s → "2 minutes"), and from 60 minutes on
 * hours and the remaining minutes ("1h 5m"; "2h" when the minutes round to zero). 59.6 s is therefore
 * "1 minute", not "60 seconds", and 3,570 s is "1h".
 */
export function humanDuration(seconds: number): string {
  assertSeconds('duration', seconds);
  const wholeSeconds = Math.round(seconds);
  if (wholeSeconds < 60) return `${wholeSeconds} ${wholeSeconds === 1 ? 'second' : 'seconds'}`;
  const minutes = Math.round(seconds / 60);
  if (minutes < 60) return `${minutes} ${minutes === 1 ? 'minute' : 'minutes'}`;
  const hours = Math.floor(minutes / 60);
  const rest = minutes % 60;
  return rest === 0 ? `${hours}h` : `${hours}h ${rest}m`;
}

/**
 * When a refused submit (queue full) should try again, in whole minutes: the time until one queued job
 * is expected to leave the queue (average ÷ workers), at least one minute.
 */
export function queueRetryAfterMinutes(input: { averageSeconds: number; workers: number }): number {
  assertSeconds('average', input.averageSeconds);
  return Math.max(1, Math.ceil(input.averageSeconds / Math.max(input.workers, 1) / 60));
}

function assertSeconds(name: string, value: number): void {
  if (!Number.isFinite(value) || value < 0) throw new RangeError(`${name} must be a finite number ≥ 0, got ${value}`);
}
