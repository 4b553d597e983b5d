import { isTerminal } from '../../actors/jobTransitions.js';
import type { JobsRepository } from '../db/jobsRepository.js';
import type { JobEvent } from '../redis/jobEvent.js';
import type { JobEventFeed } from '../redis/jobEventFeed.js';
import { transitionToEvent } from './jobViews.js';

/**
 * A job's events for a subscriber (jobs.events, issue 4 item 5). Without a cursor it starts with the
 * job's current state (its last transition); with `afterSeq` it starts with every transition after it.
 * Then live events follow until a terminal status. No gap, no duplicate: it listens first, then reads
 * the log (a transition is published only after it is committed, so whatever the log lacks arrives
 * live), skips what it has yielded, and fills from the log any gap it sees in the live feed.
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
  const unsubscribe = await deps.events.subscribe(jobId, (event) => {
    live.push(event);
    notify?.();
  });
  const onAbort = () => notify?.();
  signal?.addEventListener('abort', onAbort);
  try {
    const log = (await deps.jobs.getTransitions(jobId, afterSeq ?? 0)).map(transitionToEvent);
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
          const missing = (await deps.jobs.getTransitions(jobId, last)).filter((row) => row.seq < event.seq);
          for (const row of missing) {
            yield transitionToEvent(row);
            last = row.seq;
          }
        }
        yield event;
        last = event.seq;
        if (isTerminal(event.status)) return;
      }
      if (signal?.aborted) return;
      await new Promise<void>((resolve) => (notify = resolve));
      notify = null;
    }
  } finally {
    signal?.removeEventListener('abort', onAbort);
    await unsubscribe();
  }
}
