import { createServer } from 'node:net';
import { beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { ChatModel } from '../../src/chat/chatModel.js';
import { DEFAULT_SYSTEM_PROMPT, messageTokens, TOKENS_REPLY_PRIMING } from '../../src/chat/chatPrompt.js';
import { createChatService, type ChatCaller, type ChatService } from '../../src/chat/chatService.js';
import { sweepChatRetention } from '../../src/chat/chatRetention.js';
import { createOpenAiModel } from '../../src/chat/openAiModel.js';
import { createChatRuntime } from '../../src/chat/createChat.js';
import { createManualClock } from '../../src/clock.js';
import { loadConfig } from '../../src/config.js';
import { createChatRepository } from '../../src/db/chatRepository.js';
import { migrate } from '../../src/db/migrate.js';
import { createUsersRepository } from '../../src/db/usersRepository.js';
import { DEFAULT_TIERS } from '../../src/domain/tiers.js';
import { isWardenError } from '../../src/errors.js';
import { createLogger } from '../../src/log.js';
import { createRedisTokenStore } from '../../src/redis/tokenStore.js';
import { echoReply, startFakeLlmServer, type FakeLlmServer } from '../helpers/fakeLlmServer.js';
import { useTestDb } from '../helpers/testDb.js';
import { useTestRedis } from '../helpers/testRedis.js';

/**
 * The chat service on the real PostgreSQL and Redis, its OpenAI-compatible model talking to a local
 * chat-completions server: the context budget cut, turns from two "processes" (two services, two turn
 * pools) on one session, a provider that cannot be reached, and the retention sweep at exact instants.
 */
const db = await useTestDb('chat_service');
const redis = useTestRedis('chat-service');
// In the future: Redis expires the token counters by its own clock (PEXPIREAT), not this one.
const clock = createManualClock('2027-03-01T12:00:00Z');
const log = createLogger({ level: 'silent' });
const repository = createChatRepository(db.sql);
const tokens = createRedisTokenStore(redis.redis, redis.keys, clock);
const caller: ChatCaller = { id: 'ana', limits: DEFAULT_TIERS.partner, tokenBudgetOverride: null };
let fake: FakeLlmServer;

function serviceWith(options: { model?: ChatModel; contextTokens?: number } = {}): ChatService {
  return createChatService({
    repository,
    turnSql: db.connect(3),
    model: options.model ?? createOpenAiModel({ baseUrl: fake.url, apiKey: undefined, model: 'm', timeoutMs: 5_000, maxAnswerTokens: 256, clock }),
    tokens,
    clock,
    log,
    contextTokens: options.contextTokens ?? 8_000,
  });
}

async function messageCount(): Promise<number> {
  const [row] = await db.sql<{ n: number }[]>`select count(*)::int as n from chat_messages`;
  return row?.n ?? -1;
}

beforeAll(async () => {
  await migrate(db.sql);
  await createUsersRepository(db.sql).upsertUser({ id: 'ana', tier: 'partner', now: clock.now() });
  fake = await startFakeLlmServer();
});

beforeEach(() => {
  fake.reply = echoReply;
});

describe('the chat service', () => {
  it('sends exactly the newest 4 messages when only 4 fit the context budget', async () => {
    const chat = serviceWith();
    const { sessionId } = await chat.send(caller, { message: 'turn 1' });
    for (let turn = 2; turn <= 5; turn++) await chat.send(caller, { conversationId: sessionId, message: `turn ${turn}` });
    const stored = (await repository.newestMessages(db.sql, sessionId, 10)).map((m) => ({ role: m.role, content: m.content }));
    expect(stored).toHaveLength(10);

    const message = 'turn 6';
    const fixed = messageTokens({ role: 'system', content: DEFAULT_SYSTEM_PROMPT }) + messageTokens({ role: 'user', content: message }) + TOKENS_REPLY_PRIMING;
    const newest4 = stored.slice(-4).reduce((sum, m) => sum + messageTokens(m), 0);
    const tight = serviceWith({ contextTokens: fixed + newest4 });
    await tight.send(caller, { conversationId: sessionId, message });
    expect(fake.requests.at(-1)?.messages).toEqual([
      { role: 'system', content: DEFAULT_SYSTEM_PROMPT },
      ...stored.slice(-4),
      { role: 'user', content: message },
    ]);
    expect(fake.requests.at(-1)?.max_tokens).toBe(256);
  });

  it('refuses a message that alone exceeds the context budget: PROMPT_TOO_LONG, nothing sent or created', async () => {
    const [messages, requests] = [await messageCount(), fake.requests.length];
    const err: unknown = await serviceWith({ contextTokens: 64 })
      .send(caller, { message: 'plan '.repeat(100).trim() })
      .then(() => null, (e: unknown) => e);
    expect(isWardenError(err, 'PROMPT_TOO_LONG') && err.details.budget).toBe(64);
    expect(fake.requests.length).toBe(requests);
    expect(await messageCount()).toBe(messages);
  });

  it('serialises turns of one session across two processes: each turn sees every turn before it', async () => {
    const [one, two] = [serviceWith(), serviceWith()];
    const { sessionId } = await one.send(caller, { message: 'start' });
    const before = fake.requests.length;
    const sends = Array.from({ length: 12 }, (_, i) =>
      (i % 2 === 0 ? one : two).send(caller, { conversationId: sessionId, message: `parallel ${i}` }),
    );
    await Promise.all(sends);
    const stored = (await repository.history('ana', sessionId, { limit: 100 }))?.items ?? [];
    expect(stored).toHaveLength(26);
    for (let i = 0; i < stored.length; i += 2) {
      expect(stored[i + 1]?.content).toBe(`answer to: ${stored[i]?.content}`);
    }
    fake.requests.slice(before).forEach((request, turn) => {
      const history = stored.slice(0, 2 * (turn + 1)).slice(-10).map((m) => ({ role: m.role, content: m.content }));
      expect(request.messages.slice(1)).toEqual([...history, { role: 'user', content: stored[2 * (turn + 1)]?.content }]);
    });
  });

  it('answers LLM_UNAVAILABLE when the provider cannot be reached, saving and charging nothing', async () => {
    // A port that was free a moment ago: nothing listens there.
    const port = await new Promise<number>((resolve) => {
      const probe = createServer().listen(0, '127.0.0.1', () => {
        const address = probe.address();
        probe.close(() => resolve(typeof address === 'object' && address ? address.port : 0));
      });
    });
    const down = createOpenAiModel({ baseUrl: `http://127.0.0.1:${port}/v1`, apiKey: 'k', model: 'm', timeoutMs: 5_000, maxAnswerTokens: null, clock });
    const chat = serviceWith({ model: down });
    const [messagesBefore, tokensBefore] = [await messageCount(), await tokens.used('ana')];
    for (const send of [() => chat.send(caller, { message: 'anyone there?' }), async () => {
      for await (const event of await chat.stream(caller, { message: 'anyone there?' })) void event;
    }]) {
      const err: unknown = await send().then(() => null, (e: unknown) => e);
      expect(isWardenError(err, 'LLM_UNAVAILABLE') && err.details).toMatchObject({ reason: 'unreachable', status: null });
    }
    expect(await messageCount()).toBe(messagesBefore);
    expect(await tokens.used('ana')).toBe(tokensBefore);
    const [sessions] = await db.sql<{ n: number }[]>`select count(*)::int as n from chat_sessions where title = 'anyone there?'`;
    expect(sessions?.n).toBe(0);
  });

  it('times out a provider that never answers (non-streaming)', async () => {
    const slow = createOpenAiModel({ baseUrl: fake.url, apiKey: 'k', model: 'm', timeoutMs: 300, maxAnswerTokens: null, clock });
    fake.reply = () => ({ kind: 'stall', before: '' });
    const err: unknown = await serviceWith({ model: slow }).send(caller, { message: 'hello?' }).then(() => null, (e: unknown) => e);
    expect(isWardenError(err, 'LLM_UNAVAILABLE') && err.details.reason).toBe('timeout');
  });
});

describe('the daily token budget', () => {
  it('charges the UTC date, not the server\'s local one, refuses before the model when spent, and resets at UTC midnight', async () => {
    // A server whose local date is already tomorrow for most of the UTC day.
    const zone = process.env.TZ;
    process.env.TZ = 'Pacific/Kiritimati';
    try {
      await createUsersRepository(db.sql).upsertUser({ id: 'ben', tier: 'bootstrapper', tokenBudgetOverride: 20, now: clock.now() });
      const ben: ChatCaller = { id: 'ben', limits: DEFAULT_TIERS.bootstrapper, tokenBudgetOverride: 20 };
      const chat = serviceWith();
      clock.set('2027-05-10T23:59:00Z');
      const { sessionId } = await chat.send(ben, { message: 'late' });
      await chat.send(ben, { conversationId: sessionId, message: 'later' });
      const requests = fake.requests.length;
      const err: unknown = await chat.send(ben, { conversationId: sessionId, message: 'too late' }).then(() => null, (e: unknown) => e);
      expect(isWardenError(err, 'TOKEN_BUDGET') && err.message).toBe('Daily token limit reached (36/20). Resets at midnight UTC.');
      expect(isWardenError(err, 'TOKEN_BUDGET') && err.details.resetsAt).toBe('2027-05-11T00:00:00.000Z');
      expect(fake.requests.length).toBe(requests);

      clock.set('2027-05-11T00:00:00Z');
      await chat.send(ben, { conversationId: sessionId, message: 'a new day' });
      const days = await db.sql<{ day: string; tokens: number }[]>`
        select to_char(day, 'YYYY-MM-DD') as day, tokens_used::int as tokens from daily_usage where user_id = 'ben' order by day`;
      expect(days).toEqual([{ day: '2027-05-10', tokens: 36 }, { day: '2027-05-11', tokens: 18 }]);
      expect(await tokens.used('ben')).toBe(18);
    } finally {
      if (zone === undefined) delete process.env.TZ;
      else process.env.TZ = zone;
    }
  });
});

describe('retention', () => {
  it('deletes sessions untouched for longer than the retention, with their messages, by the injected clock', async () => {
    const chat = serviceWith();
    const at = (iso: string) => clock.set(iso);
    at('2027-01-01T00:00:00Z');
    const old = await chat.send(caller, { message: 'old' });
    at('2027-01-20T00:00:00Z');
    const touched = await chat.send(caller, { message: 'started early' });
    at('2027-03-15T00:00:00Z');
    await chat.send(caller, { conversationId: touched.sessionId, message: 'touched later' });
    at('2027-04-01T00:00:00Z');
    const fresh = await chat.send(caller, { message: 'fresh' });

    // 90 days after the old session's last turn, to the millisecond: not yet "longer than" 90 days.
    clock.set('2027-04-01T00:00:00Z');
    expect(await sweepChatRetention({ repository, clock, retentionDays: 90 })).toBe(0);
    clock.advance(1);
    expect(await sweepChatRetention({ repository, clock, retentionDays: 90 })).toBe(1);
    expect(await repository.getSession('ana', old.sessionId)).toBeNull();
    const [orphans] = await db.sql<{ n: number }[]>`select count(*)::int as n from chat_messages where session_id = ${old.sessionId}`;
    expect(orphans?.n).toBe(0);
    // Touched within the window (by its later turn): kept, with all four messages.
    expect((await repository.history('ana', touched.sessionId, {}))?.items).toHaveLength(4);
    expect(await repository.getSession('ana', fresh.sessionId)).not.toBeNull();
    expect(await sweepChatRetention({ repository, clock, retentionDays: 0 })).toBe(0);
  });

  it('is the sweep of the chat runtime createApp builds, on its injected clock', async () => {
    const config = loadConfig({ DATABASE_URL: db.url, WARDEN_CHAT_RETENTION_DAYS: '30', LOG_LEVEL: 'silent' });
    clock.set('2027-07-01T00:00:00Z');
    const id = '00000000-0000-4000-8000-000000000042';
    await repository.createSession(db.sql, { id, ownerId: 'ana', title: 'forgotten', at: new Date('2027-05-01T00:00:00Z') });
    const runtime = createChatRuntime({ config, sql: db.sql, schema: db.schema, tokens, clock, log });
    try {
      // Runs are chained: this one also waits for the sweep the runtime ran as it started.
      await runtime.retention.runNow();
      expect(await repository.getSession('ana', id)).toBeNull();
      expect(runtime.model.local).toBe(true);
    } finally {
      await runtime.close();
    }
  });
});
