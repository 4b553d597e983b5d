import type { JobEvent } from '../jobEvent.js';
import type { FeedErrorHandler, JobEventFeed, JobEventListener, Unsubscribe } from '../jobEventFeed.js';

/** The stand-in's feed, plus the publish side its TransitionStore calls. */
export interface MemoryJobEventFeed extends JobEventFeed {
  publish(event: JobEvent): void;
}

// Channel names as on Redis: one per job and one for all, which no job id can collide with.
const ALL = 'all';
const jobChannel = (jobId: string) => `job:${jobId}`;

/**
 * Live job events inside one process. Delivery is asynchronous (a microtask per publish, in publish
 * order), as on Redis, so a listener never runs inside the transition that produced its event. Events
 * are frozen copies: listeners cannot change what the next listener sees.
 */
export function createMemoryJobEventFeed(options: { onError?: FeedErrorHandler } = {}): MemoryJobEventFeed {
  const onError: FeedErrorHandler =
    options.onError ?? ((error, { channel }) => process.emitWarning(`job event feed (${channel}): ${String(error)}`));
  const channels = new Map<string, Set<JobEventListener>>();
  let closed = false;

  const listen = (channel: string, listener: JobEventListener): Promise<Unsubscribe> => {
    if (closed) return Promise.reject(new Error('job event feed is closed'));
    let listeners = channels.get(channel);
    if (!listeners) {
      listeners = new Set();
      channels.set(channel, listeners);
    }
    listeners.add(listener);
    const joined = listeners;
    return Promise.resolve(async () => {
      joined.delete(listener);
      if (joined.size === 0 && channels.get(channel) === joined) channels.delete(channel);
      await Promise.resolve();
    });
  };

  const deliver = (channel: string, event: JobEvent) => {
    const listeners = channels.get(channel);
    if (!listeners) return;
    for (const listener of [...listeners]) {
      // Only listeners still subscribed at delivery time, as with Redis after UNSUBSCRIBE.
      if (!listeners.has(listener)) continue;
      try {
        listener(event);
      } catch (error) {
        onError(error, { channel });
      }
    }
  };

  return {
    subscribe: (jobId, listener) => listen(jobChannel(jobId), listener),
    subscribeAll: (listener) => listen(ALL, listener),
    connected: () => !closed,
    publish(event) {
      if (closed) return;
      const frozen = Object.freeze({ ...event });
      queueMicrotask(() => {
        deliver(jobChannel(event.jobId), frozen);
        deliver(ALL, frozen);
      });
    },
    close() {
      closed = true;
      channels.clear();
      return Promise.resolve();
    },
  };
}
