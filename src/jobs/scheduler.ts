import { nextUtcMidnight, type Clock } from '../clock.js';
import type { JobRuntimeQueries } from '../db/jobRuntimeQueries.js';
import { resolveTier, type TierTable } from '../domain/tiers.js';
import { isWardenError } from '../errors.js';
import type { HotStores } from '../redis/hotStores.js';
import { applyToStoredJob, type StoredJobDeps } from './applyToStoredJob.js';

/** A due job is held this long by the scheduler that claimed it; if that process dies it comes due again. */
const RELEASE_HOLD_MS = 60_000;
const RELEASE_BATCH = 100;
const MAX_AGE_BATCH = 100;
/** Released and resumed jobs were admitted already: the submit cap does not apply to them. */
export const NO_QUEUE_CAP = Number.MAX_SAFE_INTEGER;

export interface Scheduler {
  /**
   * Scheduled jobs whose release time has come go to `queued` (RELEASE) and into the queue, counted
   * against the new day's quota; when that is spent again they move to the next midnight (plus jitter)
   * without a transition. Returns how many were released.
   */
  releaseDue(): Promise<number>;
  /** Unfinished jobs older than the configured age are failed with a reason. Returns how many were asked. */
  failOverAge(): Promise<number>;
}

/** When a scheduled job is released: the next UTC midnight, spread by up to `jitterMs` (SPEC §3). */
export function releaseTime(now: number, jitterMs: number, random: () => number): number {
  return nextUtcMidnight(now) + Math.floor(random() * jitterMs);
}

export function createScheduler(options: {
  queries: Pick<JobRuntimeQueries, 'claimDueScheduled' | 'reschedule' | 'findOverAge'>;
  stores: Pick<HotStores, 'quotas' | 'queue'>;
  stored: StoredJobDeps;
  failJob: (jobId: string, reason: string) => Promise<unknown>;
  tiers: TierTable;
  clock: Clock;
  jitterMs: number;
  random: () => number;
  maxJobAgeMs: number;
  onQueued: () => void;
  onError: (error: unknown, context: { jobId: string; during: string }) => void;
}): Scheduler {
  const { queries, stores, tiers, clock } = options;
  const maxAgeHours = options.maxJobAgeMs / 3_600_000;
  return {
    async releaseDue() {
      const now = clock.now();
      const due = await queries.claimDueScheduled(now, now + RELEASE_HOLD_MS, RELEASE_BATCH);
      let released = 0;
      for (const row of due) {
        try {
          const limits = resolveTier(tiers, row.tier);
          const admission = await stores.quotas.admit(row.ownerId, limits.dailyJobs);
          if (!admission.admitted) {
            await queries.reschedule(row.id, row.seq, releaseTime(now, options.jitterMs, options.random));
            continue;
          }
          const result = await applyToStoredJob(options.stored, row, [{ type: 'RELEASE' }]);
          if (!result.ok) {
            await stores.quotas.refund(row.ownerId, admission.date);
            continue;
          }
          await stores.queue.enqueue(row.id, limits.queueBoost, NO_QUEUE_CAP);
          released += 1;
        } catch (error) {
          options.onError(error, { jobId: row.id, during: 'release' });
        }
      }
      if (released > 0) options.onQueued();
      return released;
    },

    async failOverAge() {
      const ids = await queries.findOverAge(clock.now() - options.maxJobAgeMs, MAX_AGE_BATCH);
      const reason = `Job exceeded the maximum age of ${maxAgeHours} hours`;
      for (const id of ids) {
        await options.failJob(id, reason).catch((error: unknown) => {
          // Finished meanwhile: nothing to do.
          if (!isWardenError(error, 'INVALID_TRANSITION')) options.onError(error, { jobId: id, during: 'max age' });
        });
      }
      return ids.length;
    },
  };
}
