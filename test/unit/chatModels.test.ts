import { describe, expect, it } from 'vitest';
import { parseRetryAfter } from '../../src/chat/chatModel.js';
import { createKeyedQueue } from '../../src/chat/keyedQueue.js';
import { createLocalModel, LOCAL_ANSWER_PREFIX, LOCAL_MODEL_NAME } from '../../src/chat/localModel.js';

const headers = (entries: Record<string, string>) => new Headers(entries);

describe('the local model', () => {
  const messages = [
    { role: 'system' as const, content: 'system' },
    { role: 'user' as const, content: 'earlier' },
    { role: 'assistant' as const, content: 'earlier answer' },
    { role: 'user' as const, content: 'What should I build first?' },
  ];

  it('says it is the local model, answers the same prompt the same way, and streams the same text', async () => {
    const model = createLocalModel();
    const first = await model.answer({ messages });
    expect(first.model).toBe(LOCAL_MODEL_NAME);
    expect(first.text.startsWith(LOCAL_ANSWER_PREFIX)).toBe(true);
    expect(first.text).toContain('local model');
    expect(first.text).toContain('What should I build first?');
    expect(first.text).toContain('2 earlier messages');
    expect((await model.answer({ messages })).text).toBe(first.text);

    const pieces: string[] = [];
    const streamed = await model.answer({ messages, onDelta: (text) => pieces.push(text) });
    expect(pieces.length).toBeGreaterThan(1);
    expect(pieces.join('')).toBe(first.text);
    expect(streamed.text).toBe(first.text);
  });
});

describe('parseRetryAfter', () => {
  const now = Date.parse('2026-03-01T12:00:00Z');
  it('reads delay-seconds, HTTP dates and retry-after-ms; null when absent or unreadable', () => {
    expect(parseRetryAfter(headers({ 'retry-after': '7' }), now)).toBe(7);
    expect(parseRetryAfter(headers({ 'retry-after': 'Sun, 01 Mar 2026 12:00:30 GMT' }), now)).toBe(30);
    expect(parseRetryAfter(headers({ 'retry-after-ms': '1500', 'retry-after': '9' }), now)).toBe(2);
    expect(parseRetryAfter(headers({ 'retry-after': 'soon' }), now)).toBeNull();
    expect(parseRetryAfter(headers({}), now)).toBeNull();
    expect(parseRetryAfter(undefined, now)).toBeNull();
  });
});

describe('createKeyedQueue', () => {
  it('runs one key in order, one at a time, and a failure does not stop the tasks behind it', async () => {
    const queue = createKeyedQueue();
    const log: string[] = [];
    let running = 0;
    const task = (name: string, fail = false) => async () => {
      running += 1;
      expect(running).toBe(1);
      log.push(`start ${name}`);
      await new Promise((resolve) => setImmediate(resolve));
      log.push(`end ${name}`);
      running -= 1;
      if (fail) throw new Error(name);
      return name;
    };
    const results = await Promise.allSettled([queue.run('s', task('a')), queue.run('s', task('b', true)), queue.run('s', task('c'))]);
    expect(results.map((r) => r.status)).toEqual(['fulfilled', 'rejected', 'fulfilled']);
    expect(log).toEqual(['start a', 'end a', 'start b', 'end b', 'start c', 'end c']);
    expect(queue.size).toBe(0);
  });
});
