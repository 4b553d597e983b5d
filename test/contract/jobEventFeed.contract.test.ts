import { describe, expect, it } from 'vitest';
import type { JobStatus } from '../../actors/jobTransitions.js';
import { createManualClock } from '../../src/clock.js';
import type { HotStores } from '../../src/redis/hotStores.js';
import { collectEvents } from './collectEvents.js';
import { storeImplementations, uid } from './storeImplementations.js';

const implementations = storeImplementations('feed');

async function newJob(stores: HotStores): Promise<string> {
  const jobId = uid('job');
  await stores.transitions.initJob(jobId, { status: 'queued', ownerId: 'u', projectId: 'p', tier: 'bootstrapper' });
  return jobId;
}

async function step(stores: HotStores, jobId: string, from: JobStatus, seq: number, to: JobStatus) {
  const result = await stores.transitions.applyTransition({ jobId, expectedStatus: from, expectedSeq: seq, status: to, iteration: 0 });
  if (!result.ok) throw new Error(`refused: ${JSON.stringify(result)}`);
  return result.event;
}

describe.each(implementations)('JobEventFeed on %s', (_name, impl) => {
  const open = () => impl.open(createManualClock('2031-05-01T00:00:00Z'));

  it('is live as soon as subscribe resolves, so nothing published after it is missed', async () => {
    const { stores } = open();
    const jobId = await newJob(stores);
    const seen = collectEvents();
    await stores.events.subscribe(jobId, seen.listener);
    const event = await step(stores, jobId, 'queued', 0, 'starting');
    expect(await seen.waitFor(1)).toEqual([event]);
  });

  it("delivers a job's events only to that job's listeners, and every job's to subscribeAll", async () => {
    const { stores } = open();
    const [a, b] = [await newJob(stores), await newJob(stores)];
    const onA = collectEvents();
    const onB = collectEvents();
    const onAll = collectEvents();
    await stores.events.subscribe(a, onA.listener);
    await stores.events.subscribe(b, onB.listener);
    await stores.events.subscribeAll(onAll.listener);
    const ea = await step(stores, a, 'queued', 0, 'starting');
    const eb = await step(stores, b, 'queued', 0, 'failed');
    const ea2 = await step(stores, a, 'starting', 1, 'scaffold');
    expect(await onAll.waitFor(3)).toEqual([ea, eb, ea2]);
    expect(await onA.waitFor(2)).toEqual([ea, ea2]);
    expect(await onB.waitFor(1)).toEqual([eb]);
    expect(onB.events).toHaveLength(1);
  });

  it('keeps other listeners of a channel when one unsubscribes', async () => {
    const { stores } = open();
    const jobId = await newJob(stores);
    const gone = collectEvents();
    const stays = collectEvents();
    const stop = await stores.events.subscribe(jobId, gone.listener);
    await stores.events.subscribe(jobId, stays.listener);
    const first = await step(stores, jobId, 'queued', 0, 'starting');
    await gone.waitFor(1);
    await stop();
    await stop(); // idempotent
    const second = await step(stores, jobId, 'starting', 1, 'scaffold');
    expect(await stays.waitFor(2)).toEqual([first, second]);
    expect(gone.events).toEqual([first]);
  });

  it('can subscribe to a channel again after its last listener left', async () => {
    const { stores } = open();
    const jobId = await newJob(stores);
    const first = collectEvents();
    await (await stores.events.subscribe(jobId, first.listener))();
    const again = collectEvents();
    await stores.events.subscribe(jobId, again.listener);
    const event = await step(stores, jobId, 'queued', 0, 'starting');
    expect(await again.waitFor(1)).toEqual([event]);
    expect(first.events).toEqual([]);
  });

  it('keeps delivering to the others when a listener throws', async () => {
    const errors: unknown[] = [];
    const clock = createManualClock('2031-05-01T00:00:00Z');
    const { stores } = impl.open(clock, { onFeedError: (error) => errors.push(error) });
    const jobId = await newJob(stores);
    const after = collectEvents();
    await stores.events.subscribe(jobId, () => {
      throw new Error('listener bug');
    });
    await stores.events.subscribe(jobId, after.listener);
    const event = await step(stores, jobId, 'queued', 0, 'starting');
    expect(await after.waitFor(1)).toEqual([event]);
    expect(errors).toEqual([new Error('listener bug')]);
  });

  it('refuses new subscriptions after close', async () => {
    const { stores } = open();
    await stores.close();
    await expect(stores.events.subscribe('any', () => {})).rejects.toThrow(/closed/);
  });
});

describe('JobEventFeed on redis: validation', () => {
  const redisImpl = implementations[0]![1];

  it('drops and reports a message that is not a job event', async () => {
    const errors: unknown[] = [];
    const { stores, redis } = redisImpl.open(createManualClock('2031-05-01T00:00:00Z'), {
      onFeedError: (error) => errors.push(error),
    });
    const jobId = await newJob(stores);
    const seen = collectEvents();
    await stores.events.subscribe(jobId, seen.listener);
    await redis!.redis.publish(redis!.keys.jobEvents(jobId), JSON.stringify({ jobId, seq: 0, status: 'nonsense' }));
    await redis!.redis.publish(redis!.keys.jobEvents(jobId), 'not json');
    const event = await step(stores, jobId, 'queued', 0, 'starting');
    expect(await seen.waitFor(1)).toEqual([event]);
    expect(errors).toHaveLength(2);
  });
});
