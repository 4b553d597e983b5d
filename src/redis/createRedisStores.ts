import type { Redis } from 'ioredis';
import type { Clock } from '../clock.js';
import { createSubscriber } from './client.js';
import { createRedisClaimStore } from './claimStore.js';
import { createRedisControlChannel } from './controlChannel.js';
import { createRedisEstimatorStore } from './estimatorStore.js';
import type { HotStores } from './hotStores.js';
import { createRedisJobEventFeed, type FeedErrorHandler } from './jobEventFeed.js';
import type { Keys } from './keys.js';
import { createRedisQueueStore } from './queueStore.js';
import { createRedisQuotaStore } from './quotaStore.js';
import { createRedisRunnerRegistry } from './runnerRegistry.js';
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
  /** Where the control channel reports a bad message or a throwing listener. */
  onControlError?: (error: unknown) => void;
  /** ping() answers false after this long (default 1,000 ms). */
  pingTimeoutMs?: number;
}

/**
 * The HotStores on Redis: Lua scripts on the command connection, pub/sub on a second one shared by the
 * job event feed and the control channel (given, or opened once on first use).
 */
export function createRedisStores(options: RedisStoresOptions): HotStores {
  const { redis, keys, clock } = options;
  const given = options.subscriber;
  const subscriberUrl = options.subscriberUrl;
  let opened: Redis | undefined;
  const connect = (): Redis => {
    if (given) return given;
    if (!opened) {
      opened =
        subscriberUrl !== undefined
          ? createSubscriber(subscriberUrl)
          : redis.duplicate({ enableAutoPipelining: false, maxRetriesPerRequest: null, enableOfflineQueue: true, enableReadyCheck: false });
      // ioredis reconnects and re-subscribes by itself; a drop is reported, never an unhandled 'error'.
      opened.on('error', (error) => options.onFeedError?.(error, { channel: '(subscriber)' }));
    }
    return opened;
  };
  // The stores own an opened subscriber (closed below), never a given one: the feed and the channel leave it open.
  const events = createRedisJobEventFeed({
    keys,
    connect,
    ...(options.onFeedError ? { onError: options.onFeedError } : {}),
  });
  const control = createRedisControlChannel({
    redis,
    keys,
    connectSubscriber: connect,
    ...(options.onControlError ? { onError: options.onControlError } : {}),
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
    claims: createRedisClaimStore(redis, keys, clock),
    control,
    estimator: createRedisEstimatorStore(redis, keys),
    runners: createRedisRunnerRegistry(redis, keys, clock),
    epoch: {
      read: () => redis.get(keys.epoch()),
      write: async (id) => void (await redis.set(keys.epoch(), id)),
    },
    ping: () => pingRedis(redis, pingTimeoutMs),
    async close() {
      await Promise.all([events.close(), control.close()]);
      const subscriber = opened;
      opened = undefined;
      if (subscriber) await subscriber.quit().catch(() => subscriber.disconnect());
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
