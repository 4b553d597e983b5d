import type { Redis } from 'ioredis';
import type { Logger } from '../log.js';

/**
 * Whether a Redis connection is up, told once per outage. ioredis emits an 'error' per failed reconnect
 * attempt (hundreds in a long outage); this logs the first as the outage's start and the next 'ready' as
 * its end, with how long it lasted, and tells listeners that Redis answers again (they catch up).
 */
export interface ConnectionWatch {
  up(): boolean;
  /** Called after each outage ends; returns the unsubscribe function. */
  onRecovered(listener: () => void): () => void;
}

export function watchConnection(redis: Redis, options: { name: string; log: Pick<Logger, 'warn' | 'info'>; now?: () => number }): ConnectionWatch {
  const now = options.now ?? Date.now;
  const listeners = new Set<() => void>();
  let downSince: number | null = null;
  const down = (err: unknown) => {
    if (downSince !== null) return;
    downSince = now();
    options.log.warn({ err, connection: options.name }, 'redis unreachable');
  };
  redis.on('error', down);
  // 'reconnecting', not 'close': a deliberate quit closes too, and is no outage.
  redis.on('reconnecting', () => down(new Error('connection lost')));
  redis.on('ready', () => {
    if (downSince === null) return;
    options.log.info({ connection: options.name, downForMs: now() - downSince }, 'redis reachable again');
    downSince = null;
    for (const listener of [...listeners]) listener();
  });
  return {
    up: () => downSince === null && redis.status === 'ready',
    onRecovered(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
  };
}
