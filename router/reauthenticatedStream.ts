import { isWardenError } from '../src/errors.js';
import { isAsyncIterable } from './streamLimiter.js';

/**
 * A subscription's stream that ends once its caller may no longer see it. The caller was checked when the
 * stream opened; an SSE stream can stay open for hours, so `check` runs again every `everyMs` while it is
 * open. When it throws UNAUTHORIZED (the token was revoked with `npm run token -- --revoke`, it expired,
 * its user is gone) or FORBIDDEN (an admin stream whose user is no longer admin), the stream ends with
 * that error. Any other failure of the check (PostgreSQL unreachable while the user is read) leaves the
 * stream open: the next check decides. `everyMs` 0 never checks. Anything but an async iterable (what a
 * procedure returned when it failed) is passed through.
 */
export function reauthenticatedStream(data: unknown, check: () => Promise<unknown>, everyMs: number): unknown {
  if (everyMs <= 0 || !isAsyncIterable(data)) return data;
  return {
    [Symbol.asyncIterator](): AsyncIterator<unknown> {
      const inner = data[Symbol.asyncIterator]();
      let refuse: (reason: unknown) => void = () => {};
      const refused = new Promise<never>((_, reject) => (refuse = reject));
      // Nobody may be waiting on a next() when the check refuses: the error waits for the next pull.
      refused.catch(() => {});
      let checking = false;
      const timer = setInterval(() => {
        if (checking) return;
        checking = true;
        check()
          .then(
            () => {},
            (err: unknown) => {
              if (!isWardenError(err, 'UNAUTHORIZED') && !isWardenError(err, 'FORBIDDEN')) return;
              stop();
              refuse(err);
            },
          )
          .finally(() => (checking = false));
      }, everyMs);
      // An open stream alone must not keep a stopping process alive.
      timer.unref();
      const stop = () => clearInterval(timer);
      return {
        async next() {
          try {
            const step = await Promise.race([inner.next(), refused]);
            if (step.done) stop();
            return step;
          } catch (err) {
            stop();
            // Refused while the source waits for its next value: it is told to end, and ends once the
            // adapter aborts its signal (a pending next() holds a generator's return() until it wakes).
            void Promise.resolve(inner.return?.()).catch(() => {});
            throw err;
          }
        },
        async return(value?: unknown) {
          stop();
          return inner.return ? inner.return(value) : { done: true, value };
        },
        async throw(err?: unknown) {
          stop();
          if (inner.throw) return inner.throw(err);
          throw err;
        },
      };
    },
  };
}
