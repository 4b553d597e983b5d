import { Redis, type RedisOptions } from 'ioredis';

/** How long a command or a connection attempt may take before the caller is told Redis is unavailable. */
export const REDIS_TIMEOUT_MS = 2_000;

/**
 * A Redis connection for commands. Auto-pipelining batches the commands issued in one tick into one
 * round trip, which is what many concurrent jobs on one connection want.
 *
 * Fail fast: while Redis is unreachable a command is refused at once (no offline queue) instead of
 * waiting for a reconnect that may take minutes, and a command Redis does not answer fails after
 * REDIS_TIMEOUT_MS. A command refused this way never runs later behind the caller's back, which matters
 * for scripts that count (quotas): the caller's error is the whole story. Only before the first
 * connection are commands queued (so a caller may issue them right after creating the client).
 */
export function createRedis(url: string, options: RedisOptions = {}): Redis {
  const redis = new Redis(url, {
    enableAutoPipelining: true,
    enableOfflineQueue: true,
    autoResendUnfulfilledCommands: false,
    maxRetriesPerRequest: 0,
    connectTimeout: REDIS_TIMEOUT_MS,
    commandTimeout: REDIS_TIMEOUT_MS,
    lazyConnect: false,
    ...options,
  });
  // ioredis reads this option at every command: from the first connection on, refuse while disconnected.
  if (options.enableOfflineQueue === undefined) redis.once('ready', () => (redis.options.enableOfflineQueue = false));
  return redis;
}

/**
 * A second connection for SUBSCRIBE, which takes a connection over (Redis' rule, not ours). It keeps
 * ioredis' offline queue and re-subscribes by itself after a reconnect.
 *
 * No ready check: ioredis checks readiness with INFO, and a SUBSCRIBE that goes out as the connection
 * opens (a channel subscribed at that moment, or the re-subscription after a reconnect) puts the
 * connection in subscriber mode first — the INFO then fails with "Connection in subscriber mode", an
 * error that reached subscribers as a 500.
 */
export function createSubscriber(url: string, options: RedisOptions = {}): Redis {
  return new Redis(url, { maxRetriesPerRequest: null, connectTimeout: REDIS_TIMEOUT_MS, enableReadyCheck: false, ...options });
}

/** Resolves once the connection is ready for commands; rejects with a clear message after `timeoutMs`. */
export async function waitUntilReady(redis: Redis, timeoutMs = 10_000): Promise<void> {
  if (redis.status === 'ready') return;
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => {
      cleanup();
      reject(new Error(`Redis did not answer within ${timeoutMs} ms (${describe(redis)}); is it running?`));
    }, timeoutMs);
    const onReady = () => {
      cleanup();
      resolve();
    };
    const onEnd = () => {
      cleanup();
      reject(new Error(`Redis connection ended before it was ready (${describe(redis)})`));
    };
    function cleanup() {
      clearTimeout(timer);
      redis.off('ready', onReady);
      redis.off('end', onEnd);
    }
    redis.on('ready', onReady);
    redis.on('end', onEnd);
  });
}

function describe(redis: Redis): string {
  const { host, port } = redis.options;
  return `${host ?? '127.0.0.1'}:${port ?? 6379}`;
}
