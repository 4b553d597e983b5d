import { randomUUID } from 'node:crypto';
import { beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { DEFAULT_SYSTEM_PROMPT } from '../../src/chat/chatPrompt.js';
import type { ChatStreamEvent } from '../../src/chat/streamTurn.js';
import type { WardenClient } from '../../src/client.js';
import { utcDate } from '../../src/clock.js';
import { echoReply, startFakeLlmServer, type FakeLlmServer } from '../helpers/fakeLlmServer.js';
import { startTestApp, type TestApp } from '../helpers/testApp.js';
import { rejection, type ClientError } from '../helpers/rejection.js';

/**
 * Chat end to end: Warden on a free port with the OpenAI-compatible model
 * pointed at a local chat-completions server (test/helpers/fakeLlmServer.ts), driven by the typed
 * client. What the model was sent is asserted on what that server received.
 */

let fake: FakeLlmServer;
let t: TestApp;
let alice: WardenClient;
let bob: WardenClient;

beforeAll(async () => {
  fake = await startFakeLlmServer();
  t = await startTestApp('chat-e2e', {
    env: { WARDEN_LLM_BASE_URL: fake.url, WARDEN_LLM_API_KEY: 'test-key', WARDEN_LLM_MODEL: 'test-model', WARDEN_LLM_TIMEOUT_MS: '2000' },
  });
  alice = t.clientFor(await t.tokenFor('alice', { tier: 'partner' }));
  bob = t.clientFor(await t.tokenFor('bob', { tier: 'partner' }));
});

beforeEach(() => {
  fake.reply = echoReply;
});

/** Every event of a chat.stream until it completes, or the error it ends with. */
function streamOf(client: WardenClient, input: { conversationId?: string; message: string; lastEventId?: string }) {
  return new Promise<{ events: ChatStreamEvent[]; ids: string[]; error: ClientError | null }>((resolve) => {
    const events: ChatStreamEvent[] = [];
    const ids: string[] = [];
    const sub = client.chat.stream.subscribe(input, {
      onData: ({ id, data }) => {
        ids.push(id);
        events.push(data);
      },
      onComplete: () => resolve({ events, ids, error: null }),
      onError: (error) => {
        sub.unsubscribe();
        resolve({ events, ids, error });
      },
    });
  });
}

/** Today's (UTC) tokens of a user as PostgreSQL records them (daily_usage, what Redis is rebuilt from). */
async function durableTokens(userId: string): Promise<number> {
  const [row] = await t.app.sql<{ n: number }[]>`
    select tokens_used::int as n from daily_usage where user_id = ${userId} and day = ${utcDate(Date.now())}::date`;
  return row?.n ?? 0;
}

async function counts(): Promise<{ sessions: number; messages: number }> {
  const [row] = await t.app.sql<{ sessions: number; messages: number }[]>`
    select (select count(*)::int from chat_sessions) as sessions, (select count(*)::int from chat_messages) as messages`;
  return row ?? { sessions: -1, messages: -1 };
}

describe('chat over the typed client', () => {
  it('starts a session, answers with usage and latency, and keeps the history', async () => {
    const sent = await alice.chat.send.mutate({ message: '  How do I validate my idea?  ' });
    expect(sent).toMatchObject({
      answer: 'answer to: How do I validate my idea?',
      usage: { promptTokens: 11, completionTokens: 7, totalTokens: 18 },
      model: 'test-model-fake',
    });
    expect(sent.latencyMs).toBeGreaterThanOrEqual(0);
    expect(fake.requests.at(-1)).toMatchObject({
      model: 'test-model',
      messages: [
        { role: 'system', content: DEFAULT_SYSTEM_PROMPT },
        { role: 'user', content: 'How do I validate my idea?' },
      ],
    });

    const history = await alice.chat.history.query({ conversationId: sent.sessionId });
    expect(history.session).toMatchObject({ sessionId: sent.sessionId, title: 'How do I validate my idea?' });
    expect(history.items.map((m) => [m.role, m.content])).toEqual([
      ['user', 'How do I validate my idea?'],
      ['assistant', 'answer to: How do I validate my idea?'],
    ]);
    expect(history.items.every((m) => m.tokens > 0)).toBe(true);
    expect((await alice.chat.sessions.query()).items.map((s) => s.sessionId)).toContain(sent.sessionId);
    // The turn's tokens are in today's (UTC) counter, hot and durable, and usage.get shows them.
    expect(await t.app.stores.tokens.used('alice')).toBe(18);
    expect(await durableTokens('alice')).toBe(18);
    expect(await alice.usage.get.query()).toMatchObject({ tokensUsed: 18, tokenBudget: 2_000_000 });
  });

  it('sends the newest 10 messages, oldest first, then the new one: turn 26 sees turns 21–25', async () => {
    const first = await alice.chat.send.mutate({ message: 'turn 1' });
    for (let turn = 2; turn <= 25; turn++) await alice.chat.send.mutate({ conversationId: first.sessionId, message: `turn ${turn}` });
    expect((await alice.chat.history.query({ conversationId: first.sessionId, limit: 100 })).items).toHaveLength(50);

    await alice.chat.send.mutate({ conversationId: first.sessionId, message: 'turn 26' });
    const expected = [{ role: 'system', content: DEFAULT_SYSTEM_PROMPT }];
    for (let turn = 21; turn <= 25; turn++) {
      expected.push({ role: 'user', content: `turn ${turn}` }, { role: 'assistant', content: `answer to: turn ${turn}` });
    }
    expected.push({ role: 'user', content: 'turn 26' });
    expect(fake.requests.at(-1)?.messages).toEqual(expected);
  });

  it('answers NOT_FOUND for an unknown, malformed or foreign conversationId, creating nothing', async () => {
    const bobs = await bob.chat.send.mutate({ message: "bob's secret plan" });
    const [before, requestsBefore] = [await counts(), fake.requests.length];
    for (const conversationId of [randomUUID(), 'not-a-uuid', bobs.sessionId]) {
      const sent = await rejection(alice.chat.send.mutate({ conversationId, message: 'hello?' }));
      expect(sent.data).toMatchObject({ code: 'NOT_FOUND', httpStatus: 404, wardenCode: 'NOT_FOUND' });
      const streamed = await streamOf(alice, { conversationId, message: 'hello?' });
      expect(streamed.error?.data).toMatchObject({ code: 'NOT_FOUND', wardenCode: 'NOT_FOUND' });
      expect((await rejection(alice.chat.history.query({ conversationId }))).data?.code).toBe('NOT_FOUND');
      expect((await rejection(alice.chat.delete.mutate({ conversationId }))).data?.code).toBe('NOT_FOUND');
    }
    expect(await counts()).toEqual(before);
    expect(fake.requests.length).toBe(requestsBefore);
    expect((await alice.chat.sessions.query({ limit: 100 })).items.map((s) => s.sessionId)).not.toContain(bobs.sessionId);
    expect((await bob.chat.history.query({ conversationId: bobs.sessionId })).items).toHaveLength(2);
  });

  it('refuses bad messages with the zod issues', async () => {
    for (const message of ['', '   ', 'x'.repeat(1_001)]) {
      const err = await rejection(alice.chat.send.mutate({ message }));
      expect(err.data).toMatchObject({ code: 'BAD_REQUEST', issues: [expect.objectContaining({ path: ['message'] })] });
    }
    // 1,000 characters after trimming is allowed.
    expect((await alice.chat.send.mutate({ message: ` ${'y'.repeat(1_000)} ` })).answer).toBe(`answer to: ${'y'.repeat(1_000)}`);
  });

  it('refuses a spent token budget before calling the model: TOKEN_BUDGET, nothing saved', async () => {
    await t.app.services.usersRepository.upsertUser({ id: 'carol', tier: 'bootstrapper', tokenBudgetOverride: 100, now: Date.now() });
    const carol = t.clientFor(await t.tokenFor('carol', { tier: 'bootstrapper' }));
    await t.app.services.usersRepository.upsertUser({ id: 'carol', tier: 'bootstrapper', tokenBudgetOverride: 100, now: Date.now() });
    t.app.services.users.invalidate('carol');
    const session = await carol.chat.send.mutate({ message: 'first' });
    await t.app.stores.tokens.add('carol', 100);
    const [before, requestsBefore] = [await counts(), fake.requests.length];

    const sent = await rejection(carol.chat.send.mutate({ conversationId: session.sessionId, message: 'second' }));
    expect(sent.message).toBe('Daily token limit reached (118/100). Resets at midnight UTC.');
    expect(sent.data).toMatchObject({ code: 'TOO_MANY_REQUESTS', wardenCode: 'TOKEN_BUDGET', details: { used: 118, limit: 100 } });
    const streamed = await streamOf(carol, { message: 'a new session' });
    expect(streamed.error?.data).toMatchObject({ wardenCode: 'TOKEN_BUDGET' });
    expect(fake.requests.length).toBe(requestsBefore);
    expect(await counts()).toEqual(before);
    expect(await carol.usage.get.query()).toMatchObject({ tokensUsed: 118, tokenBudget: 100 });
  });

  it('streams the answer as it is generated and ends with the same result as send', async () => {
    fake.reply = () => ({ kind: 'answer', text: 'Start with five customer interviews this week.', usage: { prompt: 30, completion: 9 } });
    const { events, ids, error } = await streamOf(alice, { message: 'Where do I start?' });
    expect(error).toBeNull();
    expect(ids).toEqual(events.map((_, i) => String(i + 1)));
    const deltas = events.filter((e) => e.type === 'delta').map((e) => e.text);
    expect(deltas.length).toBeGreaterThan(1);
    expect(deltas.join('')).toBe('Start with five customer interviews this week.');
    const done = events.at(-1);
    if (done?.type !== 'done') throw new Error('the stream did not end with its result');
    expect(done.result).toMatchObject({ answer: deltas.join(''), usage: { promptTokens: 30, completionTokens: 9, totalTokens: 39 } });
    expect(fake.requests.at(-1)).toMatchObject({ stream: true, stream_options: { include_usage: true } });
    const history = await alice.chat.history.query({ conversationId: done.result.sessionId });
    expect(history.items.map((m) => m.content)).toEqual(['Where do I start?', deltas.join('')]);
  });

  it('refuses a reconnect (lastEventId) instead of sending the message a second time', async () => {
    const { sessionId } = await alice.chat.send.mutate({ message: 'about to reconnect' });
    const [before, requestsBefore] = [await counts(), fake.requests.length];
    const { error } = await streamOf(alice, { conversationId: sessionId, message: 'sent once', lastEventId: '3' });
    expect(error?.data).toMatchObject({ code: 'CONFLICT', wardenCode: 'CONFLICT', details: { reason: 'stream_interrupted' } });
    expect(fake.requests.length).toBe(requestsBefore);
    expect(await counts()).toEqual(before);
  });

  it('deletes a session with its messages', async () => {
    const sent = await alice.chat.send.mutate({ message: 'to be deleted' });
    await alice.chat.send.mutate({ conversationId: sent.sessionId, message: 'and this' });
    expect(await alice.chat.delete.mutate({ conversationId: sent.sessionId })).toEqual({ sessionId: sent.sessionId, deleted: true });
    const [row] = await t.app.sql<{ n: number }[]>`select count(*)::int as n from chat_messages where session_id = ${sent.sessionId}`;
    expect(row?.n).toBe(0);
    expect((await rejection(alice.chat.history.query({ conversationId: sent.sessionId }))).data?.code).toBe('NOT_FOUND');
  });

  it('answers 20 concurrent sends to one session one after the other: 40 messages, in order, none lost', async () => {
    const { sessionId } = await bob.chat.send.mutate({ message: 'concurrent 0' });
    const requestsBefore = fake.requests.length;
    const messages = Array.from({ length: 20 }, (_, i) => `concurrent ${i + 1}`);
    const answers = await Promise.all(messages.map((message) => bob.chat.send.mutate({ conversationId: sessionId, message })));
    expect(answers.map((a) => a.answer)).toEqual(messages.map((m) => `answer to: ${m}`));

    const stored = (await bob.chat.history.query({ conversationId: sessionId, limit: 100 })).items;
    expect(stored).toHaveLength(42);
    // Each question is followed by its own answer …
    for (let i = 0; i < stored.length; i += 2) {
      expect(stored[i]?.role).toBe('user');
      expect(stored[i + 1]).toMatchObject({ role: 'assistant', content: `answer to: ${stored[i]?.content}` });
    }
    expect(new Set(stored.filter((m) => m.role === 'user').map((m) => m.content))).toEqual(new Set(['concurrent 0', ...messages]));
    // … and each turn's prompt held every turn committed before it (the newest 10 messages of them).
    const received = fake.requests.slice(requestsBefore);
    expect(received).toHaveLength(20);
    received.forEach((request, turn) => {
      const before = stored.slice(0, 2 * (turn + 1)).slice(-10);
      expect(request.messages.slice(1)).toEqual([
        ...before.map((m) => ({ role: m.role, content: m.content })),
        { role: 'user', content: stored[2 * (turn + 1)]?.content },
      ]);
    });
  });
});

describe('a failing model', () => {
  async function failedTurn(reply: FakeLlmServer['reply'], via: 'send' | 'stream') {
    const { sessionId } = await bob.chat.send.mutate({ message: `before a ${via} failure` });
    const [before, tokensBefore] = [await counts(), await t.app.stores.tokens.used('bob')];
    const durableBefore = await durableTokens('bob');
    fake.reply = reply;
    const error =
      via === 'send'
        ? await rejection(bob.chat.send.mutate({ conversationId: sessionId, message: 'will fail' }))
        : (await streamOf(bob, { conversationId: sessionId, message: 'will fail' })).error;
    fake.reply = echoReply;
    // Nothing saved, nothing charged.
    expect(await counts()).toEqual(before);
    expect(await t.app.stores.tokens.used('bob')).toBe(tokensBefore);
    expect(await durableTokens('bob')).toBe(durableBefore);
    return error;
  }

  it('turns a 429 into LLM_UNAVAILABLE with the retry-after', async () => {
    const err = await failedTurn(() => ({ kind: 'status', status: 429, retryAfter: '7' }), 'send');
    expect(err?.data).toMatchObject({
      code: 'SERVICE_UNAVAILABLE',
      httpStatus: 503,
      wardenCode: 'LLM_UNAVAILABLE',
      details: { reason: 'rate_limited', status: 429, retryAfterSeconds: 7 },
    });
  });

  it('turns a 5xx into LLM_UNAVAILABLE', async () => {
    const err = await failedTurn(() => ({ kind: 'status', status: 502 }), 'send');
    expect(err?.data).toMatchObject({ wardenCode: 'LLM_UNAVAILABLE', details: { reason: 'server_error', status: 502, retryAfterSeconds: null } });
  });

  it('ends a stream that stalls midway with a typed timeout', async () => {
    const err = await failedTurn(() => ({ kind: 'stall', before: 'I was about to say' }), 'stream');
    expect(err?.data).toMatchObject({ wardenCode: 'LLM_UNAVAILABLE', details: { reason: 'timeout' } });
  });

  it('ends a stream cut midway, or refused with 503, with a typed error', async () => {
    const cut = await failedTurn(() => ({ kind: 'cut', before: 'half an' }), 'stream');
    expect(cut?.data).toMatchObject({ wardenCode: 'LLM_UNAVAILABLE', details: { reason: 'unreachable' } });
    const refused = await failedTurn(() => ({ kind: 'status', status: 503, retryAfter: '30' }), 'stream');
    expect(refused?.data).toMatchObject({ wardenCode: 'LLM_UNAVAILABLE', details: { reason: 'server_error', retryAfterSeconds: 30 } });
  });
});
