/**
 * Runs tasks one at a time per key, in the order they were queued; different keys run concurrently.
 *
 * Why, beside the session's row lock: the lock alone also serialises turns, but each waiter would hold
 * a PostgreSQL connection while it waits; queued here, a process has at most one connection per session
 * in use, and the lock only arbitrates between processes.
 */
export interface KeyedQueue {
  run<T>(key: string, task: () => Promise<T>): Promise<T>;
  /** Keys with a task running or waiting (tests, metrics). */
  readonly size: number;
}

export function createKeyedQueue(): KeyedQueue {
  const tails = new Map<string, Promise<unknown>>();
  return {
    run<T>(key: string, task: () => Promise<T>): Promise<T> {
      const previous = tails.get(key) ?? Promise.resolve();
      const result = previous.then(() => task());
      // A failed task must not stop the ones behind it: they wait for it to settle, not to succeed.
      const tail = result.catch(() => undefined);
      tails.set(key, tail);
      void tail.then(() => {
        if (tails.get(key) === tail) tails.delete(key);
      });
      return result;
    },
    get size() {
      return tails.size;
    },
  };
}
