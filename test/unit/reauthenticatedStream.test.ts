import { describe, expect, it } from 'vitest';
import { reauthenticatedStream } from '../../router/reauthenticatedStream.js';
import { WardenError, isWardenError } from '../../src/errors.js';

/** A source that yields what is pushed into it and records that its generator finished. */
function pushSource() {
  const queue: number[] = [];
  let wake: () => void = () => {};
  const state = { finished: false };
  const stream = (async function* () {
    try {
      for (;;) {
        while (queue.length > 0) yield queue.shift();
        await new Promise<void>((resolve) => (wake = resolve));
      }
    } finally {
      state.finished = true;
    }
  })();
  return { stream, state, push: (n: number) => (queue.push(n), wake()) };
}

const iterate = (data: unknown) => (data as AsyncIterable<unknown>)[Symbol.asyncIterator]();
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('reauthenticatedStream', () => {
  it('keeps streaming while the check fails for another reason than the caller (PostgreSQL unreachable)', async () => {
    const source = pushSource();
    let checks = 0;
    const unavailable = async () => {
      checks++;
      throw new WardenError('UNAVAILABLE', 'postgres unreachable', { service: 'postgres', retryAfterSeconds: 1 });
    };
    const it = iterate(reauthenticatedStream(source.stream, unavailable, 5));
    source.push(1);
    expect(await it.next()).toEqual({ done: false, value: 1 });
    await sleep(30);
    expect(checks).toBeGreaterThan(1);
    source.push(2);
    expect(await it.next()).toEqual({ done: false, value: 2 });
    await it.return?.();
  });

  it('ends with the refusal while the source waits, and tells the source to end', async () => {
    const source = pushSource();
    let allowed = true;
    const check = async () => {
      if (!allowed) throw new WardenError('UNAUTHORIZED', 'revoked token', {});
    };
    const it = iterate(reauthenticatedStream(source.stream, check, 5));
    source.push(1);
    expect(await it.next()).toEqual({ done: false, value: 1 });
    const pending = it.next();
    allowed = false;
    const refusal = await pending.then(() => null, (err: unknown) => err);
    expect(isWardenError(refusal, 'UNAUTHORIZED')).toBe(true);
    // The source's generator was waiting: its return() was queued and takes effect at its next yield
    // (a real procedure wakes as the adapter aborts its signal).
    expect(source.state.finished).toBe(false);
    source.push(2);
    await expect.poll(() => source.state.finished).toBe(true);
  });

  it('never checks with an interval of 0, and passes anything but a stream through', async () => {
    const source = pushSource();
    let checks = 0;
    const passed = reauthenticatedStream(source.stream, async () => void checks++, 0);
    expect(passed).toBe(source.stream);
    await sleep(20);
    expect(checks).toBe(0);
    const notAStream = { result: 1 };
    expect(reauthenticatedStream(notAStream, async () => {}, 5)).toBe(notAStream);
  });
});
