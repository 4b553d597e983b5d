import type { Clock } from '../clock.js';
import type { JobRuntimeQueries } from '../db/jobRuntimeQueries.js';
import { resolveTier, type TierTable } from '../domain/tiers.js';
import type { ClaimStore } from '../redis/claimStore.js';

/** Claims moved back per reclaim call, orphan candidates looked at per sweep. */
const RECLAIM_BATCH = 500;
const ORPHAN_BATCH = 1000;

export interface Recovery {
  /** Takeover: jobs whose claim's lease ran out (their process died) go back into the queue under their score. */
  reclaimExpired(): Promise<string[]>;
  /**
   * The safety net under the claims: a job PostgreSQL has in a runnable status, untouched for longer than a
   * lease, that is neither queued nor claimed (a process died between writing it and queueing it, or a
   * stalled holder and its successor both let go) is queued again. Returns how many were.
   */
  requeueOrphans(): Promise<number>;
}

export function createRecovery(options: {
  claims: ClaimStore;
  queries: Pick<JobRuntimeQueries, 'findStaleRunnable'>;
  tiers: TierTable;
  clock: Clock;
  leaseMs: number;
  /** Jobs were queued again: wake the workers. */
  onRequeued: () => void;
}): Recovery {
  const { claims, tiers } = options;
  return {
    async reclaimExpired() {
      const ids = await claims.reclaimExpired(RECLAIM_BATCH);
      if (ids.length > 0) options.onRequeued();
      return ids;
    },
    async requeueOrphans() {
      const stale = await options.queries.findStaleRunnable(options.clock.now() - options.leaseMs, ORPHAN_BATCH);
      const requeued = await Promise.all(stale.map((job) => claims.requeueOrphan(job.id, resolveTier(tiers, job.tier).queueBoost)));
      const count = requeued.filter(Boolean).length;
      if (count > 0) options.onRequeued();
      return count;
    },
  };
}
