import type { Redis } from 'ioredis';
import type { Clock } from '../clock.js';
import { createRedis, createSubscriber } from './client.js';
import { createRedisEstimatorStore } from './estimatorStore.js';
import type { HotStores } from './hotStores.js';
import { createRedisJobEventFeed, type FeedErrorHandler } from './jobEventFeed.js';
import { createKeys, type Keys } from './keys.js';
import { createRedisQueueStore } from './queueStore.js';
import { createRedisQuotaStore } from './quotaStore.js';
import { createRedisSlotStore } from './slotStore.js';
import { createRedisTokenStore } from './tokenStore.js';
import { createRedisTransitionStore } from './transitionStore.js';

export interface RedisStoresOptions {
  /** The command connection; the caller's (close() leaves it open). */
  redis: Redis;
  /** A connection for SUBSCRIBE, the caller's. Without it (or subscriberUrl) one is duplicated from `redis`. */
  subscriber?: Redis;
  /** Opens a subscriber connection from this URL on first subscription; the stores own and close it. */
  subscriberUrl?: string;
  keys: Keys;
  clock: Clock;
  /** How long a finished job's hot hash stays (default a day). */
  terminalRetentionMs?: number;
  onFeedError?: FeedErrorHandler;
  /** ping() answers false after this long (default 1,000 ms). */
  pingTimeoutMs?: number;
}

/** The HotStores on Redis: Lua scripts on the command connection, pub/sub on a second one. */
export function createRedisStores(options: RedisStoresOptions): HotStores {
  const { redis, keys, clock } = options;
  const given = options.subscriber;
  const subscriberUrl = options.subscriberUrl;
  const connect = (): Redis => {
    if (given) return given;
    if (subscriberUrl !== undefined) return createSubscriber(subscriberUrl);
    return redis.duplicate({ enableAutoPipelining: false, maxRetriesPerRequest: null, enableOfflineQueue: true });
  };
  const events = createRedisJobEventFeed({
    keys,
    connect,
    ownsConnection: given === undefined,
    ...(options.onFeedError ? { onError: options.onFeedError } : {}),
  });
  const pingTimeoutMs = options.pingTimeoutMs ?? 1000;
  return {
    kind: 'redis',
    transitions: createRedisTransitionStore(
      redis,
      keys,
      clock,
      options.terminalRetentionMs === undefined ? {} : { terminalRetentionMs: options.terminalRetentionMs },
    ),
    events,
    quotas: createRedisQuotaStore(redis, keys, clock),
    tokens: createRedisTokenStore(redis, keys, clock),
    queue: createRedisQueueStore(redis, keys),
    slots: createRedisSlotStore(redis, keys, clock),
    estimator: createRedisEstimatorStore(redis, keys),
    epoch: {
      read: () => redis.get(keys.epoch()),
      write: async (id) => void (await redis.set(keys.epoch(), id)),
    },
    ping: () => pingRedis(redis, pingTimeoutMs),
    close: () => events.close(),
  };
}

/**
 * HotStores that own their connections (the server's case): a command connection and a subscriber,
 * both to `url`, both closed by close().
 */
export function connectRedisStores(options: {
  url: string;
  keyPrefix: string;
  clock: Clock;
  terminalRetentionMs?: number;
  onFeedError?: FeedErrorHandler;
}): HotStores {
  const redis = createRedis(options.url);
  const stores = createRedisStores({
    redis,
    subscriberUrl: options.url,
    keys: createKeys(options.keyPrefix),
    clock: options.clock,
    ...(options.terminalRetentionMs === undefined ? {} : { terminalRetentionMs: options.terminalRetentionMs }),
    ...(options.onFeedError ? { onFeedError: options.onFeedError } : {}),
  });
  let closing: Promise<void> | undefined;
  return {
    ...stores,
    close() {
      closing ??= (async () => {
        await stores.close();
        await redis.quit().catch(() => redis.disconnect());
      })();
      return closing;
    },
  };
}

async function pingRedis(redis: Redis, timeoutMs: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<boolean>((resolve) => {
    timer = setTimeout(() => resolve(false), timeoutMs);
  });
  try {
    return await Promise.race([redis.ping().then((reply) => reply === 'PONG', () => false), timeout]);
  } finally {
    clearTimeout(timer);
  }
}
