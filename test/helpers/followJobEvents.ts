import type { WardenClient } from '../../src/client.js';
import { jobEventSchema, type JobEvent } from '../../src/redis/jobEvent.js';

/** A jobs.events subscription as a test watches it. */
export interface Followed {
  /** Every event received, with the id it was tracked with; each checked against the published schema. */
  events: { id: string | undefined; data: JobEvent }[];
  /** Connection states the client went through ("connecting", "pending", …). */
  states: string[];
  /** Resolves once `predicate` holds (checked as events and state changes arrive). */
  until(predicate: (f: Followed) => boolean): Promise<void>;
  /** Resolves when the server ends the stream (after a terminal status); rejects with the stream's error. */
  ended: Promise<void>;
  stop(): void;
}

/**
 * Subscribes with the typed client and records what arrives. `ended` settles the way the stream does: it
 * resolves when the server ends it, and rejects with the error it ends with — or at once with an error the
 * server sent that the client would retry (an INTERNAL_SERVER_ERROR would be retried forever).
 */
export function follow(client: WardenClient, input: { jobId: string; lastEventId?: string }): Followed {
  const waiters = new Set<() => void>();
  const check = () => waiters.forEach((waiter) => waiter());
  let settle: { resolve: () => void; reject: (err: unknown) => void } = { resolve: () => {}, reject: () => {} };
  const ended = new Promise<void>((resolve, reject) => (settle = { resolve, reject }));
  const followed: Followed = {
    events: [],
    states: [],
    until: (predicate) =>
      new Promise((resolve, reject) => {
        const waiter = () => {
          if (!predicate(followed)) return;
          waiters.delete(waiter);
          resolve();
        };
        waiters.add(waiter);
        ended.then(() => waiter(), reject);
        waiter();
      }),
    ended,
    stop: () => sub.unsubscribe(),
  };
  const sub = client.jobs.events.subscribe(input, {
    onData: (envelope) => {
      followed.events.push({ id: envelope.id, data: jobEventSchema.parse(envelope.data) });
      check();
    },
    onConnectionStateChange: (state) => {
      followed.states.push(state.state);
      // An error the server sent that the client retries (INTERNAL_SERVER_ERROR …): it would retry forever.
      if (state.state === 'connecting' && state.error?.data) settle.reject(state.error);
      check();
    },
    onComplete: () => settle.resolve(),
    onError: (err) => settle.reject(err),
  });
  return followed;
}
