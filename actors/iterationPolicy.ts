import { hardIterationCap } from '../src/domain/tiers.js';

/** What the job does when its checks fail (SPEC §2, retry loop). */
export type FailedChecksDecision = 'retry' | 'await_confirmation' | 'cap';

export interface IterationState {
  /** Iterations done so far: how many times the job went back from checks to scaffold. */
  iteration: number;
  iterationDepth: number;
  /** How many confirmation boundaries the owner has already granted. */
  confirmations: number;
}

/** A boundary needs the owner's confirmation: `count > 0 && count % depth == 0` (SPEC §2). */
export function needsConfirmation(count: number, depth: number): boolean {
  return count > 0 && count % depth === 0;
}

/**
 * The decision after failed checks with count n = `iteration`: at the hard cap (3 × depth) the job fails;
 * at an unconfirmed boundary it pauses; otherwise it retries with n + 1. The confirmation count makes the
 * pause happen once per boundary even if the same count is seen again (e.g. after a restore).
 */
export function decideAfterFailedChecks({ iteration, iterationDepth, confirmations }: IterationState): FailedChecksDecision {
  if (iteration >= hardIterationCap({ iterationDepth })) return 'cap';
  const boundary = iteration / iterationDepth;
  if (needsConfirmation(iteration, iterationDepth) && confirmations < boundary) return 'await_confirmation';
  return 'retry';
}
