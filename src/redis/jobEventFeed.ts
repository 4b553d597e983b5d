import type { Redis } from 'ioredis';
import { parseJobEvent, type JobEvent } from './jobEvent.js';
import type { Keys } from './keys.js';

export type JobEventListener = (event: JobEvent) => void;
/** Stops one listener; resolves once nothing more will be delivered to it. */
export type Unsubscribe = () => Promise<void>;
/** Where a dropped message or a throwing listener is reported (a logger, in the server). */
export type FeedErrorHandler = (error: unknown, context: { channel: string; raw?: string }) => void;

/**
 * Live job events. `subscribe` resolves once the subscription is active (on Redis: SUBSCRIBE has been
 * acknowledged), so a caller can subscribe first and then read the backlog without a gap.
 */
export interface JobEventFeed {
  subscribe(jobId: string, listener: JobEventListener): Promise<Unsubscribe>;
  subscribeAll(listener: JobEventListener): Promise<Unsubscribe>;
  /** False while the feed cannot deliver (Redis unreachable): readers then tail the PostgreSQL log. */
  connected(): boolean;
  /** Drops every listener and closes what the feed owns. */
  close(): Promise<void>;
}

interface Channel {
  listeners: Set<JobEventListener>;
  /** Settles when Redis has acknowledged the SUBSCRIBE. */
  ready: Promise<unknown>;
}

const defaultOnError: FeedErrorHandler = (error, { channel }) => {
  process.emitWarning(`job event feed (${channel}): ${String(error)}`);
};

/**
 * The JobEventFeed on Redis pub/sub: one subscriber connection, opened on first use, multiplexed over all
 * listeners (one SUBSCRIBE per channel however many listeners it has). Every message is validated with
 * jobEventSchema before a listener sees it.
 *
 * `connect` returns the subscriber connection, which the caller owns (it is shared with other channels):
 * close() leaves only this feed's channels, and the connection's own errors are the owner's to report.
 */
export function createRedisJobEventFeed(options: {
  keys: Keys;
  connect: () => Redis;
  onError?: FeedErrorHandler;
}): JobEventFeed {
  const { keys, connect } = options;
  const onError = options.onError ?? defaultOnError;
  const channels = new Map<string, Channel>();
  let subscriber: Redis | undefined;
  let closed = false;

  const deliver = (channelName: string, raw: string) => {
    const channel = channels.get(channelName);
    if (!channel) return;
    let event: JobEvent;
    try {
      event = parseJobEvent(raw);
    } catch (error) {
      onError(error, { channel: channelName, raw });
      return;
    }
    for (const listener of [...channel.listeners]) {
      // A listener unsubscribed by an earlier one in this loop gets nothing more.
      if (!channel.listeners.has(listener)) continue;
      try {
        listener(event);
      } catch (error) {
        onError(error, { channel: channelName });
      }
    }
  };

  const connection = (): Redis => {
    if (!subscriber) {
      subscriber = connect();
      subscriber.on('message', deliver);
    }
    return subscriber;
  };

  const listen = async (channelName: string, listener: JobEventListener): Promise<Unsubscribe> => {
    if (closed) throw new Error('job event feed is closed');
    let channel = channels.get(channelName);
    if (!channel) {
      channel = { listeners: new Set(), ready: connection().subscribe(channelName) };
      channels.set(channelName, channel);
    }
    const joined = channel;
    joined.listeners.add(listener);
    try {
      await joined.ready;
    } catch (error) {
      joined.listeners.delete(listener);
      if (channels.get(channelName) === joined && joined.listeners.size === 0) channels.delete(channelName);
      throw error;
    }
    let active = true;
    return async () => {
      if (!active) return;
      active = false;
      joined.listeners.delete(listener);
      if (joined.listeners.size > 0 || channels.get(channelName) !== joined) return;
      channels.delete(channelName);
      // Commands on one connection run in order, so a later SUBSCRIBE of this channel still wins.
      if (subscriber && !closed) await subscriber.unsubscribe(channelName);
    };
  };

  return {
    subscribe: (jobId, listener) => listen(keys.jobEvents(jobId), listener),
    subscribeAll: (listener) => listen(keys.allJobEvents(), listener),
    connected: () => !closed && (subscriber === undefined || subscriber.status === 'ready'),
    async close() {
      if (closed) return;
      closed = true;
      const ours = [...channels.keys()];
      channels.clear();
      const connectionToEnd = subscriber;
      subscriber = undefined;
      if (!connectionToEnd) return;
      connectionToEnd.off('message', deliver);
      if (ours.length > 0 && connectionToEnd.status === 'ready') await connectionToEnd.unsubscribe(...ours);
    },
  };
}
