import { isTerminal, type JobStatus } from '../../actors/jobTransitions.js';
import type { JobsRepository } from '../db/jobsRepository.js';
import type { JobEvent } from '../redis/jobEvent.js';
import type { TransitionInput, TransitionStore } from '../redis/transitionStore.js';
import type { JobRef } from './jobSession.js';

/** A persisted transition as the publisher needs it. `from` is null for seq 1, the creation. */
export interface StoredTransition {
  seq: number;
  from: JobStatus | null;
  to: JobStatus;
  message: string;
  iteration: number;
  /** ms since the epoch. */
  at: number;
}

export interface TransitionPublisher {
  /**
   * Publishes a transition that PostgreSQL has accepted. The hot copy's compare-and-set makes each seq
   * published at most once; when the hot copy is behind (a process died between its commit and its
   * publish), the missing transitions are published first from the log, so subscribers see no gap.
   */
  publish(ref: JobRef, transition: StoredTransition): Promise<void>;
  /**
   * Publishes many jobs' accepted transitions (a group commit's) in one round trip, each job's in seq
   * order. A job whose hot copy refuses one (gone, or behind after a crash) continues from there the way
   * `publish` does; its failure is reported through onError, never thrown. Rejects only when the shared
   * call fails (Redis unreachable).
   */
  publishMany(groups: readonly { ref: JobRef; transitions: readonly StoredTransition[] }[]): Promise<void>;
  /** Publishes whatever the log holds up to `storedSeq` that the hot copy has not published yet. */
  catchUp(ref: JobRef, storedSeq: number): Promise<void>;
  /**
   * Publishes the log from `fromSeq` on (transitions committed while Redis was unreachable). When the hot
   * copy is gone (Redis came back empty) it starts again just before `fromSeq`, so what subscribers saw
   * before the outage is not sent twice. Rejects when Redis is still unreachable.
   */
  catchUpFrom(ref: JobRef, fromSeq: number): Promise<void>;
}

/** How many times a publish rebuilds or catches up the hot copy before giving up (and logging). */
const MAX_ATTEMPTS = 4;

export function createTransitionPublisher(options: {
  transitions: TransitionStore;
  jobs: Pick<JobsRepository, 'getTransitions'>;
  /** Called once per job, by the process whose publish of its terminal transition succeeded. */
  onTerminal?: (ref: JobRef, event: JobEvent) => void;
  /** Each transition this process published, with its acceptance time (`at`): latency measurement. */
  onPublished?: (ref: JobRef, transition: StoredTransition) => void;
  onError?: (error: unknown, context: { jobId: string; seq: number }) => void;
}): TransitionPublisher {
  const { transitions, jobs } = options;
  const onError = options.onError ?? ((error: unknown) => process.emitWarning(`transition publisher: ${String(error)}`));

  const fromLog = async (ref: JobRef, afterSeq: number, beforeSeq: number): Promise<StoredTransition[]> => {
    const rows = await jobs.getTransitions(ref.jobId, afterSeq);
    return rows
      .filter((row) => row.seq < beforeSeq)
      .map((row) => ({
        seq: row.seq,
        from: row.fromStatus,
        to: row.toStatus,
        message: row.message,
        iteration: row.iteration,
        at: Date.parse(row.at),
      }));
  };

  const inputOf = (ref: JobRef, t: StoredTransition): TransitionInput => ({
    jobId: ref.jobId,
    // Seq 1 creates the job: the hot copy starts in that status at seq 0.
    expectedStatus: t.from ?? t.to,
    expectedSeq: t.seq - 1,
    status: t.to,
    previousStatus: t.from,
    message: t.message,
    iteration: t.iteration,
    timestamp: t.at,
  });
  const published = (ref: JobRef, t: StoredTransition, event: JobEvent) => {
    options.onPublished?.(ref, t);
    if (isTerminal(event.status)) options.onTerminal?.(ref, event);
  };

  const publish = async (ref: JobRef, t: StoredTransition, depth = 0): Promise<void> => {
    for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
      const result = await transitions.applyTransition(inputOf(ref, t));
      if (result.ok) {
        published(ref, t, result.event);
        return;
      }
      if (result.reason === 'missing') {
        // The hot copy is gone (Redis lost it): start it again just before this transition.
        await transitions.initJob(ref.jobId, {
          status: t.from ?? t.to,
          seq: t.seq - 1,
          ownerId: ref.ownerId,
          projectId: ref.projectId,
          tier: ref.tier,
          iteration: t.iteration,
        });
        continue;
      }
      // Already published, by this transition's own retry or by another process catching up.
      if (result.current.seq >= t.seq) return;
      if (depth > 0) break;
      for (const missing of await fromLog(ref, result.current.seq, t.seq)) await publish(ref, missing, depth + 1);
    }
    onError(new Error(`could not publish seq ${t.seq} of job ${ref.jobId}`), { jobId: ref.jobId, seq: t.seq });
  };

  return {
    publish: (ref, transition) => publish(ref, transition),
    async publishMany(groups) {
      const flat = groups.flatMap(({ ref, transitions: ts }) => ts.map((t) => ({ ref, t })));
      if (flat.length === 0) return;
      const results = await transitions.applyTransitions(flat.map(({ ref, t }) => inputOf(ref, t)));
      // Per job, from its first refused transition on, one by one with publish's repairs (its later
      // ones were refused too: they follow the first).
      const rest = new Map<string, { ref: JobRef; transitions: StoredTransition[] }>();
      for (const [i, { ref, t }] of flat.entries()) {
        const result = results[i];
        const pending = rest.get(ref.jobId);
        if (pending) pending.transitions.push(t);
        else if (result?.ok) published(ref, t, result.event);
        else rest.set(ref.jobId, { ref, transitions: [t] });
      }
      await Promise.all(
        [...rest.values()].map(async ({ ref, transitions: ts }) => {
          for (const t of ts) {
            try {
              await publish(ref, t);
            } catch (error) {
              onError(error, { jobId: ref.jobId, seq: t.seq });
              return;
            }
          }
        }),
      );
    },
    async catchUpFrom(ref, fromSeq) {
      const hot = await transitions.get(ref.jobId);
      const publishedSeq = hot ? hot.seq : fromSeq - 1;
      for (const missing of await fromLog(ref, publishedSeq, Number.MAX_SAFE_INTEGER)) await publish(ref, missing);
    },
    async catchUp(ref, storedSeq) {
      const hot = await transitions.get(ref.jobId);
      const publishedSeq = hot?.seq ?? 0;
      if (publishedSeq >= storedSeq) return;
      for (const missing of await fromLog(ref, publishedSeq, storedSeq + 1)) await publish(ref, missing);
    },
  };
}
