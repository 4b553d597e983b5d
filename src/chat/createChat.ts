import type { Clock } from '../clock.js';
import type { WardenConfig } from '../config.js';
import { createChatRepository } from '../db/chatRepository.js';
import { createSql, type Sql } from '../db/client.js';
import type { Periodic } from '../jobs/periodic.js';
import type { Logger } from '../log.js';
import type { TokenStore } from '../redis/tokenStore.js';
import type { ChatModel } from './chatModel.js';
import { createChatRetention } from './chatRetention.js';
import { createChatService, type ChatService } from './chatService.js';
import { createLocalModel } from './localModel.js';
import { createOpenAiModel } from './openAiModel.js';

export interface ChatRuntime {
  service: ChatService;
  model: ChatModel;
  retention: Periodic;
  /** Stops the sweep and closes the turn pool (after the turns in flight). */
  close(): Promise<void>;
}

/** The configured model: OpenAI-compatible when WARDEN_LLM_BASE_URL is set, else the local one. */
export function createChatModel(config: Pick<WardenConfig, 'llm'>, clock: Clock): ChatModel {
  const { llm } = config;
  if (!llm.baseUrl) return createLocalModel();
  return createOpenAiModel({
    baseUrl: llm.baseUrl,
    apiKey: llm.apiKey,
    model: llm.model,
    timeoutMs: llm.timeoutMs,
    maxAnswerTokens: llm.maxAnswerTokens ?? null,
    clock,
  });
}

/**
 * Chat as createApp plugs it in. Turns get their own small pool: a turn holds its connection (and its
 * session's row lock) while the model answers, possibly for many seconds, and must never starve the
 * job runtime and the API of the main pool's connections.
 */
export function createChatRuntime(deps: {
  config: WardenConfig;
  sql: Sql;
  schema?: string | undefined;
  tokens: TokenStore;
  clock: Clock;
  log: Logger;
  model?: ChatModel;
}): ChatRuntime {
  const { config, clock, log } = deps;
  if (!config.databaseUrl) throw new Error('chat needs config.databaseUrl');
  const turnSql = createSql(config.databaseUrl, {
    ...(deps.schema === undefined ? {} : { schema: deps.schema }),
    max: config.chat.turnConnections,
  });
  const repository = createChatRepository(deps.sql);
  const model = deps.model ?? createChatModel(config, clock);
  const service = createChatService({
    repository,
    turnSql,
    model,
    tokens: deps.tokens,
    clock,
    log,
    contextTokens: config.chat.contextTokens,
  });
  const retention = createChatRetention({ repository, clock, retentionDays: config.chat.retentionDays, log });
  if (config.chat.retentionDays > 0) {
    // Once now, then hourly: a process restarted more often than hourly must still sweep.
    void retention.runNow();
    retention.start();
  }
  return {
    service,
    model,
    retention,
    async close() {
      await retention.stop();
      await turnSql.end({ timeout: 5 });
    },
  };
}
