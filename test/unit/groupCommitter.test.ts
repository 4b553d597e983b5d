import { describe, expect, it } from 'vitest';
import { createGroupCommitter } from '../../src/jobs/groupCommitter.js';

function deferred() {
  let release!: () => void;
  const promise = new Promise<void>((r) => (release = r));
  return { promise, release };
}

describe('createGroupCommitter', () => {
  it('puts items submitted during a flush into the next single flush, in order', async () => {
    const batches: number[][] = [];
    const gate = deferred();
    const committer = createGroupCommitter<number>(async (items) => {
      batches.push(items);
      if (batches.length === 1) await gate.promise;
    });
    const first = committer.submit(0);
    await Promise.resolve();
    await Promise.resolve();
    const later = [1, 2, 3, 4].map((n) => committer.submit(n));
    expect(committer.pending).toBe(4);
    gate.release();
    await Promise.all([first, ...later]);
    expect(batches).toEqual([[0], [1, 2, 3, 4]]);
  });

  it('resolves a submit only after its batch is flushed', async () => {
    const gate = deferred();
    let flushed = false;
    const committer = createGroupCommitter<string>(async () => {
      await gate.promise;
      flushed = true;
    });
    let resolved = false;
    const done = committer.submit('a').then(() => (resolved = true));
    await new Promise((r) => setImmediate(r));
    expect(resolved).toBe(false);
    gate.release();
    await done;
    expect(flushed).toBe(true);
  });

  it('rejects every submit of a failed batch and keeps going with the next', async () => {
    let calls = 0;
    const committer = createGroupCommitter<number>(async () => {
      calls += 1;
      if (calls === 1) throw new Error('db down');
    });
    const a = committer.submit(1);
    const b = committer.submit(2);
    await expect(a).rejects.toThrow('db down');
    await expect(b).rejects.toThrow('db down');
    await expect(committer.submit(3)).resolves.toBeUndefined();
  });

  it('splits at maxBatch', async () => {
    const sizes: number[] = [];
    const committer = createGroupCommitter<number>(async (items) => void sizes.push(items.length), { maxBatch: 3 });
    await Promise.all(Array.from({ length: 7 }, (_, i) => committer.submit(i)));
    expect(sizes).toEqual([3, 3, 1]);
  });
});
