import type { StepStatus } from '../../actors/jobTransitions.js';

/** What a step handler is told about the job whose step it runs. */
export interface StepContext {
  jobId: string;
  ownerId: string;
  projectId: string;
  goal: string;
  step: StepStatus;
  /** How many times the job has looped back from checks to scaffold. */
  iteration: number;
  /** Aborted when the job is cancelled or the process hands the job back at shutdown. */
  signal: AbortSignal;
}

/** LLM tokens a step used; they count against the owner's daily token budget (SPEC §4). */
export interface TokenUsage {
  input: number;
  output: number;
}

/**
 * The outcome of one step. For `checks`, `ok: false` means the checks failed (the retry loop decides
 * what happens next); for any other step it fails the job with `reason`.
 */
export type StepResult = { ok: true; tokens?: TokenUsage } | { ok: false; reason: string; tokens?: TokenUsage };

export type StepHandler = (context: StepContext) => Promise<StepResult>;

/** One handler per step status; the host registers them when it creates the runtime. */
export type StepHandlers = Record<StepStatus, StepHandler>;
