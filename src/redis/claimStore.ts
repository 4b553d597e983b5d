import type { Redis } from 'ioredis';
import { z } from 'zod';
import type { Clock } from '../clock.js';
import { queueBandBase } from '../domain/priority.js';
import { EMA_WEIGHT } from '../domain/waitEstimate.js';
import { assertSeconds } from './estimatorStore.js';
import type { Keys } from './keys.js';
import { loadScripts } from './luaScripts.js';
import { assertCount, assertId } from './storeArgs.js';

/** Which claim of a job a worker holds: the fencing token tells this claim from a later one. */
export interface ClaimRef {
  jobId: string;
  token: string;
  userId: string;
  projectId: string;
  /** Who holds it and its queue score: lets the holder re-assert the claim after Redis lost its data. */
  restore?: { holder: string; score: number };
}

/** A finished job's duration for the wait estimator (EstimatorStore.recordDuration's arguments). */
export interface FinishedDuration {
  tier: string;
  seconds: number;
  defaultSeconds: number;
}

export interface ClaimRequest extends ClaimRef {
  /** The score the job was seen with in the queue (the stand-in puts it back under it when refused). */
  score: number;
  /** The process that hosts the job (for operators; ownership is the token's). */
  holder: string;
  userLimit: number;
  projectLimit: number;
  leaseMs: number;
}

export type ClaimResult =
  /** `failRequest`: the reason of a pending request to fail the job (cancel, max age), or null. */
  | { claimed: true; score: number; failRequest: string | null }
  | { claimed: false; reason: 'gone' | 'user_full' | 'project_full' };

/** A live holder of a user's or a project's slot: a job id and when its lease runs out (ms). */
export interface SlotHolder {
  holder: string;
  expiresAt: number;
}

/** A live or expired claim as stored. */
export interface ClaimInfo {
  holder: string;
  token: string;
  score: number;
  userId: string;
  projectId: string;
  /** Lease expiry (ms). */
  expiresAt: number;
}

/**
 * Jobs held by workers (SPEC §3, §10). Claiming moves a job out of the queue together with its user and
 * project slots, as one lease with a fencing token; the holder renews it by heartbeat; when the holder
 * dies, `reclaimExpired` puts the job back in the queue under its old score. Every method that changes a
 * claim checks the token, so a stalled holder that lost its claim cannot disturb the next one.
 */
export interface ClaimStore {
  claim(request: ClaimRequest): Promise<ClaimResult>;
  /** Renews the claim and its slots; false when this token no longer holds a live claim. */
  renew(ref: ClaimRef, leaseMs: number): Promise<boolean>;
  /** Ends the claim and frees its slots; with `requeue` the job goes back under its old score. */
  /**
   * With `duration`, a finished job's duration is folded into its tier's average as
   * EstimatorStore.recordDuration would, in the same round trip (and whatever the token).
   */
  release(ref: ClaimRef, options: { requeue: boolean; duration?: FinishedDuration }): Promise<boolean>;
  /** Takeover: expired claims back into the queue; returns their job ids. */
  reclaimExpired(limit: number): Promise<string[]>;
  /** Queues a job found runnable in PostgreSQL unless it is already queued or claimed. */
  requeueOrphan(jobId: string, boost: number): Promise<boolean>;
  get(jobId: string): Promise<ClaimInfo | null>;
  /**
   * Leaves a durable request to fail the job (cancel, max age) for whoever holds it now or next: the
   * holder may be between two claims of the job when the control message passes, so `claim` hands the
   * request to the next holder.
   */
  requestFail(jobId: string, reason: string): Promise<void>;
  failRequest(jobId: string): Promise<string | null>;
  clearFailRequest(jobId: string): Promise<void>;
  /** The live holders (job ids) of a user's or a project's concurrency slots (SPEC §3). */
  slotHolders(kind: 'user' | 'project', id: string): Promise<SlotHolder[]>;
}

/** How long a fail request waits for the job to move before it is forgotten. */
export const FAIL_REQUEST_TTL_MS = 86_400_000;

export const claimPayloadSchema = z.object({
  holder: z.string(),
  token: z.string(),
  userId: z.string(),
  projectId: z.string(),
  score: z.coerce.number(),
});

export function assertClaimRequest(request: ClaimRequest): void {
  assertId('jobId', request.jobId);
  assertId('token', request.token);
  assertId('userId', request.userId);
  assertId('projectId', request.projectId);
  assertCount('userLimit', request.userLimit);
  assertCount('projectLimit', request.projectLimit);
  assertCount('leaseMs', request.leaseMs, 1);
}

const flagReplySchema = z.union([z.literal(0), z.literal(1)]);
const idsReplySchema = z.array(z.string());

const claimReplySchema = z.union([
  z.tuple([z.literal(1), z.coerce.number(), z.string()]),
  z.tuple([z.union([z.literal(0), z.literal(-1), z.literal(-2)])]),
]);

/** Checks a duration as EstimatorStore.recordDuration checks its arguments. */
export function assertDuration(duration: FinishedDuration): void {
  assertId('tier', duration.tier);
  assertSeconds('seconds', duration.seconds);
  assertSeconds('defaultSeconds', duration.defaultSeconds);
}

/** The ClaimStore on Redis: claimJob, renewClaim, releaseClaim, reclaimExpired and requeueOrphan.lua. */
export function createRedisClaimStore(redis: Redis, keys: Keys, clock: Clock): ClaimStore {
  const scripts = loadScripts(redis);
  const slotKeys = (ref: ClaimRef): [string, string] => [keys.userSlots(ref.userId), keys.projectSlots(ref.projectId)];
  return {
    async claim(request) {
      assertClaimRequest(request);
      const now = clock.now();
      const payload = JSON.stringify({
        holder: request.holder,
        token: request.token,
        userId: request.userId,
        projectId: request.projectId,
      });
      const reply = claimReplySchema.parse(
        await scripts.claimJob(
          [keys.queue(), keys.claims(), keys.claimInfo(), ...slotKeys(request), keys.failRequest(request.jobId)],
          [request.jobId, request.userLimit, request.projectLimit, now, now + request.leaseMs, payload],
        ),
      );
      if (reply[0] === 1) return { claimed: true, score: reply[1], failRequest: reply[2] === '' ? null : reply[2] };
      return { claimed: false, reason: reply[0] === 0 ? 'gone' : reply[0] === -1 ? 'user_full' : 'project_full' };
    },

    async renew(ref, leaseMs) {
      assertCount('leaseMs', leaseMs, 1);
      const now = clock.now();
      const claim = ref.restore
        ? JSON.stringify({ holder: ref.restore.holder, token: ref.token, userId: ref.userId, projectId: ref.projectId, score: String(ref.restore.score) })
        : '';
      const reply = await scripts.renewClaim(
        [keys.claims(), keys.claimInfo(), ...slotKeys(ref), keys.queue()],
        [ref.jobId, ref.token, now, now + leaseMs, claim],
      );
      return flagReplySchema.parse(reply) === 1;
    },

    async release(ref, { requeue, duration }) {
      if (duration) assertDuration(duration);
      const reply = await scripts.releaseClaim(
        [keys.claims(), keys.claimInfo(), ...slotKeys(ref), keys.queue(), keys.durations()],
        [
          ref.jobId,
          ref.token,
          requeue ? '1' : '0',
          ...(duration ? [duration.tier, duration.seconds, duration.defaultSeconds, EMA_WEIGHT] : []),
        ],
      );
      return flagReplySchema.parse(reply) === 1;
    },

    async reclaimExpired(limit) {
      assertCount('limit', limit, 1);
      const reply = await scripts.reclaimExpired([keys.claims(), keys.claimInfo(), keys.queue()], [clock.now(), limit]);
      return idsReplySchema.parse(reply);
    },

    async requeueOrphan(jobId, boost) {
      assertId('jobId', jobId);
      const reply = await scripts.requeueOrphan([keys.queue(), keys.queueCounter(), keys.claims()], [jobId, queueBandBase(boost)]);
      return flagReplySchema.parse(reply) === 1;
    },

    async requestFail(jobId, reason) {
      assertId('jobId', jobId);
      await redis.set(keys.failRequest(jobId), reason, 'PX', FAIL_REQUEST_TTL_MS);
    },

    failRequest: (jobId) => redis.get(keys.failRequest(jobId)),

    async clearFailRequest(jobId) {
      await redis.del(keys.failRequest(jobId));
    },

    async slotHolders(kind, id) {
      assertId('id', id);
      const key = kind === 'user' ? keys.userSlots(id) : keys.projectSlots(id);
      const flat = await redis.zrangebyscore(key, `(${clock.now()}`, '+inf', 'WITHSCORES');
      const out: SlotHolder[] = [];
      for (let i = 0; i + 1 < flat.length; i += 2) out.push({ holder: flat[i] ?? '', expiresAt: Number(flat[i + 1]) });
      return out;
    },

    async get(jobId) {
      const [info, expiry] = await Promise.all([redis.hget(keys.claimInfo(), jobId), redis.zscore(keys.claims(), jobId)]);
      if (info === null || expiry === null) return null;
      return { ...claimPayloadSchema.parse(JSON.parse(info)), expiresAt: Number(expiry) };
    },
  };
}
