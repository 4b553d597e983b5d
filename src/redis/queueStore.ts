import type { Redis } from 'ioredis';
import { z } from 'zod';
import { queueBandBase } from '../domain/priority.js';
import type { Keys } from './keys.js';
import { loadScripts } from './luaScripts.js';
import { assertCount, assertId, assertQueueScore } from './storeArgs.js';

export interface QueueEntry {
  jobId: string;
  /** (1000 − boost) × 1e12 + counter; lower runs first. */
  score: number;
}

export type EnqueueResult =
  | { ok: true; position: number; score: number }
  | { ok: false; queued: number };

/**
 * The global priority queue (SPEC §3). A higher boost always runs first; one boost runs first-in
 * first-out. Positions are 1-based.
 */
export interface QueueStore {
  /**
   * Queues a job unless `cap` jobs are already queued (then `{ok: false, queued}`). Enqueueing a job that
   * is already queued keeps its place and answers its position.
   */
  enqueue(jobId: string, boost: number, cap: number): Promise<EnqueueResult>;
  /** 1-based position, or null when the job is not queued. */
  position(jobId: string): Promise<number | null>;
  /** Removes and returns the job that runs next, or null when the queue is empty. */
  take(): Promise<QueueEntry | null>;
  /** Puts a taken job back with its score, so it keeps its place (e.g. its slots were full). */
  putBack(jobId: string, score: number): Promise<void>;
  /** True when the job was queued. */
  remove(jobId: string): Promise<boolean>;
  length(): Promise<number>;
  /** The first `n` jobs in run order, without taking them. */
  peek(n: number): Promise<QueueEntry[]>;
}

const enqueueReplySchema = z.union([
  z.tuple([z.literal(1), z.number().int().positive(), z.coerce.number()]),
  z.tuple([z.literal(0), z.number().int().nonnegative()]),
]);

/** A flat [member, score, member, score …] reply as entries. */
function entries(flat: readonly string[]): QueueEntry[] {
  const out: QueueEntry[] = [];
  for (let i = 0; i + 1 < flat.length; i += 2) {
    out.push({ jobId: flat[i] ?? '', score: Number(flat[i + 1]) });
  }
  return out;
}

/** The QueueStore on Redis: a sorted set and a counter (enqueueJob.lua). */
export function createRedisQueueStore(redis: Redis, keys: Keys): QueueStore {
  const scripts = loadScripts(redis);
  return {
    async enqueue(jobId, boost, cap) {
      assertId('jobId', jobId);
      assertCount('cap', cap);
      const reply = enqueueReplySchema.parse(
        await scripts.enqueueJob([keys.queue(), keys.queueCounter()], [jobId, queueBandBase(boost), cap]),
      );
      if (reply[0] === 0) return { ok: false, queued: reply[1] };
      return { ok: true, position: reply[1], score: reply[2] };
    },

    async position(jobId) {
      const rank = await redis.zrank(keys.queue(), jobId);
      return rank === null ? null : rank + 1;
    },

    async take() {
      const [entry] = entries(await redis.zpopmin(keys.queue()));
      return entry ?? null;
    },

    async putBack(jobId, score) {
      assertId('jobId', jobId);
      assertQueueScore(score);
      await redis.zadd(keys.queue(), String(score), jobId);
    },

    async remove(jobId) {
      return (await redis.zrem(keys.queue(), jobId)) > 0;
    },

    length: () => redis.zcard(keys.queue()),

    async peek(n) {
      assertCount('n', n);
      if (n === 0) return [];
      return entries(await redis.zrange(keys.queue(), 0, n - 1, 'WITHSCORES'));
    },
  };
}
