import type { Clock } from '../../clock.js';
import { assertClaimRequest, assertDuration, type ClaimInfo, type ClaimStore } from '../claimStore.js';
import type { EstimatorStore } from '../estimatorStore.js';
import type { QueueStore } from '../queueStore.js';
import { createMemorySlotStore } from './memorySlotStore.js';
import { assertCount } from '../storeArgs.js';

/**
 * The stand-in's ClaimStore, built on the stand-in's queue and its own slots. One process owns them all, so a
 * claim is "take the job out of the queue, then acquire its slots, else put it back under its score":
 * the queue's remove() decides between two workers racing for one job.
 */
export function createMemoryClaimStore(queue: QueueStore, clock: Clock, estimator: Pick<EstimatorStore, 'recordDuration'>): ClaimStore {
  const slots = createMemorySlotStore(clock);
  const claims = new Map<string, ClaimInfo>();
  const failRequests = new Map<string, string>();
  const tokenHolds = (jobId: string, token: string): ClaimInfo | null => {
    const info = claims.get(jobId);
    return info && info.token === token ? info : null;
  };
  return {
    async claim(request) {
      assertClaimRequest(request);
      if (!(await queue.remove(request.jobId))) return { claimed: false, reason: 'gone' };
      const slot = await slots.acquire({ ...request, holder: request.jobId });
      if (!slot.acquired) {
        await queue.putBack(request.jobId, request.score);
        return { claimed: false, reason: slot.full === 'user' ? 'user_full' : 'project_full' };
      }
      claims.set(request.jobId, {
        holder: request.holder,
        token: request.token,
        score: request.score,
        userId: request.userId,
        projectId: request.projectId,
        expiresAt: clock.now() + request.leaseMs,
      });
      return { claimed: true, score: request.score, failRequest: failRequests.get(request.jobId) ?? null };
    },

    async renew(ref, leaseMs) {
      assertCount('leaseMs', leaseMs, 1);
      const info = tokenHolds(ref.jobId, ref.token);
      const now = clock.now();
      if (!info || info.expiresAt <= now) return false;
      if (!(await slots.heartbeat({ holder: ref.jobId, userId: ref.userId, projectId: ref.projectId, leaseMs }))) return false;
      info.expiresAt = now + leaseMs;
      return true;
    },

    async release(ref, { requeue, duration }) {
      if (duration) {
        assertDuration(duration);
        await estimator.recordDuration(duration.tier, duration.seconds, duration.defaultSeconds);
      }
      const info = tokenHolds(ref.jobId, ref.token);
      if (!info) return false;
      claims.delete(ref.jobId);
      await slots.release({ holder: ref.jobId, userId: ref.userId, projectId: ref.projectId });
      if (requeue && (await queue.position(ref.jobId)) === null) await queue.putBack(ref.jobId, info.score);
      return true;
    },

    async reclaimExpired(limit) {
      assertCount('limit', limit, 1);
      const now = clock.now();
      const expired = [...claims.entries()].filter(([, info]) => info.expiresAt <= now).slice(0, limit);
      for (const [jobId, info] of expired) {
        claims.delete(jobId);
        if ((await queue.position(jobId)) === null) await queue.putBack(jobId, info.score);
      }
      return expired.map(([jobId]) => jobId);
    },

    async requeueOrphan(jobId, boost) {
      if (claims.has(jobId) || (await queue.position(jobId)) !== null) return false;
      await queue.enqueue(jobId, boost, Number.MAX_SAFE_INTEGER);
      return true;
    },

    requestFail(jobId, reason) {
      failRequests.set(jobId, reason);
      return Promise.resolve();
    },

    failRequest: (jobId) => Promise.resolve(failRequests.get(jobId) ?? null),

    clearFailRequest(jobId) {
      failRequests.delete(jobId);
      return Promise.resolve();
    },

    slotHolders: (kind, id) => slots.holders(kind, id),

    get: (jobId) => {
      const info = claims.get(jobId);
      return Promise.resolve(info ? { ...info } : null);
    },
  };
}
