import { describe, expect, it } from 'vitest';
import { STAGE_LABELS, type JobStatus } from '../../actors/jobTransitions.js';
import { createManualClock } from '../../src/clock.js';
import { jobEventSchema, type JobEvent } from '../../src/redis/jobEvent.js';
import type { TransitionResult, TransitionStore } from '../../src/redis/transitionStore.js';
import { collectEvents } from './collectEvents.js';
import { storeImplementations, uid } from './storeImplementations.js';

const implementations = storeImplementations('transitions');
const START = '2031-04-01T09:00:00.000Z';

const init = { status: 'queued', ownerId: 'alice', projectId: 'proj-1', tier: 'partner' } as const;

/** The event of an accepted transition; fails the test when it was refused. */
function eventOf(result: TransitionResult | undefined): JobEvent {
  if (!result?.ok) throw new Error(`expected an accepted transition, got ${JSON.stringify(result)}`);
  return result.event;
}

/** Walks a job along `path` from queued, one accepted transition per step. */
async function walk(store: TransitionStore, jobId: string, path: JobStatus[]) {
  let status: JobStatus = 'queued';
  for (const [i, next] of path.entries()) {
    const result = await store.applyTransition({ jobId, expectedStatus: status, expectedSeq: i, status: next, iteration: 0 });
    expect(result.ok).toBe(true);
    status = next;
  }
}

describe.each(implementations)('TransitionStore on %s', (_name, impl) => {
  const open = (options?: { terminalRetentionMs?: number }) => {
    const clock = createManualClock(START);
    return { clock, ...impl.open(clock, options) };
  };

  it('creates a job once, at seq 0', async () => {
    const { stores } = open();
    const jobId = uid('job');
    expect(await stores.transitions.initJob(jobId, init)).toBe(true);
    expect(await stores.transitions.get(jobId)).toEqual({
      jobId,
      status: 'queued',
      seq: 0,
      iteration: 0,
      ownerId: 'alice',
      projectId: 'proj-1',
      tier: 'partner',
      message: '',
      stageLabel: STAGE_LABELS.queued,
      createdAt: Date.parse(START),
      updatedAt: Date.parse(START),
    });
    await walk(stores.transitions, jobId, ['starting']);
    // A retried create changes nothing.
    expect(await stores.transitions.initJob(jobId, init)).toBe(false);
    expect(await stores.transitions.get(jobId)).toMatchObject({ status: 'starting', seq: 1 });
    expect(await stores.transitions.get(uid('none'))).toBeNull();
  });

  it('moves seq up by exactly one per accepted transition and publishes each event', async () => {
    const { stores, clock } = open();
    const jobId = uid('job');
    await stores.transitions.initJob(jobId, init);
    const mine = collectEvents();
    const all = collectEvents();
    const stop = await stores.events.subscribe(jobId, mine.listener);
    await stores.events.subscribeAll(all.listener);

    const path: JobStatus[] = ['starting', 'scaffold', 'code', 'deps', 'checks', 'scaffold', 'code', 'deps', 'checks', 'ready'];
    let previous: JobStatus = 'queued';
    let iteration = 0;
    for (const [i, status] of path.entries()) {
      clock.advance(1000);
      if (previous === 'checks' && status === 'scaffold') iteration += 1;
      const result = await stores.transitions.applyTransition({
        jobId,
        expectedStatus: previous,
        expectedSeq: i,
        status,
        message: `to ${status}`,
        iteration,
      });
      expect(result).toEqual({
        ok: true,
        event: {
          jobId,
          seq: i + 1,
          status,
          previousStatus: previous,
          message: `to ${status}`,
          stageLabel: STAGE_LABELS[status],
          iteration,
          timestamp: new Date(clock.now()).toISOString(),
        },
      });
      previous = status;
    }
    const events = await mine.waitFor(path.length);
    expect(events.map((e) => e.seq)).toEqual(path.map((_, i) => i + 1));
    expect(events.map((e) => e.status)).toEqual(path);
    for (const event of events) expect(jobEventSchema.parse(event)).toEqual(event);
    expect(await all.waitFor(path.length)).toEqual(events);
    expect(await stores.transitions.get(jobId)).toMatchObject({
      status: 'ready',
      seq: path.length,
      iteration: 1,
      message: 'to ready',
      stageLabel: 'Build complete!',
      updatedAt: clock.now(),
    });
    await stop();
  });

  it('publishes nothing for a refused transition', async () => {
    const { stores } = open();
    const jobId = uid('job');
    await stores.transitions.initJob(jobId, init);
    const mine = collectEvents();
    const all = collectEvents();
    await stores.events.subscribe(jobId, mine.listener);
    await stores.events.subscribeAll(all.listener);

    // Wrong status, then a stale seq, then a job that does not exist: all refused.
    expect(
      await stores.transitions.applyTransition({ jobId, expectedStatus: 'starting', expectedSeq: 0, status: 'scaffold', iteration: 0 }),
    ).toEqual({ ok: false, reason: 'conflict', current: { status: 'queued', seq: 0 } });
    expect(
      await stores.transitions.applyTransition({ jobId, expectedStatus: 'queued', expectedSeq: 3, status: 'starting', iteration: 0 }),
    ).toEqual({ ok: false, reason: 'conflict', current: { status: 'queued', seq: 0 } });
    expect(
      await stores.transitions.applyTransition({ jobId: uid('ghost'), expectedStatus: 'queued', expectedSeq: 0, status: 'starting', iteration: 0 }),
    ).toEqual({ ok: false, reason: 'missing' });
    expect(await stores.transitions.get(jobId)).toMatchObject({ status: 'queued', seq: 0 });

    // Events arrive in publish order, so had a refused one been published it would come first.
    const accepted = await stores.transitions.applyTransition({ jobId, expectedStatus: 'queued', expectedSeq: 0, status: 'starting', iteration: 0 });
    expect(await mine.waitFor(1)).toEqual([eventOf(accepted)]);
    expect(await all.waitFor(1)).toEqual([eventOf(accepted)]);
    expect(mine.events).toHaveLength(1);
    expect(all.events).toHaveLength(1);
  });

  it('lets exactly one of many racing writers win a step, publishing once', async () => {
    const { stores, peers } = open();
    const jobId = uid('race');
    await stores.transitions.initJob(jobId, init);
    const all = collectEvents();
    await stores.events.subscribeAll(all.listener);
    const results = await Promise.all(
      Array.from({ length: 40 }, (_, i) =>
        (peers[i % peers.length] ?? stores).transitions.applyTransition({
          jobId,
          expectedStatus: 'queued',
          expectedSeq: 0,
          status: 'starting',
          message: `writer ${i}`,
          iteration: 0,
        }),
      ),
    );
    const winners = results.filter((r) => r.ok);
    expect(winners).toHaveLength(1);
    for (const loser of results.filter((r) => !r.ok)) {
      expect(loser).toEqual({ ok: false, reason: 'conflict', current: { status: 'starting', seq: 1 } });
    }
    // A following accepted transition marks the end of the stream: exactly the winner's event, then it.
    const next = eventOf(
      await stores.transitions.applyTransition({ jobId, expectedStatus: 'starting', expectedSeq: 1, status: 'failed', iteration: 0 }),
    );
    expect(await all.waitFor(2)).toEqual([eventOf(winners[0]), next]);
    expect(all.events).toHaveLength(2);
  });

  it('applies many jobs\' transitions in one call, in order, each on its own', async () => {
    const { stores } = open();
    const [a, b] = [uid('many'), uid('many')];
    await stores.transitions.initJob(a, init);
    await stores.transitions.initJob(b, init);
    const all = collectEvents();
    await stores.events.subscribeAll(all.listener);
    const results = await stores.transitions.applyTransitions([
      { jobId: a, expectedStatus: 'queued', expectedSeq: 0, status: 'starting', iteration: 0 },
      { jobId: b, expectedStatus: 'queued', expectedSeq: 0, status: 'starting', iteration: 0 },
      // The same job's next one sees the one before it in the call.
      { jobId: a, expectedStatus: 'starting', expectedSeq: 1, status: 'scaffold', iteration: 0 },
      // Refused (stale), and it does not stop the ones after it.
      { jobId: b, expectedStatus: 'queued', expectedSeq: 0, status: 'failed', iteration: 0 },
      { jobId: uid('ghost'), expectedStatus: 'queued', expectedSeq: 0, status: 'starting', iteration: 0 },
      { jobId: b, expectedStatus: 'starting', expectedSeq: 1, status: 'failed', message: 'stop', iteration: 0 },
    ]);
    expect(results.map((r) => (r.ok ? r.event.seq : r.reason))).toEqual([1, 1, 2, 'conflict', 'missing', 2]);
    expect(results[3]).toEqual({ ok: false, reason: 'conflict', current: { status: 'starting', seq: 1 } });
    const accepted = results.filter((r) => r.ok).map(eventOf);
    expect(await all.waitFor(4)).toEqual(accepted);
    expect(await stores.transitions.get(a)).toMatchObject({ status: 'scaffold', seq: 2 });
    expect(await stores.transitions.get(b)).toMatchObject({ status: 'failed', seq: 2, message: 'stop' });
    // Events arrive in publish order: a refused one published would have shown up among these.
    expect(await stores.transitions.applyTransitions([])).toEqual([]);
  });

  it('uses the given previous status, stage label and timestamp', async () => {
    const { stores } = open();
    const jobId = uid('job');
    await stores.transitions.initJob(jobId, { ...init, status: 'scheduled', seq: 7 });
    const result = await stores.transitions.applyTransition({
      jobId,
      expectedStatus: 'scheduled',
      expectedSeq: 7,
      status: 'queued',
      previousStatus: null,
      stageLabel: 'Back in line',
      message: 'Daily quota reset',
      iteration: 0,
      timestamp: Date.parse('2031-04-02T00:00:03.250Z'),
    });
    expect(result).toMatchObject({
      ok: true,
      event: { seq: 8, previousStatus: null, stageLabel: 'Back in line', timestamp: '2031-04-02T00:00:03.250Z' },
    });
  });
});

describe('TransitionStore terminal retention', () => {
  it.each(implementations)('on %s, a finished job is dropped after the retention', async (name, impl) => {
    const clock = createManualClock(START);
    const { stores, redis } = impl.open(clock, { terminalRetentionMs: 60_000 });
    const jobId = uid('done');
    await stores.transitions.initJob(jobId, init);
    await walk(stores.transitions, jobId, ['starting', 'failed']);
    expect(await stores.transitions.get(jobId)).toMatchObject({ status: 'failed' });
    if (name === 'redis') {
      // Redis expires by its own clock: check the TTL it was given.
      const ttl = await redis!.redis.pttl(redis!.keys.job(jobId));
      expect(ttl).toBeGreaterThan(0);
      expect(ttl).toBeLessThanOrEqual(60_000);
    } else {
      clock.advance(60_000);
      expect(await stores.transitions.get(jobId)).toBeNull();
    }
  });
});
