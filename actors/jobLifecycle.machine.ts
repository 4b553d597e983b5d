import { assign, createActor, setup, type Actor, type ActorOptions, type ContextFrom, type EventFrom, type SnapshotFrom } from 'xstate';
import { z } from 'zod';
import { decideAfterFailedChecks, type FailedChecksDecision } from './iterationPolicy.js';
import { clipReason, isAllowedTransition, JOB_STATUSES, STAGE_LABELS, type JobStatus } from './jobTransitions.js';

/** Bumped whenever a persisted snapshot of an older machine would no longer restore correctly. */
export const JOB_MACHINE_VERSION = 1;

export const DEFAULT_SCHEDULE_MESSAGE = 'Daily limit reached. Scheduled for tomorrow.';
export const ITERATION_CAP_MESSAGE = 'Hard iteration cap reached';

export const jobInputSchema = z.strictObject({
  jobId: z.string().min(1),
  iterationDepth: z.number().int().positive(),
});
export type JobInput = z.infer<typeof jobInputSchema>;

interface JobContextShape {
  jobId: string;
  iterationDepth: number;
  iteration: number;
  awaitingConfirmation: boolean;
  confirmations: number;
  error: string | null;
  message: string;
}

type JobEventShape =
  | { type: 'SCHEDULE'; message?: string }
  | { type: 'RELEASE' }
  | { type: 'START' }
  | { type: 'BEGIN' }
  | { type: 'STEP_SUCCEEDED' }
  | { type: 'STEP_FAILED'; reason: string }
  | { type: 'CHECKS_PASSED' }
  | { type: 'CHECKS_FAILED'; reason: string }
  | { type: 'CONFIRM'; by: string }
  | { type: 'FAIL'; reason: string };

/**
 * What the host persists for each accepted status change. `from === to === 'checks'` with
 * `awaitingConfirmation: true` is the confirmation pause: not a status change, but durable and visible.
 */
export interface TransitionRecord {
  from: JobStatus;
  to: JobStatus;
  message: string;
  iteration: number;
  awaitingConfirmation: boolean;
}

type ContextPatch = Partial<Omit<JobContextShape, 'jobId' | 'iterationDepth'>>;
type EventOf<T extends JobEventShape['type']> = Extract<JobEventShape, { type: T }>;
type PatchFn<T extends JobEventShape['type']> = (args: { context: JobContextShape; event: EventOf<T> }) => ContextPatch;

const recordAs = (from: JobStatus, to: JobStatus) => ({
  type: 'recordTransition' as const,
  // Runs after updateContext in the same transition, so it sees the new iteration and message.
  params: ({ context }: { context: JobContextShape }): TransitionRecord => ({
    from,
    to,
    message: context.message,
    iteration: context.iteration,
    awaitingConfirmation: context.awaitingConfirmation,
  }),
});

/**
 * The actions of one status change: update the context, then record. The pair is checked against
 * ALLOWED_TRANSITIONS when this module loads, so the machine cannot declare a move the table forbids.
 */
function enter<T extends JobEventShape['type'] = JobEventShape['type']>(from: JobStatus, to: JobStatus, patch?: PatchFn<T>) {
  if (!isAllowedTransition(from, to)) throw new Error(`jobLifecycle: ${from} → ${to} is not in ALLOWED_TRANSITIONS`);
  const update = {
    type: 'updateContext' as const,
    params: (args: { context: JobContextShape; event: EventOf<T> }): ContextPatch => ({
      message: STAGE_LABELS[to],
      awaitingConfirmation: false,
      ...patch?.(args),
    }),
  };
  return [update, recordAs(from, to)];
}

/** A failure that carries its reason (step failure, cancel, max age). */
function failWithReason(from: JobStatus) {
  return {
    target: '#job.failed',
    actions: enter<'STEP_FAILED' | 'FAIL'>(from, 'failed', ({ event }) => {
      const reason = clipReason(event.reason);
      return { message: reason, error: reason };
    }),
  };
}

const afterFailedChecks = (decision: FailedChecksDecision) => ({ type: 'afterFailedChecks' as const, params: { decision } });

/**
 * The job lifecycle (SPEC §2) as a pure statechart: the runtime does the step work and sends its outcome
 * as an event; persistence is the injected `recordTransition` action (`machine.provide(...)`).
 */
export const jobLifecycleMachine = setup({
  types: { context: {} as JobContextShape, events: {} as JobEventShape, input: {} as JobInput },
  guards: {
    afterFailedChecks: ({ context }, params: { decision: FailedChecksDecision }) =>
      decideAfterFailedChecks(context) === params.decision,
  },
  actions: {
    updateContext: assign((_, patch: ContextPatch) => patch),
    /** Placeholder: the host provides the real one (persist + publish). */
    recordTransition: (_, _record: TransitionRecord) => {},
  },
}).createMachine({
  id: 'job',
  initial: 'queued',
  // Input is parsed by createJobActor: a throw here would leave an actor in error status instead.
  context: ({ input }) => ({
    ...input,
    iteration: 0,
    awaitingConfirmation: false,
    confirmations: 0,
    error: null,
    message: STAGE_LABELS.queued,
  }),
  states: {
    queued: {
      on: {
        START: { target: 'starting', actions: enter('queued', 'starting') },
        SCHEDULE: {
          target: 'scheduled',
          actions: enter<'SCHEDULE'>('queued', 'scheduled', ({ event }) => ({
            message: clipReason(event.message ?? DEFAULT_SCHEDULE_MESSAGE),
          })),
        },
        FAIL: failWithReason('queued'),
      },
    },
    scheduled: {
      // Cancelled while it waits for the next day: straight to failed (SPEC §2), never through queued.
      on: { RELEASE: { target: 'queued', actions: enter('scheduled', 'queued') }, FAIL: failWithReason('scheduled') },
    },
    starting: {
      on: {
        BEGIN: { target: 'scaffold', actions: enter('starting', 'scaffold') },
        STEP_FAILED: failWithReason('starting'),
        FAIL: failWithReason('starting'),
      },
    },
    scaffold: {
      on: {
        STEP_SUCCEEDED: { target: 'code', actions: enter('scaffold', 'code') },
        STEP_FAILED: failWithReason('scaffold'),
        FAIL: failWithReason('scaffold'),
      },
    },
    code: {
      on: {
        STEP_SUCCEEDED: { target: 'deps', actions: enter('code', 'deps') },
        STEP_FAILED: failWithReason('code'),
        FAIL: failWithReason('code'),
      },
    },
    deps: {
      on: {
        STEP_SUCCEEDED: { target: 'checks', actions: enter('deps', 'checks') },
        STEP_FAILED: failWithReason('deps'),
        FAIL: failWithReason('deps'),
      },
    },
    checks: {
      initial: 'running',
      on: { FAIL: failWithReason('checks') },
      states: {
        running: {
          on: {
            CHECKS_PASSED: { target: '#job.ready', actions: enter('checks', 'ready') },
            STEP_FAILED: failWithReason('checks'),
            CHECKS_FAILED: [
              {
                guard: afterFailedChecks('retry'),
                target: '#job.scaffold',
                actions: enter<'CHECKS_FAILED'>('checks', 'scaffold', ({ context, event }) => ({
                  iteration: context.iteration + 1,
                  message: clipReason(`Checks failed, retrying (iteration ${context.iteration + 1}): ${event.reason}`),
                })),
              },
              {
                guard: afterFailedChecks('await_confirmation'),
                target: 'awaitingConfirmation',
                actions: [
                  {
                    type: 'updateContext',
                    params: ({ context }) => ({
                      awaitingConfirmation: true,
                      message: `Awaiting confirmation to continue (iteration ${context.iteration})`,
                    }),
                  },
                  recordAs('checks', 'checks'),
                ],
              },
              {
                guard: afterFailedChecks('cap'),
                target: '#job.failed',
                actions: enter('checks', 'failed', () => ({ message: ITERATION_CAP_MESSAGE, error: ITERATION_CAP_MESSAGE })),
              },
            ],
          },
        },
        awaitingConfirmation: {
          on: {
            CONFIRM: {
              target: '#job.scaffold',
              actions: enter<'CONFIRM'>('checks', 'scaffold', ({ context, event }) => ({
                iteration: context.iteration + 1,
                confirmations: context.confirmations + 1,
                message: clipReason(`Confirmed by ${event.by}`),
              })),
            },
          },
        },
      },
    },
    ready: { type: 'final' },
    failed: { type: 'final' },
  },
});

export type JobLifecycleMachine = typeof jobLifecycleMachine;
export type JobSnapshot = SnapshotFrom<JobLifecycleMachine>;
export type JobMachineEvent = EventFrom<JobLifecycleMachine>;
export type JobContext = ContextFrom<JobLifecycleMachine>;
export type JobActor = Actor<JobLifecycleMachine>;

/** The status (one of the nine) a snapshot is in; `checks.*` substates are `checks`. */
export function jobStatusOf(snapshot: JobSnapshot): JobStatus {
  // Each status is a top-level state, so the status is the value's (only) top-level key. Read directly:
  // matches() per status allocated more than anything else per transition in the bench's heap profile.
  const value: unknown = snapshot.value;
  const top = typeof value === 'string' ? value : value !== null && typeof value === 'object' ? Object.keys(value)[0] : undefined;
  const status = JOB_STATUSES.find((s) => s === top);
  if (status === undefined) throw new Error(`jobLifecycle: no status matches ${JSON.stringify(snapshot.value)}`);
  return status;
}

/** A new (not started) job actor; the input is parsed first so a bad depth throws here, not inside XState. */
export function createJobActor(
  machine: JobLifecycleMachine,
  input: JobInput,
  options: Omit<ActorOptions<JobLifecycleMachine>, 'snapshot' | 'input'> = {},
): JobActor {
  return createActor(machine, { ...options, input: jobInputSchema.parse(input) });
}
