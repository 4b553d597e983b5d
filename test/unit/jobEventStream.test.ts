import { describe, expect, it } from 'vitest';
import { STAGE_LABELS, type JobStatus } from '../../actors/jobTransitions.js';
import type { TransitionRow } from '../../src/db/jobRows.js';
import { streamJobEvents } from '../../src/jobs/jobEventStream.js';
import { transitionToEvent } from '../../src/jobs/jobViews.js';
import { createMemoryJobEventFeed } from '../../src/redis/memory/memoryJobEventFeed.js';

const PATH: JobStatus[] = ['queued', 'starting', 'scaffold', 'code', 'deps', 'checks', 'ready'];

/** A job's log that the test grows, and a feed the test publishes on (as the recorder does: log first). */
function fixture() {
  const log: TransitionRow[] = [];
  const feed = createMemoryJobEventFeed();
  const jobs = { getTransitions: (_jobId: string, after = 0) => Promise.resolve(log.filter((t) => t.seq > after)) };
  const commit = (seq: number): TransitionRow => {
    const row: TransitionRow = {
      jobId: 'j1',
      seq,
      fromStatus: seq === 1 ? null : (PATH[seq - 2] ?? null),
      toStatus: PATH[seq - 1] ?? 'failed',
      message: STAGE_LABELS[PATH[seq - 1] ?? 'failed'],
      iteration: 0,
      at: new Date(Date.UTC(2031, 0, 1, 0, 0, seq)).toISOString(),
    };
    log.push(row);
    return row;
  };
  const publish = (row: TransitionRow) => feed.publish(transitionToEvent(row));
  return { feed, jobs, commit, publish };
}

async function collect(stream: AsyncGenerator<{ seq: number }>): Promise<number[]> {
  const seqs: number[] = [];
  for await (const event of stream) seqs.push(event.seq);
  return seqs;
}

describe('streamJobEvents', () => {
  it('starts with the current state, then live events until terminal', async () => {
    const { feed, jobs, commit, publish } = fixture();
    for (let seq = 1; seq <= 3; seq++) commit(seq);
    const stream = streamJobEvents({ jobs, events: feed }, 'j1', null);
    const first = await stream.next();
    expect(first.value).toMatchObject({ seq: 3, status: 'scaffold', previousStatus: 'starting' });
    for (let seq = 4; seq <= 7; seq++) publish(commit(seq));
    expect(await collect(stream)).toEqual([4, 5, 6, 7]);
  });

  it('after a cursor: the backlog from the log, then live, skipping what both delivered', async () => {
    const { feed, jobs, commit, publish } = fixture();
    const rows = [1, 2, 3, 4].map(commit);
    const stream = streamJobEvents({ jobs, events: feed }, 'j1', 2);
    const seqs = [(await stream.next()).value?.seq];
    // Seq 4 arrives live although the log already gave it (published late): it must not repeat.
    if (rows[3]) publish(rows[3]);
    for (let seq = 5; seq <= 7; seq++) publish(commit(seq));
    seqs.push(...(await collect(stream)));
    expect(seqs).toEqual([3, 4, 5, 6, 7]);
  });

  it('fills a gap in the live feed from the log (a transition published out of its sight)', async () => {
    const { feed, jobs, commit, publish } = fixture();
    commit(1);
    const stream = streamJobEvents({ jobs, events: feed }, 'j1', 0);
    expect((await stream.next()).value?.seq).toBe(1);
    commit(2);
    commit(3);
    publish(commit(4));
    for (let seq = 5; seq <= 7; seq++) publish(commit(seq));
    expect(await collect(stream)).toEqual([2, 3, 4, 5, 6, 7]);
  });

  it('ends at once for a finished job, and when its signal aborts', async () => {
    const { feed, jobs, commit } = fixture();
    for (let seq = 1; seq <= 7; seq++) commit(seq);
    expect(await collect(streamJobEvents({ jobs, events: feed }, 'j1', null))).toEqual([7]);

    const other = fixture();
    other.commit(1);
    const controller = new AbortController();
    const stream = streamJobEvents({ jobs: other.jobs, events: other.feed }, 'j1', null, controller.signal);
    expect((await stream.next()).value?.seq).toBe(1);
    const rest = collect(stream);
    controller.abort();
    expect(await rest).toEqual([]);
  });
});
