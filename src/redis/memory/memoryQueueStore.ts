import { queueScore } from '../../domain/priority.js';
import type { QueueEntry, QueueStore } from '../queueStore.js';
import { assertCount, assertId, assertQueueScore } from '../storeArgs.js';
import { atomically } from './atomically.js';

/** Redis' sorted-set order: by score, then by member. */
function before(a: QueueEntry, b: QueueEntry): boolean {
  return a.score < b.score || (a.score === b.score && a.jobId < b.jobId);
}

/**
 * The stand-in's QueueStore: an array kept in run order (binary-search insert) and an index by job id.
 * The queue is capped (100 by default), so O(n) inserts are cheaper than a tree.
 */
export function createMemoryQueueStore(): QueueStore {
  const ordered: QueueEntry[] = [];
  const scores = new Map<string, number>();
  let counter = 0;

  /** Index of the first entry that does not run before `entry`. */
  const lowerBound = (entry: QueueEntry): number => {
    let lo = 0;
    let hi = ordered.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      const at = ordered[mid];
      if (at && before(at, entry)) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  };
  const indexOf = (jobId: string): number => {
    const score = scores.get(jobId);
    return score === undefined ? -1 : lowerBound({ jobId, score });
  };
  const insert = (entry: QueueEntry) => {
    const existing = indexOf(entry.jobId);
    if (existing >= 0) ordered.splice(existing, 1);
    ordered.splice(lowerBound(entry), 0, entry);
    scores.set(entry.jobId, entry.score);
  };

  return {
    enqueue: (jobId, boost, cap) =>
      atomically(() => {
        assertId('jobId', jobId);
        assertCount('cap', cap);
        const base = queueScore(boost, 0);
        const existing = indexOf(jobId);
        if (existing >= 0) return { ok: true as const, position: existing + 1, score: scores.get(jobId) ?? base };
        if (ordered.length >= cap) return { ok: false as const, queued: ordered.length };
        counter += 1;
        const entry = { jobId, score: queueScore(boost, counter) };
        insert(entry);
        return { ok: true as const, position: lowerBound(entry) + 1, score: entry.score };
      }),

    position: (jobId) =>
      atomically(() => {
        const index = indexOf(jobId);
        return index < 0 ? null : index + 1;
      }),

    take: () =>
      atomically(() => {
        const first = ordered.shift();
        if (!first) return null;
        scores.delete(first.jobId);
        return { ...first };
      }),

    putBack: (jobId, score) =>
      atomically(() => {
        assertId('jobId', jobId);
        assertQueueScore(score);
        insert({ jobId, score });
      }),

    remove: (jobId) =>
      atomically(() => {
        const index = indexOf(jobId);
        if (index < 0) return false;
        ordered.splice(index, 1);
        scores.delete(jobId);
        return true;
      }),

    length: () => atomically(() => ordered.length),

    peek: (n) =>
      atomically(() => {
        assertCount('n', n);
        return ordered.slice(0, n).map((entry) => ({ ...entry }));
      }),
  };
}
