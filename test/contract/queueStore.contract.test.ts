import { describe, expect, it } from 'vitest';
import { createManualClock } from '../../src/clock.js';
import { queueScore } from '../../src/domain/priority.js';
import { DEFAULT_TIERS } from '../../src/domain/tiers.js';
import { storeImplementations } from './storeImplementations.js';

const implementations = storeImplementations('queue');
const CAP = 100;
const boost = {
  bootstrapper: DEFAULT_TIERS.bootstrapper.queueBoost,
  partner: DEFAULT_TIERS.partner.queueBoost,
  cto_scale: DEFAULT_TIERS.cto_scale.queueBoost,
};

describe.each(implementations)('QueueStore on %s', (_name, impl) => {
  const open = () => impl.open(createManualClock('2031-01-01T00:00:00Z')).stores.queue;

  it('runs a higher tier first and one tier first-in first-out', async () => {
    const queue = open();
    const submitted: [string, number][] = [
      ['b1', boost.bootstrapper],
      ['p1', boost.partner],
      ['b2', boost.bootstrapper],
      ['c1', boost.cto_scale],
      ['p2', boost.partner],
      ['b3', boost.bootstrapper],
      ['c2', boost.cto_scale],
    ];
    for (const [jobId, b] of submitted) expect((await queue.enqueue(jobId, b, CAP)).ok).toBe(true);
    expect((await queue.peek(3)).map((e) => e.jobId)).toEqual(['c1', 'c2', 'p1']);
    const order: string[] = [];
    for (let entry = await queue.take(); entry; entry = await queue.take()) order.push(entry.jobId);
    expect(order).toEqual(['c1', 'c2', 'p1', 'p2', 'b1', 'b2', 'b3']);
    expect(await queue.length()).toBe(0);
  });

  it('answers 1-based positions that move as better jobs arrive', async () => {
    const queue = open();
    expect(await queue.enqueue('first', boost.bootstrapper, CAP)).toMatchObject({ ok: true, position: 1 });
    expect(await queue.enqueue('second', boost.bootstrapper, CAP)).toMatchObject({ ok: true, position: 2 });
    expect(await queue.enqueue('vip', boost.cto_scale, CAP)).toMatchObject({ ok: true, position: 1 });
    expect(await queue.position('first')).toBe(2);
    expect(await queue.position('second')).toBe(3);
    expect(await queue.position('absent')).toBeNull();
  });

  it('scores (1000 − boost) × 1e12 + counter', async () => {
    const queue = open();
    const a = await queue.enqueue('a', boost.partner, CAP);
    const b = await queue.enqueue('b', boost.bootstrapper, CAP);
    expect(a).toEqual({ ok: true, position: 1, score: queueScore(boost.partner, 1) });
    expect(b).toEqual({ ok: true, position: 2, score: queueScore(boost.bootstrapper, 2) });
    expect(await queue.peek(10)).toEqual([
      { jobId: 'a', score: queueScore(boost.partner, 1) },
      { jobId: 'b', score: queueScore(boost.bootstrapper, 2) },
    ]);
  });

  it('refuses the 101st job at the global cap of 100, and takes one again once a job leaves', async () => {
    const queue = open();
    for (let i = 0; i < CAP; i++) expect((await queue.enqueue(`job-${i}`, boost.bootstrapper, CAP)).ok).toBe(true);
    expect(await queue.enqueue('job-100', boost.cto_scale, CAP)).toEqual({ ok: false, queued: CAP });
    expect(await queue.length()).toBe(CAP);
    expect(await queue.position('job-100')).toBeNull();
    await queue.take();
    expect(await queue.enqueue('job-100', boost.cto_scale, CAP)).toMatchObject({ ok: true, position: 1 });
  });

  it('admits exactly the cap out of concurrent enqueues', async () => {
    const queue = open();
    const results = await Promise.all(Array.from({ length: 150 }, (_, i) => queue.enqueue(`c-${i}`, i % 6, CAP)));
    expect(results.filter((r) => r.ok)).toHaveLength(CAP);
    expect(await queue.length()).toBe(CAP);
  });

  it('keeps the place of a job that is enqueued twice', async () => {
    const queue = open();
    const first = await queue.enqueue('x', boost.bootstrapper, CAP);
    await queue.enqueue('y', boost.bootstrapper, CAP);
    expect(await queue.enqueue('x', boost.bootstrapper, CAP)).toEqual(first);
    expect(await queue.length()).toBe(2);
  });

  it('puts a taken job back in its old place', async () => {
    const queue = open();
    for (const id of ['one', 'two', 'three']) await queue.enqueue(id, boost.partner, CAP);
    const taken = await queue.take();
    expect(taken?.jobId).toBe('one');
    await queue.enqueue('four', boost.partner, CAP);
    await queue.putBack(taken!.jobId, taken!.score);
    expect((await queue.peek(4)).map((e) => e.jobId)).toEqual(['one', 'two', 'three', 'four']);
  });

  it('removes a job and answers whether it was there', async () => {
    const queue = open();
    await queue.enqueue('gone', boost.bootstrapper, CAP);
    await queue.enqueue('stays', boost.bootstrapper, CAP);
    expect(await queue.remove('gone')).toBe(true);
    expect(await queue.remove('gone')).toBe(false);
    expect(await queue.position('stays')).toBe(1);
    expect(await queue.take()).toMatchObject({ jobId: 'stays' });
    expect(await queue.take()).toBeNull();
    expect(await queue.peek(0)).toEqual([]);
  });

  it('rejects a boost outside [0, 999] and a score that is not a safe integer', async () => {
    const queue = open();
    await expect(queue.enqueue('bad', 1000, CAP)).rejects.toThrow(RangeError);
    await expect(queue.enqueue('bad', -1, CAP)).rejects.toThrow(RangeError);
    await expect(queue.putBack('bad', 1.5)).rejects.toThrow(RangeError);
    expect(await queue.length()).toBe(0);
  });
});
