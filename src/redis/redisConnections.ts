import type { Redis } from 'ioredis';
import type { Logger } from '../log.js';
import { createRedis, createSubscriber } from './client.js';
import { watchConnection, type ConnectionWatch } from './connectionWatch.js';
import { createKeys, type Keys } from './keys.js';

/**
 * The Redis connections of one process, opened once and shared by every store, channel and module: one
 * for commands (auto-pipelined) and one for SUBSCRIBE, each channel's listeners multiplexed over it. An
 * outage is logged once per connection, with its end (connectionWatch.ts).
 */
export interface RedisConnections {
  readonly commands: Redis;
  readonly subscriber: Redis;
  readonly keys: Keys;
  /** The command connection's health: up(), and a callback when an outage ends. */
  readonly watch: ConnectionWatch;
  close(): Promise<void>;
}

export function openRedisConnections(options: { url: string; keyPrefix: string; log: Pick<Logger, 'warn' | 'info'> }): RedisConnections {
  const commands = createRedis(options.url);
  const subscriber = createSubscriber(options.url);
  const watch = watchConnection(commands, { name: 'commands', log: options.log });
  watchConnection(subscriber, { name: 'subscriber', log: options.log });
  let closing: Promise<void> | undefined;
  return {
    commands,
    subscriber,
    keys: createKeys(options.keyPrefix),
    watch,
    close() {
      closing ??= (async () => {
        await Promise.all([commands, subscriber].map((c) => c.quit().catch(() => c.disconnect())));
      })();
      return closing;
    },
  };
}
