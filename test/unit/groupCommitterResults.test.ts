import { describe, expect, it } from 'vitest';
import { createGroupCommitter } from '../../src/jobs/groupCommitter.js';

function deferred() {
  let release!: () => void;
  const promise = new Promise<void>((r) => (release = r));
  return { promise, release };
}

describe('createGroupCommitter with results and lanes', () => {
  it('resolves each submit with its own item’s result', async () => {
    const committer = createGroupCommitter<number, string>((items) => Promise.resolve(items.map((n) => `r${n}`)));
    expect(await Promise.all([1, 2, 3].map((n) => committer.submit(n)))).toEqual(['r1', 'r2', 'r3']);
  });

  it('rejects the batch when the flush answers the wrong number of results', async () => {
    const committer = createGroupCommitter<number, number>(() => Promise.resolve([1]));
    const results = await Promise.allSettled([committer.submit(1), committer.submit(2)]);
    expect(results.map((r) => r.status)).toEqual(['rejected', 'rejected']);
  });

  it('with two lanes, flushes a second batch while the first is in flight, never more', async () => {
    const gates = [deferred(), deferred(), deferred()];
    const batches: number[][] = [];
    let inFlight = 0;
    let maxInFlight = 0;
    const committer = createGroupCommitter<number>(
      async (items) => {
        const gate = gates[batches.length];
        batches.push(items);
        inFlight += 1;
        maxInFlight = Math.max(maxInFlight, inFlight);
        await gate?.promise;
        inFlight -= 1;
      },
      { concurrency: 2 },
    );
    const first = committer.submit(1);
    await new Promise((r) => setImmediate(r));
    const second = committer.submit(2);
    await new Promise((r) => setImmediate(r));
    const third = [committer.submit(3), committer.submit(4)];
    await new Promise((r) => setImmediate(r));
    expect(batches).toEqual([[1], [2]]);
    gates[1]?.release();
    await second;
    gates[0]?.release();
    gates[2]?.release();
    await Promise.all([first, ...third]);
    await committer.drain();
    expect(batches).toEqual([[1], [2], [3, 4]]);
    expect(maxInFlight).toBe(2);
  });
});
