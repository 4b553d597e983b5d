import type { ActorOptions } from 'xstate';
import {
  createJobActor,
  jobLifecycleMachine,
  jobStatusOf,
  type JobActor,
  type JobMachineEvent,
  type JobLifecycleMachine,
  type TransitionRecord,
} from '../../actors/jobLifecycle.machine.js';
import { persistJobSnapshot, restoreJobActor, type PersistedJobSnapshot } from '../../actors/jobSnapshot.js';
import type { JobStatus } from '../../actors/jobTransitions.js';
import { sendJobEvent, type SendJobEventResult } from '../../actors/sendJobEvent.js';
import type { JobRow } from '../db/jobRows.js';
import { resolveTier, type TierTable } from '../domain/tiers.js';
import { WardenError } from '../errors.js';

/** Who a job is: what every part of the runtime needs besides its id. Fixed when the job is submitted. */
export interface JobRef {
  jobId: string;
  ownerId: string;
  projectId: string;
  tier: string;
}

/** One accepted transition, numbered and ready to persist: the machine's record and what the host adds. */
export interface PendingTransition {
  seq: number;
  record: TransitionRecord;
  /** When it happened (ms). */
  at: number;
  /** The actor's snapshot after this transition; on the last record of a batch only. */
  snapshot?: PersistedJobSnapshot;
}

export type ActorInspector = ActorOptions<JobLifecycleMachine>['inspect'];

/**
 * One job's actor, opened from its stored row for as long as one host works on it (a worker running its
 * steps, or a confirm/cancel/release applied to a stored job). The actor's `recordTransition` collects
 * records here; the host numbers them (takePending) and hands them to the TransitionRecorder. A session
 * holds no lease: the PostgreSQL seq check decides whose write counts.
 */
export interface JobSession {
  readonly ref: JobRef;
  readonly actor: JobActor;
  /** Seq of the last transition taken for persisting (the stored seq when opened). */
  readonly seq: number;
  status(): JobStatus;
  send(event: JobMachineEvent): SendJobEventResult;
  /** The records of events accepted since the last call, numbered from seq + 1, the snapshot on the last. */
  takePending(at: number): PendingTransition[];
  stop(): void;
}

/** Where each open actor's records go: keyed by the actor itself (XState hands it to actions as `self`). */
const sinks = new WeakMap<object, TransitionRecord[]>();

/**
 * The machine with the runtime's recordTransition, built once: providing it per actor would rebuild the
 * whole state node tree each time, which showed up as the top XState cost in the bench profile.
 */
const runtimeMachine: JobLifecycleMachine = jobLifecycleMachine.provide({
  actions: {
    recordTransition: ({ self }, record) => {
      const sink = sinks.get(self);
      // Never silently: a transition without a sink would be accepted by the actor but never persisted.
      if (!sink) throw new Error('job actor has no transition sink');
      sink.push(record);
    },
  },
});

/**
 * Opens a job's actor from its row: restored from the stored snapshot (checked before XState sees it:
 * UNKNOWN_MACHINE_VERSION, INVALID_SNAPSHOT), or created fresh for a queued job stored without one. A
 * snapshot that disagrees with its row (status, iteration, pause) is refused as INVALID_SNAPSHOT too.
 */
export function openJobSession(row: JobRow, options: { tiers: TierTable; inspect?: ActorInspector }): JobSession {
  const sink: TransitionRecord[] = [];
  const actorOptions = options.inspect ? { inspect: options.inspect } : {};
  let actor: JobActor;
  if (row.snapshot === null || row.machineVersion === null) {
    if (row.status !== 'queued' || row.seq !== 1) {
      throw new WardenError('INVALID_SNAPSHOT', 'job has no snapshot to restore', {
        jobId: row.id,
        issues: [`status ${row.status} at seq ${row.seq} without a snapshot`],
      });
    }
    const iterationDepth = resolveTier(options.tiers, row.tier).iterationDepth;
    actor = createJobActor(runtimeMachine, { jobId: row.id, iterationDepth }, actorOptions);
    sinks.set(actor, sink);
    actor.start();
  } else {
    // Starting a restored actor runs no action, so the sink can be attached after restoreJobActor starts it.
    actor = restoreJobActor(runtimeMachine, { version: row.machineVersion, snapshot: row.snapshot }, actorOptions);
    sinks.set(actor, sink);
    checkAgainstRow(actor, row);
  }
  let seq = row.seq;
  return {
    ref: { jobId: row.id, ownerId: row.ownerId, projectId: row.projectId, tier: row.tier },
    actor,
    get seq() {
      return seq;
    },
    status: () => jobStatusOf(actor.getSnapshot()),
    send: (event) => sendJobEvent(actor, event),
    takePending(at) {
      const records = sink.splice(0);
      const pending = records.map((record): PendingTransition => ({ seq: ++seq, record, at }));
      const last = pending.at(-1);
      if (last) last.snapshot = persistJobSnapshot(actor);
      return pending;
    },
    stop: () => actor.stop(),
  };
}

function checkAgainstRow(actor: JobActor, row: JobRow): void {
  const snapshot = actor.getSnapshot();
  const issues: string[] = [];
  const status = jobStatusOf(snapshot);
  if (snapshot.context.jobId !== row.id) issues.push(`context.jobId ${snapshot.context.jobId} is not ${row.id}`);
  if (status !== row.status) issues.push(`snapshot status ${status} is not the stored ${row.status}`);
  if (snapshot.context.iteration !== row.iteration) issues.push(`snapshot iteration ${snapshot.context.iteration} is not ${row.iteration}`);
  if (snapshot.context.awaitingConfirmation !== row.awaitingConfirmation) issues.push('awaitingConfirmation differs from the row');
  if (issues.length === 0) return;
  actor.stop();
  throw new WardenError('INVALID_SNAPSHOT', 'job snapshot does not match its row', { jobId: row.id, issues });
}
