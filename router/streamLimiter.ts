import { isObservable, observableToAsyncIterable } from '@trpc/server/observable';

/**
 * Open subscription streams per user, in this process. Why: each SSE stream holds a socket, a Redis
 * channel subscription and a generator; without a cap one client (or one leaked token) can hold a
 * process's connection budget. Per process, not cluster-wide: the cap protects the process.
 */
export interface StreamLimiter {
  /** A release function for a new stream of the user, or undefined when they are at the cap. */
  acquire(userId: string): (() => void) | undefined;
  /** Streams the user has open now. */
  open(userId: string): number;
  readonly max: number;
}

/** `max` 0 = no cap (streams are still counted). */
export function createStreamLimiter(max: number): StreamLimiter {
  const counts = new Map<string, number>();
  return {
    max,
    open: (userId) => counts.get(userId) ?? 0,
    acquire(userId) {
      const current = counts.get(userId) ?? 0;
      if (max > 0 && current >= max) return undefined;
      counts.set(userId, current + 1);
      let released = false;
      return () => {
        if (released) return;
        released = true;
        const left = (counts.get(userId) ?? 1) - 1;
        if (left <= 0) counts.delete(userId);
        else counts.set(userId, left);
      };
    },
  };
}

/**
 * The subscription's result, releasing `release` when the stream ends however it ends: exhausted,
 * failed, returned early by the adapter (client gone), or aborted before it was ever pulled. Not an
 * async generator: `return()` on a generator that has not started skips its `finally`, which would
 * leak the slot of a client that leaves at once. An error the stream throws goes through `mapError`
 * first: middlewares only see what the resolver throws, not what the stream throws later.
 */
export function releasingStream(
  data: unknown,
  release: () => void,
  signal: AbortSignal | undefined,
  mapError: (err: unknown) => unknown = (err) => err,
): unknown {
  signal?.addEventListener('abort', release, { once: true });
  const source: unknown = isObservable(data) ? observableToAsyncIterable(data, signal ?? new AbortController().signal) : data;
  if (!isAsyncIterable(source)) {
    release();
    return data;
  }
  return {
    [Symbol.asyncIterator](): AsyncIterator<unknown> {
      const inner = source[Symbol.asyncIterator]();
      return {
        async next() {
          try {
            const step = await inner.next();
            if (step.done) release();
            return step;
          } catch (err) {
            release();
            throw mapError(err);
          }
        },
        async return(value?: unknown) {
          release();
          return inner.return ? inner.return(value) : { done: true, value };
        },
        async throw(err?: unknown) {
          release();
          if (inner.throw) return inner.throw(err);
          throw err;
        },
      };
    },
  };
}

export function isAsyncIterable(value: unknown): value is AsyncIterable<unknown> {
  return typeof value === 'object' && value !== null && Symbol.asyncIterator in value;
}
