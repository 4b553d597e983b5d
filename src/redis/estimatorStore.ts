import type { Redis } from 'ioredis';
import { z } from 'zod';
import { EMA_WEIGHT } from '../domain/waitEstimate.js';
import type { Keys } from './keys.js';
import { loadScripts } from './luaScripts.js';
import { assertId } from './storeArgs.js';

/**
 * The wait estimator's moving average of job durations per tier (SPEC §3):
 * new = 0.3 × duration + 0.7 × old, starting from the tier's default seconds
 * (resolveTier(tiers, name).defaultJobSeconds). Turning it into a wait is waitEstimate.ts' job.
 */
export interface EstimatorStore {
  /** Folds one finished job's duration in; returns the new average in seconds. */
  recordDuration(tier: string, seconds: number, defaultSeconds: number): Promise<number>;
  /** The tier's average, or `defaultSeconds` before its first job. */
  average(tier: string, defaultSeconds: number): Promise<number>;
  /** Sets the tier's average (rebuilt from PostgreSQL) unless it has one already. */
  restore(tier: string, seconds: number): Promise<void>;
}

export function assertSeconds(name: string, value: number): void {
  if (!Number.isFinite(value) || value < 0) throw new RangeError(`${name} must be a finite number ≥ 0, got ${value}`);
}

const secondsSchema = z.coerce.number().nonnegative();

/** The EstimatorStore on Redis: one hash field per tier (recordDuration.lua). */
export function createRedisEstimatorStore(redis: Redis, keys: Keys): EstimatorStore {
  const scripts = loadScripts(redis);
  return {
    async recordDuration(tier, seconds, defaultSeconds) {
      assertId('tier', tier);
      assertSeconds('seconds', seconds);
      assertSeconds('defaultSeconds', defaultSeconds);
      const reply = await scripts.recordDuration([keys.durations()], [tier, seconds, defaultSeconds, EMA_WEIGHT]);
      return secondsSchema.parse(reply);
    },

    async average(tier, defaultSeconds) {
      assertId('tier', tier);
      assertSeconds('defaultSeconds', defaultSeconds);
      const stored = await redis.hget(keys.durations(), tier);
      return stored === null ? defaultSeconds : secondsSchema.parse(stored);
    },

    async restore(tier, seconds) {
      assertId('tier', tier);
      assertSeconds('seconds', seconds);
      await redis.hsetnx(keys.durations(), tier, String(seconds));
    },
  };
}
