/**
 * Queue priority (SPEC §3): score = (1000 − boost) × 1e12 + counter, lowest first. A higher boost gives a
 * lower band, so a higher tier always runs first; inside one band the ever-increasing counter keeps
 * first-in first-out.
 *
 * Bounds: boost ∈ [0, 999] keeps (1000 − boost) ≥ 1, so bands never overlap or go negative; a counter
 * below 1e12 stays inside its band; the largest score, 1000 × 1e12 + (1e12 − 1) ≈ 1.001e15, is far below
 * 2^53 ≈ 9.007e15, so every score is an exact integer in a double (and in Redis' sorted-set scores).
 */
export const QUEUE_BAND_WIDTH = 1e12;
export const MAX_QUEUE_BOOST = 999;
/** The largest counter that still sorts inside its tier's band. */
export const MAX_QUEUE_COUNTER = QUEUE_BAND_WIDTH - 1;

/** The score of the `counter`-th enqueued job with this boost. */
export function queueScore(boost: number, counter: number): number {
  if (!Number.isInteger(boost) || boost < 0 || boost > MAX_QUEUE_BOOST) {
    throw new RangeError(`queue boost must be an integer in [0, ${MAX_QUEUE_BOOST}], got ${boost}`);
  }
  if (!Number.isInteger(counter) || counter < 0 || counter > MAX_QUEUE_COUNTER) {
    throw new RangeError(`queue counter must be an integer in [0, ${MAX_QUEUE_COUNTER}], got ${counter}`);
  }
  return (1000 - boost) * QUEUE_BAND_WIDTH + counter;
}

/** The lowest score of a boost's band (counter 0); the queue script adds the counter to it. */
export function queueBandBase(boost: number): number {
  return queueScore(boost, 0);
}
