import { Redis, type RedisOptions } from 'ioredis';

/**
 * A Redis connection for commands. Auto-pipelining batches the commands issued in one tick into one
 * round trip, which is what many concurrent jobs on one connection want.
 */
export function createRedis(url: string, options: RedisOptions = {}): Redis {
  return new Redis(url, {
    enableAutoPipelining: true,
    maxRetriesPerRequest: 3,
    lazyConnect: false,
    ...options,
  });
}

/** A second connection for SUBSCRIBE, which takes a connection over (Redis' rule, not ours). */
export function createSubscriber(url: string, options: RedisOptions = {}): Redis {
  return new Redis(url, { maxRetriesPerRequest: null, ...options });
}
