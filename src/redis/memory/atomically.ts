/**
 * Runs a stand-in operation synchronously — so no other operation can interleave, which is what makes it
 * as atomic as a Lua script — and hands back its result or its error as a promise, as the Redis stores do.
 */
export function atomically<T>(work: () => T): Promise<T> {
  try {
    return Promise.resolve(work());
  } catch (error) {
    return Promise.reject(error instanceof Error ? error : new Error(String(error)));
  }
}
