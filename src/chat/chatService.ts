import { randomUUID } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import type { Clock } from '../clock.js';
import type { Sql } from '../db/client.js';
import type { ChatMessageRow, ChatRepository, ChatSessionRow } from '../db/chatRepository.js';
import { addDailyTokens } from '../db/dailyUsageRepository.js';
import { TOKEN_LIMIT_MESSAGE, tokenBudget, type TierLimits } from '../domain/tiers.js';
import { notFound, WardenError } from '../errors.js';
import type { Logger } from '../log.js';
import type { TokenStore } from '../redis/tokenStore.js';
import type { ChatModel } from './chatModel.js';
import { buildPrompt, DEFAULT_SYSTEM_PROMPT, HISTORY_MESSAGES, textTokens } from './chatPrompt.js';
import { createKeyedQueue } from './keyedQueue.js';
import { streamTurn, type ChatStreamEvent } from './streamTurn.js';

/** Who is chatting: what the token budget needs (router/context.ts's AuthUser fits). */
export interface ChatCaller {
  id: string;
  limits: TierLimits;
  tokenBudgetOverride: number | null;
}

export interface ChatTurnResult {
  sessionId: string;
  answer: string;
  usage: { promptTokens: number; completionTokens: number; totalTokens: number };
  /** From the model call's start to its last token. */
  latencyMs: number;
  model: string;
}

export interface ChatSessionView {
  sessionId: string;
  title: string;
  createdAt: string;
  updatedAt: string;
}

export interface ChatMessageView {
  role: 'user' | 'assistant';
  content: string;
  tokens: number;
  createdAt: string;
}

export interface SendInput {
  conversationId?: string | undefined;
  /** Already trimmed and bounded by the API's schema. */
  message: string;
}

/**
 * Chat sessions (SPEC §8): owned conversations, answered from the newest history that fits the model's
 * context, every token counted against the caller's daily budget (§4).
 */
export interface ChatService {
  send(caller: ChatCaller, input: SendInput, signal?: AbortSignal): Promise<ChatTurnResult>;
  /**
   * Checks what can be checked before anything is generated (the session is the caller's, the budget is
   * not spent, the message fits), then streams the turn: text pieces, then the same result as send.
   */
  stream(caller: ChatCaller, input: SendInput, signal?: AbortSignal): Promise<AsyncGenerator<ChatStreamEvent, void, undefined>>;
  history(caller: ChatCaller, input: { conversationId: string; cursor?: string | undefined; limit?: number | undefined }): Promise<{
    session: ChatSessionView;
    items: ChatMessageView[];
    nextCursor: string | null;
  }>;
  sessions(caller: ChatCaller, input: { cursor?: string | undefined; limit?: number | undefined }): Promise<{ items: ChatSessionView[]; nextCursor: string | null }>;
  delete(caller: ChatCaller, conversationId: string): Promise<{ sessionId: string; deleted: true }>;
}

export interface ChatServiceDeps {
  repository: ChatRepository;
  /** The pool turns run on: each turn holds one connection (and its session's row lock) while the model answers. */
  turnSql: Sql;
  model: ChatModel;
  tokens: TokenStore;
  clock: Clock;
  log: Logger;
  /** The prompt's token budget (WARDEN_CHAT_CONTEXT_TOKENS). */
  contextTokens: number;
  systemPrompt?: string;
}

const TITLE_LENGTH = 80;

export function createChatService(deps: ChatServiceDeps): ChatService {
  const { repository, clock } = deps;
  const systemPrompt = deps.systemPrompt ?? DEFAULT_SYSTEM_PROMPT;
  const queue = createKeyedQueue();

  /** TOKEN_BUDGET with SPEC §4's message when the caller's daily tokens are spent; -1 is unlimited. */
  const checkBudget = async (caller: ChatCaller): Promise<void> => {
    const budget = tokenBudget(caller.limits, caller.tokenBudgetOverride);
    if (budget === -1) return;
    const check = await deps.tokens.check(caller.id, budget);
    if (!check.allowed) {
      throw new WardenError('TOKEN_BUDGET', TOKEN_LIMIT_MESSAGE(check.used, check.limit), {
        used: check.used,
        limit: check.limit,
        resetsAt: new Date(check.resetsAt).toISOString(),
      });
    }
  };

  /** Throws PROMPT_TOO_LONG when the message cannot fit even with no history. */
  const checkFits = (message: string) => buildPrompt({ systemPrompt, history: [], message, budget: deps.contextTokens });

  /**
   * One turn, serialised per session: in this process by the queue, across processes by the session's
   * row lock, held until the turn commits. Everything is in one transaction: a refusal or a failed model
   * call rolls back (no session created, no message, no tokens); the hot counter is charged only after
   * the commit, and before the next turn of the session starts, so that turn's budget check sees it.
   */
  const runTurn = (caller: ChatCaller, input: SendInput, onDelta?: (text: string) => void, signal?: AbortSignal) => {
    checkFits(input.message);
    const sessionId = input.conversationId ?? randomUUID();
    // A new session's id is known to nobody yet: nothing to queue behind.
    const turn = async (): Promise<ChatTurnResult> => {
      const result = await deps.turnSql.begin(async (tx): Promise<ChatTurnResult> => {
        if (input.conversationId === undefined) {
          const at = new Date(clock.now());
          await repository.createSession(tx, { id: sessionId, ownerId: caller.id, title: titleOf(input.message), at });
        } else if (!(await repository.lockSession(tx, caller.id, sessionId))) {
          throw notFound('chat session', sessionId);
        }
        await checkBudget(caller);
        const history = await repository.newestMessages(tx, sessionId, HISTORY_MESSAGES);
        const prompt = buildPrompt({ systemPrompt, history, message: input.message, budget: deps.contextTokens });
        const started = performance.now();
        const answer = await deps.model.answer({
          messages: prompt.messages,
          ...(onDelta ? { onDelta } : {}),
          ...(signal ? { signal } : {}),
        });
        const latencyMs = Math.round(performance.now() - started);
        const answerTokens = textTokens(answer.text);
        // The provider's count is what it bills; ours stands in when it reports none (the local model).
        const promptTokens = answer.usage?.promptTokens ?? prompt.tokens;
        const completionTokens = answer.usage?.completionTokens ?? answerTokens;
        const totalTokens = promptTokens + completionTokens;
        const now = clock.now();
        await repository.appendMessages(
          tx,
          sessionId,
          [
            { role: 'user', content: input.message, tokenCount: textTokens(input.message) },
            { role: 'assistant', content: answer.text, tokenCount: answerTokens },
          ],
          new Date(now),
        );
        await addDailyTokens(tx, caller.id, now, totalTokens);
        return { sessionId, answer: answer.text, usage: { promptTokens, completionTokens, totalTokens }, latencyMs, model: answer.model };
      });
      // Committed: the durable count is in daily_usage, which Redis is rebuilt from, so a failed add here
      // is logged, not turned into a failed turn the user would retry (and pay for twice).
      await deps.tokens
        .add(caller.id, result.usage.totalTokens)
        .catch((err: unknown) => deps.log.warn({ err, userId: caller.id }, 'chat tokens not added to the hot counter'));
      return result;
    };
    return input.conversationId === undefined ? turn() : queue.run(sessionId, turn);
  };

  return {
    // async: a refusal found before the turn starts (PROMPT_TOO_LONG) is a rejection, never a throw.
    send: async (caller, input, signal) => runTurn(caller, input, undefined, signal),

    async stream(caller, input, signal) {
      checkFits(input.message);
      if (input.conversationId !== undefined && !(await repository.getSession(caller.id, input.conversationId))) {
        throw notFound('chat session', input.conversationId);
      }
      await checkBudget(caller);
      return streamTurn((onDelta, turnSignal) => runTurn(caller, input, onDelta, turnSignal), signal);
    },

    async history(caller, input) {
      const session = await repository.getSession(caller.id, input.conversationId);
      const page = session && (await repository.history(caller.id, input.conversationId, { limit: input.limit, cursor: input.cursor ?? null }));
      if (!session || !page) throw notFound('chat session', input.conversationId);
      return { session: toSessionView(session), items: page.items.map(toMessageView), nextCursor: page.nextCursor };
    },

    async sessions(caller, input) {
      const page = await repository.listSessions(caller.id, { limit: input.limit, cursor: input.cursor ?? null });
      return { items: page.items.map(toSessionView), nextCursor: page.nextCursor };
    },

    async delete(caller, conversationId) {
      if (!(await repository.deleteSession(caller.id, conversationId))) throw notFound('chat session', conversationId);
      return { sessionId: conversationId, deleted: true };
    },
  };
}

/** A session's title: its first message on one line, shortened. */
export function titleOf(message: string): string {
  const line = message.replace(/\s+/g, ' ').trim();
  return line.length > TITLE_LENGTH ? `${line.slice(0, TITLE_LENGTH - 1)}…` : line;
}

function toSessionView(row: ChatSessionRow): ChatSessionView {
  return { sessionId: row.id, title: row.title, createdAt: row.createdAt, updatedAt: row.updatedAt };
}

function toMessageView(row: ChatMessageRow): ChatMessageView {
  return { role: row.role, content: row.content, tokens: row.tokenCount, createdAt: row.createdAt };
}
