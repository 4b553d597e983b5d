import type { JobRef } from './jobSession.js';
import type { TransitionPublisher } from './transitionPublisher.js';

/**
 * Jobs with transitions committed to PostgreSQL but not published, because Redis could not be reached
 * (SPEC §10). The log is the source: `flush` publishes each job's transitions from its first unpublished
 * seq on, in seq order, and keeps the jobs it still cannot publish for the next try. The runtime flushes
 * it every second while it is not empty, so an outage's events go out as soon as Redis answers again.
 */
export interface PublishBacklog {
  add(ref: JobRef, fromSeq: number): void;
  /** Publishes what it can; returns how many jobs are left. Never rejects. */
  flush(): Promise<number>;
  size(): number;
}

export function createPublishBacklog(options: {
  publisher: Pick<TransitionPublisher, 'catchUpFrom'>;
  onError: (error: unknown, context: { jobId: string }) => void;
}): PublishBacklog {
  const pending = new Map<string, { ref: JobRef; fromSeq: number }>();
  let flushing: Promise<number> | null = null;
  return {
    add(ref, fromSeq) {
      const known = pending.get(ref.jobId);
      if (!known || fromSeq < known.fromSeq) pending.set(ref.jobId, { ref, fromSeq });
    },
    flush() {
      flushing ??= (async () => {
        for (const [jobId, entry] of [...pending]) {
          try {
            await options.publisher.catchUpFrom(entry.ref, entry.fromSeq);
            if (pending.get(jobId) === entry) pending.delete(jobId);
          } catch (error) {
            options.onError(error, { jobId });
            // Still unreachable: the rest would fail the same way; try again at the next flush.
            break;
          }
        }
        return pending.size;
      })().finally(() => (flushing = null));
      return flushing;
    },
    size: () => pending.size,
  };
}
