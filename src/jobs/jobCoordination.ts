import type { Redis } from 'ioredis';
import type { Clock } from '../clock.js';
import { createRedisClaimStore, type ClaimStore } from '../redis/claimStore.js';
import { createRedis, createSubscriber } from '../redis/client.js';
import { createRedisControlChannel, type ControlChannel } from '../redis/controlChannel.js';
import type { HotStores } from '../redis/hotStores.js';
import { createKeys, type Keys } from '../redis/keys.js';
import { createMemoryClaimStore } from '../redis/memory/memoryClaimStore.js';
import { createMemoryControlChannel } from '../redis/memory/memoryControlChannel.js';

/**
 * What the processes of one Warden cluster share to run jobs together, next to the HotStores: who holds
 * which job (claims, with leases) and the control channel (fail requests, wake-ups). On Redis for any
 * number of processes; in memory for the single-process embedded default.
 */
export interface JobCoordination {
  readonly kind: 'redis' | 'memory';
  readonly claims: ClaimStore;
  readonly control: ControlChannel;
  /** Closes what the coordination owns (the control subscriber; the command connection when owned). */
  close(): Promise<void>;
}

/** On a caller's Redis command connection; the subscriber is duplicated from it (or opened from `subscriberUrl`). */
export function createRedisJobCoordination(options: {
  redis: Redis;
  keys: Keys;
  clock: Clock;
  subscriberUrl?: string;
  /** The process' shared subscriber connection (not closed by close()). */
  subscriber?: Redis;
  onError?: (error: unknown) => void;
}): JobCoordination {
  const { redis, keys, clock, subscriberUrl, subscriber } = options;
  const control = createRedisControlChannel({
    redis,
    keys,
    ownsSubscriber: subscriber === undefined,
    connectSubscriber: () =>
      subscriber ??
      (subscriberUrl === undefined
        ? redis.duplicate({ enableAutoPipelining: false, maxRetriesPerRequest: null, enableOfflineQueue: true })
        : createSubscriber(subscriberUrl)),
    ...(options.onError ? { onError: options.onError } : {}),
  });
  return { kind: 'redis', claims: createRedisClaimStore(redis, keys, clock), control, close: () => control.close() };
}

/** Coordination that owns its connections (the server's case): both to `url`, both closed by close(). */
export function connectJobCoordination(options: {
  url: string;
  keyPrefix: string;
  clock: Clock;
  onError?: (error: unknown) => void;
}): JobCoordination {
  const redis = createRedis(options.url);
  const inner = createRedisJobCoordination({
    redis,
    keys: createKeys(options.keyPrefix),
    clock: options.clock,
    subscriberUrl: options.url,
    ...(options.onError ? { onError: options.onError } : {}),
  });
  let closing: Promise<void> | undefined;
  return {
    ...inner,
    close() {
      closing ??= (async () => {
        await inner.close();
        await redis.quit().catch(() => redis.disconnect());
      })();
      return closing;
    },
  };
}

/** The stand-in, on the in-process stores' queue and slots (one process only). */
export function createMemoryJobCoordination(options: { stores: HotStores; clock: Clock }): JobCoordination {
  const control = createMemoryControlChannel();
  return {
    kind: 'memory',
    claims: createMemoryClaimStore(options.stores.queue, options.stores.slots, options.clock),
    control,
    close: () => control.close(),
  };
}
