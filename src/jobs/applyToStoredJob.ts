import type { JobMachineEvent } from '../../actors/jobLifecycle.machine.js';
import type { JobStatus } from '../../actors/jobTransitions.js';
import type { JobEventRejection } from '../../actors/sendJobEvent.js';
import type { Clock } from '../clock.js';
import type { JobRow } from '../db/jobRows.js';
import type { TierTable } from '../domain/tiers.js';
import { openJobSession, type ActorInspector } from './jobSession.js';
import type { TransitionRecorder } from './transitionRecorder.js';

export interface StoredJobDeps {
  recorder: TransitionRecorder;
  tiers: TierTable;
  clock: Clock;
  inspect?: ActorInspector;
}

export type ApplyResult =
  | { ok: true; status: JobStatus; iteration: number; seq: number }
  /** The machine refused an event: nothing was written. */
  | { ok: false; rejection: JobEventRejection }
  /** PostgreSQL refused (the job moved on since `row` was read): nothing was written. */
  | { ok: false; stale: true };

/**
 * Applies events to a job that no worker is running (confirm, cancel of a queued, scheduled or paused
 * job, the scheduler's release): its actor is opened from the stored snapshot just for this, the
 * transitions are persisted and published, and the actor is dropped again. All events are sent before
 * anything is written, so a refused event writes nothing; the seq check makes a concurrent writer's
 * change win or lose whole.
 */
export async function applyToStoredJob(deps: StoredJobDeps, row: JobRow, events: readonly JobMachineEvent[]): Promise<ApplyResult> {
  const session = openJobSession(row, { tiers: deps.tiers, ...(deps.inspect ? { inspect: deps.inspect } : {}) });
  try {
    for (const event of events) {
      const sent = session.send(event);
      if (!sent.accepted) return { ok: false, rejection: sent.rejection };
    }
    const result = await deps.recorder.record(session.ref, session.takePending(deps.clock.now()));
    await result.published;
    if (!result.applied) return { ok: false, stale: true };
    return { ok: true, status: session.status(), iteration: session.actor.getSnapshot().context.iteration, seq: session.seq };
  } finally {
    session.stop();
  }
}
