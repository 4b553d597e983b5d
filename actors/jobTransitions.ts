/**
 * The job status table (SPEC §2). The statechart, the Redis transition script's caller and every
 * validator read it from here, so there is exactly one copy of the rules.
 */
export const JOB_STATUSES = [
  'queued',
  'scheduled',
  'starting',
  'scaffold',
  'code',
  'deps',
  'checks',
  'ready',
  'failed',
] as const;

export type JobStatus = (typeof JOB_STATUSES)[number];

export const ALLOWED_TRANSITIONS: Readonly<Record<JobStatus, readonly JobStatus[]>> = {
  queued: ['starting', 'scheduled', 'failed'],
  scheduled: ['queued', 'failed'],
  starting: ['scaffold', 'failed'],
  scaffold: ['code', 'failed'],
  code: ['deps', 'failed'],
  deps: ['checks', 'failed'],
  checks: ['ready', 'scaffold', 'failed'],
  ready: [],
  failed: [],
};

export const STAGE_LABELS: Readonly<Record<JobStatus, string>> = {
  queued: 'Queued…',
  scheduled: 'Scheduled',
  starting: 'Starting…',
  scaffold: 'Scaffolding workspace…',
  code: 'Writing code…',
  deps: 'Installing dependencies…',
  checks: 'Running checks…',
  ready: 'Build complete!',
  failed: 'Build failed',
};

export const TERMINAL_STATUSES: readonly JobStatus[] = ['ready', 'failed'];

/** The statuses in which step work runs; a step handler is registered for each. */
export const STEP_STATUSES = ['scaffold', 'code', 'deps', 'checks'] as const;
export type StepStatus = (typeof STEP_STATUSES)[number];

export function isJobStatus(value: string): value is JobStatus {
  return (JOB_STATUSES as readonly string[]).includes(value);
}

export function isTerminal(status: JobStatus): boolean {
  return TERMINAL_STATUSES.includes(status);
}

export function isAllowedTransition(from: JobStatus, to: JobStatus): boolean {
  return ALLOWED_TRANSITIONS[from].includes(to);
}

/** Failure reasons are kept to at most 200 characters (SPEC §2). */
export const MAX_REASON_LENGTH = 200;

export function clipReason(reason: string): string {
  return reason.length <= MAX_REASON_LENGTH ? reason : `${reason.slice(0, MAX_REASON_LENGTH - 1)}…`;
}
