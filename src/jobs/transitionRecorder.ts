import type { TransitionOutcome, TransitionRecord as StoredRecord } from '../db/recordTransitions.js';
import type { JobsRepository } from '../db/jobsRepository.js';
import type { WardenMetrics } from '../metrics.js';
import { createGroupCommitter } from './groupCommitter.js';
import type { JobRef, PendingTransition } from './jobSession.js';
import type { TransitionPublisher } from './transitionPublisher.js';

export type RecordResult = (
  | { applied: true }
  /** PostgreSQL refused a transition (another writer moved the job on); it and those after it are not published. */
  | { applied: false; appliedCount: number; refusal: Extract<TransitionOutcome, { applied: false }> }
) & {
  /** Resolves once the applied transitions are published (after every earlier one of the job); never rejects. */
  published: Promise<void>;
};

/**
 * Persist, then publish (SPEC §2, issue 3 item 3). One job's transitions go to the group committer
 * together, so they share a batch with every other job's transitions of the moment (one round trip);
 * `record` resolves once that batch has committed: a transition is acknowledged only when it is durable.
 * Its publication follows on the job's own chain, in seq order, so a runner may start its next step
 * while the event is on its way (it awaits `published` before it lets go of the job). A transition
 * PostgreSQL refuses is never published.
 */
export interface TransitionRecorder {
  record(ref: JobRef, transitions: readonly PendingTransition[]): Promise<RecordResult>;
  /** Resolves once everything submitted so far is committed and published. */
  drain(): Promise<void>;
}

export function createTransitionRecorder(options: {
  jobs: Pick<JobsRepository, 'recordTransitions'>;
  publisher: TransitionPublisher;
  metrics?: Pick<WardenMetrics, 'transitions'>;
  /** Jobs per batch (default 500). */
  maxBatch?: number;
  /** Batches in flight at once (default 2): a record waits for a free lane, not for the batch ahead of it. */
  concurrency?: number;
  /** A publish failed (Redis unreachable): reported here, never thrown at the runner. */
  onPublishError?: (error: unknown, context: { jobId: string; seq: number }) => void;
}): TransitionRecorder {
  const { publisher, metrics } = options;
  const onPublishError = options.onPublishError ?? ((error: unknown) => process.emitWarning(`transition publish: ${String(error)}`));
  // One item per job: a job's transitions always share a batch, so batches may run side by side (a
  // runner awaits its item before it submits the next one, so no job has two items in flight).
  const committer = createGroupCommitter<StoredRecord[], TransitionOutcome[]>(
    async (groups) => {
      const outcomes = await options.jobs.recordTransitions(groups.flat());
      let at = 0;
      return groups.map((group) => outcomes.slice(at, (at += group.length)));
    },
    { maxBatch: options.maxBatch ?? 500, concurrency: options.concurrency ?? 2 },
  );
  /** Per job, the publication in progress: the next one starts after it, so events keep seq order. */
  const chains = new Map<string, Promise<void>>();
  const publishInOrder = (ref: JobRef, transitions: readonly PendingTransition[]): Promise<void> => {
    if (transitions.length === 0) return chains.get(ref.jobId) ?? Promise.resolve();
    const previous = chains.get(ref.jobId) ?? Promise.resolve();
    const next = previous.then(async () => {
      for (const t of transitions) {
        const { from, to, message, iteration } = t.record;
        try {
          await publisher.publish(ref, { seq: t.seq, from, to, message, iteration, at: t.at });
        } catch (error) {
          // Durable already; the job's next publish catches the hot copy up from the log.
          onPublishError(error, { jobId: ref.jobId, seq: t.seq });
        }
      }
    });
    chains.set(ref.jobId, next);
    void next.finally(() => {
      if (chains.get(ref.jobId) === next) chains.delete(ref.jobId);
    });
    return next;
  };

  return {
    async record(ref, transitions) {
      const outcomes = transitions.length === 0 ? [] : await committer.submit(transitions.map((t) => toStored(ref, t)));
      const applied: PendingTransition[] = [];
      let refusal: Extract<TransitionOutcome, { applied: false }> | null = null;
      for (const [i, t] of transitions.entries()) {
        const outcome = outcomes[i];
        if (outcome === undefined) throw new Error('transition recorder: an outcome is missing');
        if (!outcome.applied) {
          refusal = outcome;
          break;
        }
        metrics?.transitions.inc({ from: t.record.from, to: t.record.to });
        applied.push(t);
      }
      const published = publishInOrder(ref, applied);
      if (refusal) return { applied: false, appliedCount: applied.length, refusal, published };
      return { applied: true, published };
    },
    async drain() {
      await committer.drain();
      await Promise.all([...chains.values()]);
    },
  };
}

function toStored(ref: JobRef, t: PendingTransition): StoredRecord {
  const { record } = t;
  return {
    jobId: ref.jobId,
    seq: t.seq,
    fromStatus: record.from,
    toStatus: record.to,
    message: record.message,
    iteration: record.iteration,
    at: t.at,
    awaitingConfirmation: record.awaitingConfirmation,
    // A failure's message is its reason (the machine clips it to 200 characters).
    ...(record.to === 'failed' ? { error: record.message } : {}),
    ...(t.snapshot ? { snapshot: t.snapshot.snapshot, machineVersion: t.snapshot.version } : {}),
    // A job that leaves `scheduled` is no longer due anywhere.
    ...(record.from === 'scheduled' ? { scheduledFor: null } : {}),
  };
}
