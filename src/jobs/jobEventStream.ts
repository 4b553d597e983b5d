import { isTerminal } from '../../actors/jobTransitions.js';
import type { JobsRepository } from '../db/jobsRepository.js';
import type { JobEvent } from '../redis/jobEvent.js';
import type { JobEventFeed } from '../redis/jobEventFeed.js';
import { unreachableService } from '../unavailable.js';
import { transitionToEvent } from './jobViews.js';

/** How often a stream reads the log while the live feed is down, and as a safety net while it is up. */
export const LOG_POLL_MS = { feedDown: 1_000, feedUp: 15_000 };

/**
 * A job's events for a subscriber (jobs.events). Without a cursor it starts with the job's current state
 * (its last transition); with `afterSeq` it starts with every transition after it. Then live events
 * follow until a terminal status. No gap, no duplicate: it listens first, then reads the log (a
 * transition is published only after it is committed, so whatever the log lacks arrives live), skips
 * what it has yielded, and fills from the log any gap it sees in the live feed.
 *
 * The log is the source, the feed only the fast path (SPEC §10): when the feed is down (Redis
 * unreachable, or it drops messages while it reconnects) the stream tails the log instead, so no
 * subscriber waits forever and a stream whose job has ended always ends.
 * The caller checks that the job is the subscriber's.
 */
export async function* streamJobEvents(
  deps: { jobs: Pick<JobsRepository, 'getTransitions'>; events: JobEventFeed },
  jobId: string,
  afterSeq: number | null,
  signal?: AbortSignal,
): AsyncGenerator<JobEvent, void, undefined> {
  const live: JobEvent[] = [];
  let notify: (() => void) | null = null;
  const onEvent = (event: JobEvent) => {
    live.push(event);
    notify?.();
  };
  // Redis unreachable: no live feed for this stream; it reads the log on a timer instead.
  let subscribed = true;
  const unsubscribe = await deps.events.subscribe(jobId, onEvent).catch(() => {
    subscribed = false;
    return async () => {};
  });
  const onAbort = () => notify?.();
  /** The log after `seq`; while PostgreSQL is unreachable it waits and tries again, as long as the subscriber stays. */
  const logAfter = async (seq: number) => {
    for (;;) {
      try {
        return (await deps.jobs.getTransitions(jobId, seq)).map(transitionToEvent);
      } catch (error) {
        if (unreachableService(error) !== 'postgres' || signal?.aborted) throw error;
        let timer: NodeJS.Timeout | undefined;
        await new Promise<void>((resolve) => {
          notify = resolve;
          timer = setTimeout(resolve, LOG_POLL_MS.feedDown);
        });
        clearTimeout(timer);
        notify = null;
        if (signal?.aborted) return [];
      }
    }
  };
  signal?.addEventListener('abort', onAbort);
  try {
    const log = await logAfter(afterSeq ?? 0);
    let last = afterSeq ?? 0;
    for (const event of afterSeq === null ? log.slice(-1) : log) {
      yield event;
      last = event.seq;
      if (isTerminal(event.status)) return;
    }
    for (;;) {
      for (let event = live.shift(); event !== undefined; event = live.shift()) {
        if (event.seq <= last) continue;
        if (event.seq > last + 1) {
          // Published out of our sight (a catch-up after a crash): read the missing ones from the log.
          for (const missing of await logAfter(last)) {
            if (missing.seq >= event.seq) break;
            yield missing;
            last = missing.seq;
          }
        }
        yield event;
        last = event.seq;
        if (isTerminal(event.status)) return;
      }
      if (signal?.aborted) return;
      const pollMs = subscribed && deps.events.connected() ? LOG_POLL_MS.feedUp : LOG_POLL_MS.feedDown;
      let timer: NodeJS.Timeout | undefined;
      const polled = await new Promise<boolean>((resolve) => {
        notify = () => resolve(false);
        timer = setTimeout(() => resolve(true), pollMs);
      });
      clearTimeout(timer);
      notify = null;
      if (!polled) continue;
      for (const event of await logAfter(last)) {
        yield event;
        last = event.seq;
        if (isTerminal(event.status)) return;
      }
    }
  } finally {
    signal?.removeEventListener('abort', onAbort);
    await unsubscribe();
  }
}
