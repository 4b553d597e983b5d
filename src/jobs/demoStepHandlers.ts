import { setTimeout as sleep } from 'node:timers/promises';
import { STEP_STATUSES, type StepStatus } from '../../actors/jobTransitions.js';
import type { StepHandler, StepHandlers } from './stepHandlers.js';

export interface DemoStepOptions {
  /** How long each step takes (WARDEN_STEP_MS). 0 runs steps back to back. */
  stepMs: number;
  /** Probability that a checks step fails (WARDEN_CHECKS_FAIL_RATE), driving the retry loop. */
  checksFailRate: number;
  /** Injected so tests can make failures deterministic. */
  random?: () => number;
}

/**
 * Handlers that do nothing but take time and sometimes fail checks, so a fresh server runs real jobs
 * through the whole lifecycle without any host code.
 */
export function createDemoStepHandlers(options: DemoStepOptions): StepHandlers {
  const random = options.random ?? Math.random;
  const wait = async (signal: AbortSignal) => {
    if (options.stepMs > 0) await sleep(options.stepMs, undefined, { signal });
  };
  const make = (step: StepStatus): StepHandler =>
    async ({ signal }) => {
      await wait(signal);
      if (step === 'checks' && random() < options.checksFailRate) {
        return { ok: false, reason: 'Demo checks failed (WARDEN_CHECKS_FAIL_RATE)' };
      }
      return { ok: true };
    };
  return Object.fromEntries(STEP_STATUSES.map((s) => [s, make(s)])) as StepHandlers;
}
