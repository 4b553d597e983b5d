import { describe, expect, it } from 'vitest';
import { observable } from '@trpc/server/observable';
import { createStreamLimiter, releasingStream } from '../../router/streamLimiter.js';

async function* numbers(n: number) {
  for (let i = 0; i < n; i++) yield i;
}

describe('createStreamLimiter', () => {
  it('counts per user, refuses at the cap, and frees a slot once per release', () => {
    const limiter = createStreamLimiter(2);
    const a = limiter.acquire('u');
    const b = limiter.acquire('u');
    expect(limiter.acquire('u')).toBeUndefined();
    expect(limiter.acquire('v')).toBeDefined();
    a?.();
    a?.();
    expect(limiter.open('u')).toBe(1);
    expect(limiter.acquire('u')).toBeDefined();
    b?.();
    expect(limiter.open('u')).toBe(1);
  });

  it('with max 0 counts but never refuses', () => {
    const limiter = createStreamLimiter(0);
    for (let i = 0; i < 100; i++) expect(limiter.acquire('u')).toBeDefined();
    expect(limiter.open('u')).toBe(100);
  });
});

describe('releasingStream', () => {
  const counted = () => {
    const limiter = createStreamLimiter(1);
    const release = limiter.acquire('u') as () => void;
    return { limiter, release };
  };

  it('releases when the stream is exhausted, returned before its first pull, or fails', async () => {
    const exhausted = counted();
    const values: unknown[] = [];
    for await (const v of releasingStream(numbers(3), exhausted.release, undefined) as AsyncIterable<unknown>) values.push(v);
    expect(values).toEqual([0, 1, 2]);
    expect(exhausted.limiter.open('u')).toBe(0);

    const early = counted();
    const it = (releasingStream(numbers(3), early.release, undefined) as AsyncIterable<unknown>)[Symbol.asyncIterator]();
    await it.return?.();
    expect(early.limiter.open('u')).toBe(0);

    const failing = counted();
    // eslint-disable-next-line require-yield
    const broken = (async function* () {
      throw new Error('boom');
    })();
    await expect((releasingStream(broken, failing.release, undefined) as AsyncIterable<unknown>)[Symbol.asyncIterator]().next()).rejects.toThrow('boom');
    expect(failing.limiter.open('u')).toBe(0);
  });

  it('releases on abort, and wraps observables', async () => {
    const aborted = counted();
    const ac = new AbortController();
    releasingStream(numbers(1), aborted.release, ac.signal);
    ac.abort();
    expect(aborted.limiter.open('u')).toBe(0);

    const obs = counted();
    const source = observable<number>((emit) => {
      emit.next(1);
      emit.complete();
      return () => {};
    });
    const values: unknown[] = [];
    for await (const v of releasingStream(source, obs.release, undefined) as AsyncIterable<unknown>) values.push(v);
    expect(values).toEqual([1]);
    expect(obs.limiter.open('u')).toBe(0);
  });
});
