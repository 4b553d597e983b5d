import { createActor } from 'xstate';
import {
  createJobActor,
  jobLifecycleMachine,
  type JobActor,
  type JobMachineEvent,
  type TransitionRecord,
} from '../../actors/jobLifecycle.machine.js';
import { isAllowedTransition } from '../../actors/jobTransitions.js';

/** One event of each type; the set a walk or a probe tries in every state. */
export const EVENT_CATALOGUE: readonly JobMachineEvent[] = [
  { type: 'SCHEDULE' },
  { type: 'RELEASE' },
  { type: 'START' },
  { type: 'BEGIN' },
  { type: 'STEP_SUCCEEDED' },
  { type: 'STEP_FAILED', reason: 'step broke' },
  { type: 'CHECKS_PASSED' },
  { type: 'CHECKS_FAILED', reason: 'tests red' },
  { type: 'CONFIRM', by: 'owner-1' },
  { type: 'FAIL', reason: 'cancelled' },
];

/** Events from a fresh job to the start of checks. */
export const TO_CHECKS: readonly JobMachineEvent[] = [
  { type: 'START' },
  { type: 'BEGIN' },
  { type: 'STEP_SUCCEEDED' },
  { type: 'STEP_SUCCEEDED' },
  { type: 'STEP_SUCCEEDED' },
];

export interface JobHarness {
  actor: JobActor;
  records: TransitionRecord[];
}

/** The machine with a recordTransition that collects into `records`. */
export function recordingMachine(records: TransitionRecord[]) {
  return jobLifecycleMachine.provide({
    actions: {
      recordTransition: (_, record) => {
        records.push(record);
      },
    },
  });
}

/** A started job actor whose recordTransition collects into `records`. */
export function startJob(iterationDepth = 2, jobId = 'job-1'): JobHarness {
  const records: TransitionRecord[] = [];
  const actor = createJobActor(recordingMachine(records), { jobId, iterationDepth }).start();
  return { actor, records };
}

/** A new started actor in the same state as `actor`, with its own (empty) records. */
export function forkJob(actor: JobActor): JobHarness {
  const records: TransitionRecord[] = [];
  const snapshot = actor.getPersistedSnapshot();
  const { jobId, iterationDepth } = actor.getSnapshot().context;
  return { actor: createActor(recordingMachine(records), { snapshot, input: { jobId, iterationDepth } }).start(), records };
}

/** Sends events that must all be accepted (test setup); throws on the first one ignored. */
export function drive(actor: JobActor, events: readonly JobMachineEvent[]): void {
  for (const event of events) {
    if (!actor.getSnapshot().can(event)) throw new Error(`setup event ${event.type} refused in ${JSON.stringify(actor.getSnapshot().value)}`);
    actor.send(event);
  }
}

/** The confirmation pause is recorded as checks → checks; every other record must be a table row. */
export function isConfirmationPause(record: TransitionRecord): boolean {
  return record.from === 'checks' && record.to === 'checks' && record.awaitingConfirmation;
}

export function isRecordAllowed(record: TransitionRecord): boolean {
  return isAllowedTransition(record.from, record.to) || isConfirmationPause(record);
}
