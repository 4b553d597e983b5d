import { randomUUID } from 'node:crypto';
import type { Redis } from 'ioredis';
import { afterEach } from 'vitest';
import type { Clock } from '../../src/clock.js';
import { createRedis } from '../../src/redis/client.js';
import { createRedisStores } from '../../src/redis/createRedisStores.js';
import type { HotStores } from '../../src/redis/hotStores.js';
import type { FeedErrorHandler } from '../../src/redis/jobEventFeed.js';
import { createKeys, type Keys } from '../../src/redis/keys.js';
import { createMemoryStores } from '../../src/redis/memory/createMemoryStores.js';
import { useTestRedis } from '../helpers/testRedis.js';

export interface OpenOptions {
  /** How many independent clients share the state (Redis: one connection each; memory: one process). */
  peers?: number;
  terminalRetentionMs?: number;
  onFeedError?: FeedErrorHandler;
}

export interface OpenedStores {
  stores: HotStores;
  /** `peers` clients of the same state; the first is `stores`. */
  peers: HotStores[];
  /** Redis only: the raw connection and the keys, for checks that have no stand-in equivalent. */
  redis?: { redis: Redis; keys: Keys };
}

export interface StoreImplementation {
  open(clock: Clock, options?: OpenOptions): OpenedStores;
}

/**
 * The two HotStores implementations for `describe.each`: the same assertions run against real Redis
 * and the in-process stand-in. Every open() gets fresh state (its own key prefix on Redis); everything
 * opened is closed after each test. Call at the top level of a test file.
 */
export function storeImplementations(label: string): [name: 'redis' | 'memory', impl: StoreImplementation][] {
  const testRedis = useTestRedis(label);
  const cleanups: (() => Promise<void>)[] = [];
  afterEach(async () => {
    await Promise.all(cleanups.splice(0).map((cleanup) => cleanup()));
  });

  const redisImpl: StoreImplementation = {
    open(clock, options = {}) {
      const keys = createKeys(`${testRedis.prefix}${randomUUID().slice(0, 8)}:`);
      const peers = Array.from({ length: options.peers ?? 1 }, (_, i) => {
        // Peers get their own connections, so their commands really interleave on the server.
        const redis = i === 0 ? testRedis.redis : createRedis(testRedis.url);
        const stores = createRedisStores({
          redis,
          keys,
          clock,
          ...(options.terminalRetentionMs === undefined ? {} : { terminalRetentionMs: options.terminalRetentionMs }),
          ...(options.onFeedError ? { onFeedError: options.onFeedError } : {}),
        });
        cleanups.push(async () => {
          await stores.close();
          if (i > 0) await redis.quit();
        });
        return stores;
      });
      const [stores] = peers;
      if (!stores) throw new Error('peers must be ≥ 1');
      return { stores, peers, redis: { redis: testRedis.redis, keys } };
    },
  };

  const memoryImpl: StoreImplementation = {
    open(clock, options = {}) {
      const stores = createMemoryStores({
        clock,
        ...(options.terminalRetentionMs === undefined ? {} : { terminalRetentionMs: options.terminalRetentionMs }),
        ...(options.onFeedError ? { onFeedError: options.onFeedError } : {}),
      });
      cleanups.push(() => stores.close());
      return { stores, peers: Array.from({ length: options.peers ?? 1 }, () => stores) };
    },
  };

  return [
    ['redis', redisImpl],
    ['memory', memoryImpl],
  ];
}

/** A unique id for a test's user, job or project, so assertions never see another test's data. */
export const uid = (label: string) => `${label}-${randomUUID().slice(0, 8)}`;
