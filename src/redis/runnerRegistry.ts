import type { Redis } from 'ioredis';
import { z } from 'zod';
import type { Clock } from '../clock.js';
import type { Keys } from './keys.js';
import { assertCount, assertId } from './storeArgs.js';

/** One live process's runners: how many it has and how many are running a job now. */
export interface RunnerCount {
  workers: number;
  busy: number;
}

/**
 * The live registry of job runners across processes (SPEC §3's `workers` in the wait estimate is every
 * live process's runners, not one's). Each process announces itself with a lease it renews on its
 * heartbeat; a process that stops announcing drops out when the lease runs out.
 */
export interface RunnerRegistry {
  announce(processId: string, count: RunnerCount, leaseMs: number): Promise<void>;
  remove(processId: string): Promise<void>;
  /** Every live process's count. */
  live(): Promise<RunnerCount[]>;
}

const entrySchema = z.object({ workers: z.number().int().nonnegative(), busy: z.number().int().nonnegative(), expiresAt: z.number() });

/** On Redis: one hash, process id → JSON with its lease expiry; expired fields are dropped when read. */
export function createRedisRunnerRegistry(redis: Redis, keys: Keys, clock: Clock): RunnerRegistry {
  return {
    async announce(processId, count, leaseMs) {
      assertId('processId', processId);
      assertCount('workers', count.workers);
      assertCount('busy', count.busy);
      await redis.hset(keys.runners(), processId, JSON.stringify({ ...count, expiresAt: clock.now() + leaseMs }));
    },
    async remove(processId) {
      await redis.hdel(keys.runners(), processId);
    },
    async live() {
      const now = clock.now();
      const live: RunnerCount[] = [];
      const expired: string[] = [];
      for (const [processId, raw] of Object.entries(await redis.hgetall(keys.runners()))) {
        const parsed = entrySchema.safeParse(JSON.parse(raw));
        if (parsed.success && parsed.data.expiresAt > now) live.push({ workers: parsed.data.workers, busy: parsed.data.busy });
        else expired.push(processId);
      }
      if (expired.length > 0) await redis.hdel(keys.runners(), ...expired);
      return live;
    },
  };
}

/** The stand-in's registry: the same leases in a map. */
export function createMemoryRunnerRegistry(clock: Clock): RunnerRegistry {
  const entries = new Map<string, RunnerCount & { expiresAt: number }>();
  return {
    announce(processId, count, leaseMs) {
      assertId('processId', processId);
      assertCount('workers', count.workers);
      assertCount('busy', count.busy);
      entries.set(processId, { ...count, expiresAt: clock.now() + leaseMs });
      return Promise.resolve();
    },
    remove(processId) {
      entries.delete(processId);
      return Promise.resolve();
    },
    live() {
      const now = clock.now();
      return Promise.resolve([...entries.values()].filter((e) => e.expiresAt > now).map(({ workers, busy }) => ({ workers, busy })));
    },
  };
}
