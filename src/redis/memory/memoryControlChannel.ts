import type { ControlChannel, ControlListener } from '../controlChannel.js';

/** The stand-in's ControlChannel: one process, so a set of listeners called on a later tick. */
export function createMemoryControlChannel(): ControlChannel {
  const listeners = new Set<ControlListener>();
  return {
    publish(message) {
      // Delivered on a later tick, as pub/sub is: a publisher never re-enters its own listener.
      queueMicrotask(() => {
        for (const listener of [...listeners]) listener(message);
      });
      return Promise.resolve();
    },
    subscribe(listener) {
      listeners.add(listener);
      return Promise.resolve(async () => {
        listeners.delete(listener);
      });
    },
    close() {
      listeners.clear();
      return Promise.resolve();
    },
  };
}
