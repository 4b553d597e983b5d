import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { createJobActor, jobLifecycleMachine } from '../../actors/jobLifecycle.machine.js';
import { createManualClock } from '../../src/clock.js';
import { createInspector } from '../../src/inspector/createInspector.js';
import type { InspectionRecord } from '../../src/inspector/inspectionRecord.js';
import { InspectionRing } from '../../src/inspector/inspectionRing.js';
import { createMemoryInspectionStore } from '../../src/inspector/memoryInspectionStore.js';

describe('InspectionRing', () => {
  it('holds the last `capacity` items, oldest first, whatever was pushed', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 50 }), fc.array(fc.array(fc.integer(), { maxLength: 7 }), { maxLength: 60 }), (capacity, pushes) => {
        const ring = new InspectionRing<number>(capacity);
        const all: number[] = [];
        for (const items of pushes) {
          ring.push(...items);
          all.push(...items);
          expect(ring.size).toBeLessThanOrEqual(capacity);
        }
        expect(ring.toArray()).toEqual(all.slice(-capacity));
        expect(ring.dropped).toBe(Math.max(0, all.length - capacity));
      }),
    );
  });

  it('refuses a capacity that is not a positive integer', () => {
    for (const bad of [0, -1, 1.5, Number.NaN]) expect(() => new InspectionRing(bad)).toThrow(RangeError);
  });

  it('empties on clear and fills again from the start', () => {
    const ring = new InspectionRing<string>(2);
    ring.push('a', 'b', 'c');
    ring.clear();
    ring.push('d');
    expect(ring.toArray()).toEqual(['d']);
  });
});

describe('the inspector keeps memory bounded', () => {
  it('an actor that runs forever keeps at most ringSize records', async () => {
    const clock = createManualClock();
    const store = createMemoryInspectionStore({ clock, ringSize: 50 });
    const inspector = createInspector({ store, clock, processId: 'p', flushMs: 1 });
    // Depth 1000: the retry loop can go on for thousands of events without reaching the cap.
    const actor = createJobActor(jobLifecycleMachine, { jobId: 'forever', iterationDepth: 1000 }, { inspect: inspector.inspect }).start();
    inspector.track({ jobId: 'forever', ownerId: 'o', projectId: 'p' });
    actor.send({ type: 'START' });
    actor.send({ type: 'BEGIN' });
    for (let i = 0; i < 500; i++) {
      for (const type of ['STEP_SUCCEEDED', 'STEP_SUCCEEDED', 'STEP_SUCCEEDED'] as const) actor.send({ type });
      actor.send({ type: 'CHECKS_FAILED', reason: `round ${i}` });
      if (i % 50 === 0) await inspector.flush();
    }
    await inspector.flush();
    const ring = await store.ring('forever');
    expect(ring).toHaveLength(50);
    // The newest survive: the last record is the snapshot after the 500th failed check.
    expect(ring.at(-1)).toMatchObject({ kind: 'snapshot', state: 'scaffold', diff: { iteration: { from: 499, to: 500 } } });
    expect(new Set(ring.map((r) => r.id)).size).toBe(50);
    actor.stop();
  });

  it('the in-process store keeps at most maxRings rings, dropping the least recently written', async () => {
    const clock = createManualClock();
    const store = createMemoryInspectionStore({ clock, ringSize: 3, maxRings: 10 });
    const rec = (jobId: string): InspectionRecord => ({ id: jobId, at: 0, jobId, host: 'h', session: 's', kind: 'actor' });
    const write = (i: number) => store.write({ host: 'h', records: [rec(`job-${i}`)], upserts: [], gone: [] });
    for (let i = 0; i < 20; i++) await write(i);
    // job-10 is the oldest kept; written again, it becomes the newest and outlives 11 and 12.
    await write(10);
    await write(20);
    await write(21);
    const kept = [];
    for (let i = 0; i < 22; i++) if ((await store.ring(`job-${i}`)).length > 0) kept.push(i);
    expect(kept).toEqual([10, 13, 14, 15, 16, 17, 18, 19, 20, 21]);
  });

  it('rings expire by the clock', async () => {
    const clock = createManualClock();
    const store = createMemoryInspectionStore({ clock, ringTtlMs: 1000 });
    await store.write({ host: 'h', records: [{ id: '1', at: 0, jobId: 'j', host: 'h', session: 's', kind: 'actor' }], upserts: [], gone: [] });
    clock.advance(999);
    expect(await store.ring('j')).toHaveLength(1);
    clock.advance(1);
    expect(await store.ring('j')).toEqual([]);
  });
});
