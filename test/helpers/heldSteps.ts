import type { StepStatus } from '../../actors/jobTransitions.js';
import type { StepContext, StepHandler, StepHandlers } from '../../src/jobs/stepHandlers.js';
import { goalDrivenHandlers } from './jobRuntimeHarness.js';

/** A step a job has entered and that waits until the test lets it go. */
export interface HeldStep {
  jobId: string;
  step: StepStatus;
  iteration: number;
  /** Lets the step run (the wrapped handler then decides its outcome). */
  release(): void;
}

export interface HeldSteps {
  /** Step handlers: a job whose goal contains `hold` stops at the start of every step until released. */
  handlers: StepHandlers;
  /** The next step this job enters, in order, once it has entered it. */
  next(jobId: string): Promise<HeldStep>;
  /** Lets every held step go and holds nothing from now on (teardown, so shutdown needs no grace). */
  releaseAll(): void;
}

/**
 * Step handlers that put a job's progress in the test's hands, so that "the middle of a job" is a
 * deterministic place rather than a moment. Once released, a step does what `inner` says (by default the
 * goal-driven handlers: `fail-checks:N`, `fail-step:code` …). A held step honours its abort signal
 * (cancel, shutdown) like a real handler would.
 */
export function createHeldSteps(inner: StepHandlers = goalDrivenHandlers()): HeldSteps {
  const entered = new Map<string, HeldStep[]>();
  const waiting = new Map<string, (step: HeldStep) => void>();
  const pending = new Set<() => void>();
  let holding = true;

  const arrive = (held: HeldStep) => {
    const waiter = waiting.get(held.jobId);
    if (waiter) {
      waiting.delete(held.jobId);
      waiter(held);
      return;
    }
    entered.set(held.jobId, [...(entered.get(held.jobId) ?? []), held]);
  };

  const hold = (context: StepContext) =>
    new Promise<void>((resolve, reject) => {
      const onAbort = () => {
        pending.delete(release);
        reject(new Error('aborted while held'));
      };
      const release = () => {
        pending.delete(release);
        context.signal.removeEventListener('abort', onAbort);
        resolve();
      };
      pending.add(release);
      context.signal.addEventListener('abort', onAbort, { once: true });
      arrive({ jobId: context.jobId, step: context.step, iteration: context.iteration, release });
    });

  const wrap =
    (step: StepStatus): StepHandler =>
    async (context) => {
      if (holding && context.goal.includes('hold')) await hold(context);
      return inner[step](context);
    };

  return {
    handlers: { scaffold: wrap('scaffold'), code: wrap('code'), deps: wrap('deps'), checks: wrap('checks') },
    next(jobId) {
      const queued = entered.get(jobId);
      const first = queued?.shift();
      if (first) return Promise.resolve(first);
      if (waiting.has(jobId)) return Promise.reject(new Error(`already waiting for the next step of ${jobId}`));
      return new Promise((resolve) => waiting.set(jobId, resolve));
    },
    releaseAll() {
      holding = false;
      for (const release of [...pending]) release();
    },
  };
}
