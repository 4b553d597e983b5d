import type { Redis } from 'ioredis';
import type { z } from 'zod';

/**
 * One Redis pub/sub channel fanned out to in-process listeners: the SUBSCRIBE connection is opened on
 * the first subscribe, each message is parsed once with the schema, and a bad message or a throwing
 * listener is reported without stopping delivery to the others.
 */
export interface ChannelFanout<T> {
  /** Resolves once the channel is subscribed; returns the unsubscribe function. */
  subscribe(listener: (message: T) => void): Promise<() => Promise<void>>;
  close(): Promise<void>;
}

export function createChannelFanout<S extends z.ZodType>(options: {
  channel: string;
  schema: S;
  connectSubscriber: () => Redis;
  onError: (error: unknown) => void;
  /** Named in the error after close(). */
  name: string;
  /**
   * False when the connection is the process' shared subscriber: close() then leaves only this channel
   * and its connection-level errors are the owner's to report (default true).
   */
  ownsConnection?: boolean;
}): ChannelFanout<z.output<S>> {
  const owns = options.ownsConnection ?? true;
  const { channel, schema, onError } = options;
  const listeners = new Set<(message: z.output<S>) => void>();
  let subscriber: Redis | undefined;
  let ready: Promise<unknown> | undefined;
  let closed = false;

  const deliver = (from: string, raw: string) => {
    if (from !== channel) return;
    let message: z.output<S>;
    try {
      message = schema.parse(JSON.parse(raw));
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
    async subscribe(listener) {
      if (closed) throw new Error(`${options.name} is closed`);
      if (!subscriber) {
        subscriber = options.connectSubscriber();
        subscriber.on('message', deliver);
        if (owns) subscriber.on('error', onError);
        ready = subscriber.subscribe(channel);
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
      if (!connection) return;
      if (owns) {
        await connection.quit().catch(() => connection.disconnect());
        return;
      }
      connection.off('message', deliver);
      if (connection.status === 'ready') await connection.unsubscribe(channel).catch(() => {});
    },
  };
}
