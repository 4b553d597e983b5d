import type { PublishBacklog } from './publishBacklog.js';
import type { TransitionOutcome, TransitionWrite as StoredRecord } from '../db/recordTransitions.js';
import type { JobsRepository } from '../db/jobsRepository.js';
import type { WardenMetrics } from '../metrics.js';
import { createGroupCommitter } from './groupCommitter.js';
import type { JobRef, PendingTransition } from './jobSession.js';
import type { StoredTransition, TransitionPublisher } from './transitionPublisher.js';

export type RecordResult = (
  | { applied: true }
  /** PostgreSQL refused a transition (another writer moved the job on); it and those after it are not published. */
  | { applied: false; appliedCount: number; refusal: Extract<TransitionOutcome, { applied: false }> }
) & {
  /** Resolves once the applied transitions are published (after every earlier one of the job); never rejects. */
  published: Promise<void>;
};

/**
 * Persist, then publish (SPEC §2). One job's transitions go to the group committer
 * together, so they share a batch with every other job's transitions of the moment (one round trip);
 * `record` resolves once that batch has committed: a transition is acknowledged only when it is durable.
 * Once the batch has committed, its applied transitions are published together (one Redis call for all
 * its jobs), each job's after its earlier publication, so events keep seq order; a runner may start its
 * next step while the event is on its way (it awaits `published` before it lets go of the job). A
 * transition PostgreSQL refuses is never published.
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
  /** Where a failed publish's jobs wait until Redis answers again. */
  backlog?: Pick<PublishBacklog, 'add'>;
}): TransitionRecorder {
  const { publisher, metrics } = options;
  const onPublishError = options.onPublishError ?? ((error: unknown) => process.emitWarning(`transition publish: ${String(error)}`));
  /** Per job, its publication in progress: the next one starts after it, so events keep seq order. */
  const chains = new Map<string, Promise<void>>();
  /**
   * Publishes a committed batch's applied transitions, all jobs in one round trip, once each job's
   * earlier publication is done. Resolves when published; never rejects (durable already: a job's next
   * publish catches its hot copy up from the log).
   */
  const publishBatch = (items: readonly Item[]): void => {
    const groups = items.filter((item) => item.applied.length > 0);
    if (groups.length === 0) return;
    const previous = groups.flatMap((item) => chains.get(item.ref.jobId) ?? []);
    const run = Promise.all(previous)
      .then(() => publisher.publishMany(groups.map((item) => ({ ref: item.ref, transitions: item.applied.map(toPublished) }))))
      .catch((error: unknown) => {
        for (const item of groups) {
          const seq = item.applied[0]?.seq ?? 0;
          onPublishError(error, { jobId: item.ref.jobId, seq });
          options.backlog?.add(item.ref, seq);
        }
      });
    for (const { ref } of groups) {
      chains.set(ref.jobId, run);
      void run.finally(() => {
        if (chains.get(ref.jobId) === run) chains.delete(ref.jobId);
      });
    }
  };
  // One item per job: a job's transitions always share a batch, so batches may run side by side (a
  // runner awaits its item before it submits the next one, so no job has two items in flight).
  const committer = createGroupCommitter<Item, { outcomes: TransitionOutcome[]; published: Promise<void> }>(
    async (items) => {
      const outcomes = await options.jobs.recordTransitions(items.flatMap((item) => item.stored));
      let at = 0;
      const perItem = items.map((item) => outcomes.slice(at, (at += item.stored.length)));
      // Committed: what PostgreSQL applied of each job (the prefix before its first refusal) goes out.
      for (const [i, item] of items.entries()) {
        const applied = perItem[i] ?? [];
        const count = applied.findIndex((outcome) => !outcome.applied);
        item.applied = item.transitions.slice(0, count === -1 ? applied.length : count);
      }
      publishBatch(items);
      return items.map((item, i) => ({ outcomes: perItem[i] ?? [], published: chains.get(item.ref.jobId) ?? Promise.resolve() }));
    },
    { maxBatch: options.maxBatch ?? 500, concurrency: options.concurrency ?? 2 },
  );

  return {
    async record(ref, transitions) {
      if (transitions.length === 0) return { applied: true, published: chains.get(ref.jobId) ?? Promise.resolve() };
      const { outcomes, published } = await committer.submit({ ref, transitions, stored: transitions.map((t) => toStored(ref, t)), applied: [] });
      let appliedCount = 0;
      let refusal: Extract<TransitionOutcome, { applied: false }> | null = null;
      for (const [i, t] of transitions.entries()) {
        const outcome = outcomes[i];
        if (outcome === undefined) throw new Error('transition recorder: an outcome is missing');
        if (!outcome.applied) {
          refusal = outcome;
          break;
        }
        metrics?.transitions.inc({ from: t.record.from, to: t.record.to });
        appliedCount++;
      }
      if (refusal) return { applied: false, appliedCount, refusal, published };
      return { applied: true, published };
    },
    async drain() {
      await committer.drain();
      await Promise.all([...chains.values()]);
    },
  };
}

/** One job's transitions in a batch; `applied` is filled in once the batch has committed. */
interface Item {
  ref: JobRef;
  transitions: readonly PendingTransition[];
  stored: StoredRecord[];
  applied: readonly PendingTransition[];
}

function toPublished(t: PendingTransition): StoredTransition {
  const { from, to, message, iteration } = t.record;
  return { seq: t.seq, from, to, message, iteration, at: t.at };
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
