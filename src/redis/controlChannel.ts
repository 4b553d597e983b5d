import type { Redis } from 'ioredis';
import { z } from 'zod';
import { createChannelFanout } from './channelFanout.js';
import type { Keys } from './keys.js';

/**
 * Messages between Warden processes. `fail`: the process hosting the job aborts its step and fails it
 * with the reason (cancel, max age); the durable request is in the ClaimStore, for a job between hosts.
 * `wake`: work appeared (a job queued, slots freed), so idle workers look at the queue now instead of
 * at their next poll.
 */
export const controlMessageSchema = z.discriminatedUnion('type', [
  z.strictObject({ type: z.literal('fail'), jobId: z.string().min(1), reason: z.string().min(1) }),
  z.strictObject({ type: z.literal('wake') }),
]);
export type ControlMessage = z.infer<typeof controlMessageSchema>;
export type ControlListener = (message: ControlMessage) => void;

/** The control channel: broadcast to every process of the cluster, this one included. */
export interface ControlChannel {
  publish(message: ControlMessage): Promise<void>;
  /** Resolves once messages are being received. */
  subscribe(listener: ControlListener): Promise<() => Promise<void>>;
  close(): Promise<void>;
}

/**
 * The ControlChannel on Redis pub/sub (keys.control()). `connectSubscriber` gives the subscriber
 * connection, the caller's (shared with other channels): close() leaves only this channel.
 */
export function createRedisControlChannel(options: {
  redis: Redis;
  keys: Keys;
  connectSubscriber: () => Redis;
  onError?: (error: unknown) => void;
}): ControlChannel {
  const { redis, keys } = options;
  const onError = options.onError ?? ((error: unknown) => process.emitWarning(`control channel: ${String(error)}`));
  const fanout = createChannelFanout({
    channel: keys.control(),
    schema: controlMessageSchema,
    connectSubscriber: options.connectSubscriber,
    onError,
    name: 'control channel',
    ownsConnection: false,
  });

  return {
    async publish(message) {
      await redis.publish(keys.control(), JSON.stringify(controlMessageSchema.parse(message)));
    },
    subscribe: (listener) => fanout.subscribe(listener),
    close: () => fanout.close(),
  };
}
