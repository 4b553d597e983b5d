import type { Redis } from 'ioredis';
import { z } from 'zod';
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
 * The ControlChannel on Redis pub/sub (keys.control()). `connectSubscriber` opens the connection
 * SUBSCRIBE takes over; it is opened on first subscribe and closed by close().
 */
export function createRedisControlChannel(options: {
  redis: Redis;
  keys: Keys;
  connectSubscriber: () => Redis;
  onError?: (error: unknown) => void;
}): ControlChannel {
  const { redis, keys } = options;
  const onError = options.onError ?? ((error: unknown) => process.emitWarning(`control channel: ${String(error)}`));
  const listeners = new Set<ControlListener>();
  let subscriber: Redis | undefined;
  let ready: Promise<unknown> | undefined;
  let closed = false;

  const deliver = (channel: string, raw: string) => {
    if (channel !== keys.control()) return;
    let message: ControlMessage;
    try {
      message = controlMessageSchema.parse(JSON.parse(raw));
    } catch (error) {
      onError(error);
      return;
    }
    for (const listener of [...listeners]) {
      try {
        listener(message);
      } catch (error) {
        onError(error);
      }
    }
  };

  return {
    async publish(message) {
      await redis.publish(keys.control(), JSON.stringify(controlMessageSchema.parse(message)));
    },
    async subscribe(listener) {
      if (closed) throw new Error('control channel is closed');
      if (!subscriber) {
        subscriber = options.connectSubscriber();
        subscriber.on('message', deliver);
        subscriber.on('error', onError);
        ready = subscriber.subscribe(keys.control());
      }
      listeners.add(listener);
      await ready;
      return async () => {
        listeners.delete(listener);
      };
    },
    async close() {
      if (closed) return;
      closed = true;
      listeners.clear();
      const connection = subscriber;
      subscriber = undefined;
      if (connection) await connection.quit().catch(() => connection.disconnect());
    },
  };
}
