import { WardenError } from '../src/errors.js';
import { jobStatusOf, type JobActor, type JobMachineEvent, type JobSnapshot } from './jobLifecycle.machine.js';
import type { JobStatus } from './jobTransitions.js';

/** Why an event was refused; stable codes shared with WardenError. */
export interface JobEventRejection {
  code: 'INVALID_TRANSITION' | 'NOT_AWAITING_CONFIRMATION';
  from: JobStatus;
  event: JobMachineEvent['type'];
  reason: string;
}

export type SendJobEventResult =
  | { accepted: true; snapshot: JobSnapshot }
  | { accepted: false; rejection: JobEventRejection };

/**
 * Sends an event only if the current state can take it. XState silently ignores an event the state does
 * not handle, so `can()` is asked first: a refused event changes nothing, records nothing, and is
 * answered with a typed rejection instead of a throw. The actor must be started (an unstarted actor
 * queues events until start).
 */
export function sendJobEvent(actor: JobActor, event: JobMachineEvent): SendJobEventResult {
  const before = actor.getSnapshot();
  if (before.status !== 'active' || !before.can(event)) {
    return { accepted: false, rejection: rejectionFor(before, event) };
  }
  actor.send(event);
  return { accepted: true, snapshot: actor.getSnapshot() };
}

function rejectionFor(snapshot: JobSnapshot, event: JobMachineEvent): JobEventRejection {
  const from = jobStatusOf(snapshot);
  if (event.type === 'CONFIRM' && !snapshot.context.awaitingConfirmation) {
    return { code: 'NOT_AWAITING_CONFIRMATION', from, event: event.type, reason: `job is ${from}, not awaiting confirmation` };
  }
  const reason = snapshot.status === 'done' ? `job is ${from}: terminal` : `${event.type} is not allowed in ${from}`;
  return { code: 'INVALID_TRANSITION', from, event: event.type, reason };
}

/** The rejection as the WardenError the API layer throws. */
export function rejectionToError(rejection: JobEventRejection, jobId: string): WardenError {
  if (rejection.code === 'NOT_AWAITING_CONFIRMATION') {
    return new WardenError('NOT_AWAITING_CONFIRMATION', rejection.reason, { jobId, status: rejection.from });
  }
  return new WardenError('INVALID_TRANSITION', rejection.reason, {
    jobId,
    from: rejection.from,
    event: rejection.event,
    reason: rejection.reason,
  });
}
