/**
 * `memory`: server memory per live job actor, with and without the actor inspector (the target is
 * ≤ 4 KiB per live actor).
 *
 * Three populations of N actors (10,000 at scale 1) of the real job machine, each started and moved
 * queued → starting → scaffold → code, held alive as a host holds them:
 *   1. plain actors (no inspect hook);
 *   2. inspected actors, tracked, sharing over Redis (the multi-process setting): rings live in Redis;
 *   3. inspected actors with the in-process store (the embedded default): rings live in this heap.
 * Each is measured as the heap growth after a full GC, divided by N; RSS growth is reported too (noisy:
 * RSS does not shrink between phases). The Redis side is measured with MEMORY USAGE on a sample of rings.
 * Also: events/s through an actor with and without the hook (the hook's CPU cost).
 *
 * Run alone: `npx tsx bench/scenarios/memory.ts` (REDIS_URL / BENCH_SCALE as in bench/lib).
 */
import { randomUUID } from 'node:crypto';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { createJobActor, jobLifecycleMachine, type JobActor, type JobMachineEvent } from '../../actors/jobLifecycle.machine.js';
import { systemClock } from '../../src/clock.js';
import { createInspector, type Inspector } from '../../src/inspector/createInspector.js';
import { createRedisInspectionStore, type InspectionStore } from '../../src/inspector/inspectionStore.js';
import { createMemoryInspectionStore } from '../../src/inspector/memoryInspectionStore.js';
import { createRedis, createSubscriber } from '../../src/redis/client.js';
import { createKeys } from '../../src/redis/keys.js';
import { deleteByPrefix } from '../../src/redis/deleteByPrefix.js';
import { isMain, runStandalone, type BenchContext, type Metric, type Scenario } from '../lib/scenario.js';

const TO_CODE: JobMachineEvent[] = [{ type: 'START' }, { type: 'BEGIN' }, { type: 'STEP_SUCCEEDED' }];
const MAX_PHASE_MS = 120_000;
const TARGET = { op: '<=' as const, value: 4, label: 'performance target' };

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

function settledHeap(): { heap: number; rss: number } {
  for (let i = 0; i < 3; i++) gc();
  const usage = process.memoryUsage();
  return { heap: usage.heapUsed, rss: usage.rss };
}

/** Starts `count` actors and moves each to `code`; bounded in time as well as count. */
function population(count: number, inspector: Inspector | null, deadline: number): JobActor[] {
  const actors: JobActor[] = [];
  for (let i = 0; i < count && performance.now() < deadline; i++) {
    const jobId = randomUUID();
    const actor = createJobActor(jobLifecycleMachine, { jobId, iterationDepth: 3 }, inspector ? { inspect: inspector.inspect } : {}).start();
    inspector?.track({ jobId, ownerId: `owner-${i % 500}`, projectId: `project-${i % 2000}`, tier: 'partner', createdAt: Date.now() });
    for (const event of TO_CODE) actor.send(event);
    actors.push(actor);
  }
  return actors;
}

interface Phase {
  perActorBytes: number;
  rssPerActorBytes: number;
  count: number;
}

async function measure(count: number, makeInspector: () => { inspector: Inspector; store: InspectionStore } | null): Promise<Phase & { keep: () => Promise<void> }> {
  const before = settledHeap();
  const made = makeInspector();
  const actors = population(count, made?.inspector ?? null, performance.now() + MAX_PHASE_MS);
  await made?.inspector.flush();
  const after = settledHeap();
  return {
    count: actors.length,
    perActorBytes: (after.heap - before.heap) / actors.length,
    rssPerActorBytes: (after.rss - before.rss) / actors.length,
    async keep() {
      // Dropped only now, so that they were alive when measured.
      for (const actor of actors) actor.stop();
      actors.length = 0;
      await made?.inspector.close();
      await made?.store.close();
    },
  };
}

/** Events per second through one actor looping scaffold → code → deps → checks → scaffold. */
function eventRate(inspector: Inspector | null, events: number): number {
  const actor = createJobActor(jobLifecycleMachine, { jobId: randomUUID(), iterationDepth: 1_000_000 }, inspector ? { inspect: inspector.inspect } : {}).start();
  for (const event of TO_CODE.slice(0, 2)) actor.send(event);
  const loop: JobMachineEvent[] = [{ type: 'STEP_SUCCEEDED' }, { type: 'STEP_SUCCEEDED' }, { type: 'STEP_SUCCEEDED' }, { type: 'CHECKS_FAILED', reason: 'bench' }];
  const started = performance.now();
  let sent = 0;
  while (sent < events && performance.now() - started < 10_000) actor.send(loop[sent++ % loop.length] ?? { type: 'STEP_SUCCEEDED' });
  const rate = sent / ((performance.now() - started) / 1000);
  actor.stop();
  return rate;
}

export const memoryScenario: Scenario = {
  name: 'memory',
  description: 'Heap per live job actor (10,000 actors), without and with the inspector (Redis rings / in-process rings)',
  async run(ctx: BenchContext): Promise<Metric[]> {
    const count = Math.max(500, Math.round(10_000 * ctx.scale));
    const prefix = `bench:memory:${randomUUID().slice(0, 8)}:`;
    const keys = createKeys(prefix);
    const redis = createRedis(ctx.redisUrl);
    const clock = systemClock;
    try {
      ctx.progress(`${count} plain actors`);
      const plain = await measure(count, () => null);
      await plain.keep();

      ctx.progress(`${count} inspected actors, rings in Redis`);
      const onRedis = await measure(count, () => {
        const store = createRedisInspectionStore({ redis, keys, clock, connectSubscriber: () => createSubscriber(ctx.redisUrl) });
        return { store, inspector: createInspector({ store, clock, processId: 'bench-redis' }) };
      });
      const sample: string[] = [];
      for (let cursor = '0'; sample.length < 200; ) {
        const [next, found] = await redis.scan(cursor, 'MATCH', `${prefix}inspect:ring:*`, 'COUNT', 1000);
        sample.push(...found.slice(0, 200 - sample.length));
        cursor = next;
        if (cursor === '0') break;
      }
      const ringBytes = await Promise.all(sample.map(async (key) => Number((await redis.call('MEMORY', 'USAGE', key)) ?? 0)));
      const redisPerJob = ringBytes.reduce((a, b) => a + b, 0) / Math.max(1, ringBytes.length);
      const records = sample[0] === undefined ? 0 : await redis.llen(sample[0]);
      await onRedis.keep();

      ctx.progress(`${count} inspected actors, rings in process`);
      const inProcess = await measure(count, () => {
        const store = createMemoryInspectionStore({ clock, maxRings: count });
        return { store, inspector: createInspector({ store, clock, processId: 'bench-memory' }) };
      });
      await inProcess.keep();

      ctx.progress('event rate with and without the hook');
      const events = Math.max(20_000, Math.round(200_000 * ctx.scale));
      const bare = eventRate(null, events);
      const store = createMemoryInspectionStore({ clock, ringSize: 200 });
      const hooked = createInspector({ store, clock, processId: 'bench-rate', flushMs: 5 });
      const inspected = eventRate(hooked, events);
      await hooked.close();

      const kib = (bytes: number) => bytes / 1024;
      return [
        { name: 'live actors per population', value: plain.count, unit: 'actors' },
        { name: 'heap per actor, no inspector', value: kib(plain.perActorBytes), unit: 'KiB', better: 'lower', target: TARGET },
        { name: 'heap per actor, inspected (Redis rings)', value: kib(onRedis.perActorBytes), unit: 'KiB', better: 'lower', target: TARGET },
        { name: 'inspector overhead per actor (Redis rings)', value: kib(onRedis.perActorBytes - plain.perActorBytes), unit: 'KiB', better: 'lower' },
        { name: 'heap per actor, inspected (in-process rings)', value: kib(inProcess.perActorBytes), unit: 'KiB', better: 'lower' },
        { name: 'RSS growth per actor, no inspector', value: kib(plain.rssPerActorBytes), unit: 'KiB', better: 'lower' },
        { name: 'RSS growth per actor, inspected (Redis)', value: kib(onRedis.rssPerActorBytes), unit: 'KiB', better: 'lower' },
        { name: `Redis per job ring (${records} records)`, value: kib(redisPerJob), unit: 'KiB', better: 'lower' },
        { name: 'events/s through one actor, no inspector', value: bare, unit: 'events/s', better: 'higher' },
        { name: 'events/s through one actor, inspected', value: inspected, unit: 'events/s', better: 'higher' },
      ];
    } finally {
      await deleteByPrefix(redis, prefix);
      await redis.quit();
    }
  },
};

if (isMain(import.meta.url)) await runStandalone(memoryScenario);
