import type { ClaimRef, ClaimStore } from '../redis/claimStore.js';

/**
 * Jobs this process let go of while Redis could not be reached: a runner whose step broke on the outage
 * hands its job back to the queue, and that hand-back failed too. Nobody runs such a job, but to the
 * other processes (and the rebuild, which cannot tell a dead holder from a live one) it looks held until
 * its lease runs out. This process knows better: `flush` hands each back as soon as Redis answers — the
 * claim released if it is still there, and the job queued unless it is queued or claimed already.
 */
export interface HandBackBacklog {
  add(claim: ClaimRef, boost: number): void;
  /** Hands back what it can; returns how many jobs are left. Never rejects. */
  flush(): Promise<number>;
  size(): number;
}

export function createHandBackBacklog(options: {
  claims: Pick<ClaimStore, 'release' | 'requeueOrphan'>;
  onError: (error: unknown, context: { jobId: string }) => void;
}): HandBackBacklog {
  const pending = new Map<string, { claim: ClaimRef; boost: number }>();
  let flushing: Promise<number> | null = null;
  return {
    add(claim, boost) {
      pending.set(claim.jobId, { claim, boost });
    },
    flush() {
      flushing ??= (async () => {
        for (const [jobId, entry] of [...pending]) {
          try {
            // Both are no-ops when they do not apply: a claim that is gone (Redis came back empty) or taken
            // over by another process; a job already queued, claimed or finished elsewhere.
            await options.claims.release(entry.claim, { requeue: true });
            await options.claims.requeueOrphan(jobId, entry.boost);
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
