import type { JobEvent } from '../../src/redis/jobEvent.js';

/** A listener that records events, and a way to wait (for events, never for time) until n have arrived. */
export function collectEvents() {
  const events: JobEvent[] = [];
  const waiters: { count: number; resolve: () => void }[] = [];
  const listener = (event: JobEvent) => {
    events.push(event);
    for (const waiter of waiters.filter((w) => events.length >= w.count)) {
      waiters.splice(waiters.indexOf(waiter), 1);
      waiter.resolve();
    }
  };
  const waitFor = (count: number): Promise<JobEvent[]> =>
    new Promise<void>((resolve) => {
      if (events.length >= count) resolve();
      else waiters.push({ count, resolve });
    }).then(() => events.slice(0, count));
  return { events, listener, waitFor };
}
