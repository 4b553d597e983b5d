import { z } from 'zod';
import { DEFAULT_TIERS, TIER_NAMES, tierLimitsSchema, type TierTable } from './domain/tiers.js';

const tierOverridesSchema = z.partialRecord(z.enum(TIER_NAMES), tierLimitsSchema.partial());

const jsonString = <T extends z.ZodType>(schema: T) =>
  z.string().transform((raw, ctx) => {
    try {
      return schema.parse(JSON.parse(raw));
    } catch (err) {
      ctx.addIssue({ code: 'custom', message: `not valid JSON for this setting: ${String(err)}` });
      return z.NEVER;
    }
  });

const envSchema = z.object({
  NODE_ENV: z.string().default('development'),
  DATABASE_URL: z.url().optional(),
  REDIS_URL: z.url().optional(),
  HOST: z.string().default('127.0.0.1'),
  PORT: z.coerce.number().int().min(0).max(65535).default(3000),
  WARDEN_SECRET: z.string().min(16).optional(),
  WARDEN_KEY_PREFIX: z.string().regex(/^[A-Za-z0-9_:.-]*$/).default('warden:'),
  WARDEN_DATA_DIR: z.string().default('.data'),
  WARDEN_WORKERS: z.coerce.number().int().min(0).max(10_000).default(4),
  WARDEN_STEP_MS: z.coerce.number().int().min(0).default(500),
  WARDEN_CHECKS_FAIL_RATE: z.coerce.number().min(0).max(1).default(0.3),
  WARDEN_LEASE_SECONDS: z.coerce.number().int().positive().default(30),
  WARDEN_HEARTBEAT_SECONDS: z.coerce.number().positive().optional(),
  WARDEN_QUEUE_CAP: z.coerce.number().int().positive().default(100),
  WARDEN_MAX_JOB_AGE_HOURS: z.coerce.number().positive().default(72),
  WARDEN_MIDNIGHT_JITTER_SECONDS: z.coerce.number().int().min(0).default(300),
  WARDEN_RISK_SCAN_SECONDS: z.coerce.number().min(0).default(60),
  WARDEN_RISK_SCAN_THREADS: z.coerce.number().int().min(0).max(64).optional(),
  WARDEN_RISK_FACT_RETENTION_DAYS: z.coerce.number().min(0).default(90),
  WARDEN_TIERS: jsonString(tierOverridesSchema).optional(),
  // Chat (SPEC §8): no base URL = the deterministic local model of the embedded default.
  WARDEN_LLM_BASE_URL: z.url().optional(),
  WARDEN_LLM_API_KEY: z.string().min(1).optional(),
  WARDEN_LLM_MODEL: z.string().min(1).default('gpt-4o-mini'),
  WARDEN_LLM_TIMEOUT_MS: z.coerce.number().int().positive().default(60_000),
  WARDEN_LLM_MAX_ANSWER_TOKENS: z.coerce.number().int().positive().optional(),
  WARDEN_CHAT_CONTEXT_TOKENS: z.coerce.number().int().min(64).default(8_000),
  WARDEN_CHAT_RETENTION_DAYS: z.coerce.number().min(0).default(90),
  WARDEN_CHAT_TURN_CONNECTIONS: z.coerce.number().int().min(1).max(100).default(5),
  // HTTP hygiene: idle and slow connections are closed, open connections and SSE streams are capped.
  WARDEN_HTTP_KEEP_ALIVE_MS: z.coerce.number().int().positive().default(5_000),
  WARDEN_HTTP_HEADERS_TIMEOUT_MS: z.coerce.number().int().positive().default(10_000),
  WARDEN_HTTP_REQUEST_TIMEOUT_MS: z.coerce.number().int().positive().default(30_000),
  WARDEN_MAX_CONNECTIONS: z.coerce.number().int().min(0).default(1_000),
  WARDEN_MAX_STREAMS_PER_USER: z.coerce.number().int().min(0).default(20),
  WARDEN_STREAM_REAUTH_MS: z.coerce.number().int().min(0).default(5_000),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
});

export interface WardenConfig {
  env: string;
  databaseUrl: string | undefined;
  redisUrl: string | undefined;
  host: string;
  port: number;
  secret: string | undefined;
  keyPrefix: string;
  dataDir: string;
  workers: number;
  stepMs: number;
  checksFailRate: number;
  leaseSeconds: number;
  heartbeatSeconds: number;
  queueCap: number;
  maxJobAgeHours: number;
  midnightJitterSeconds: number;
  /** Periodic risk scan interval; 0 = on demand only (risks.scan). */
  riskScanSeconds: number;
  /** Risk scan worker threads; 0 = main thread; undefined = cores, at most 4. */
  riskScanThreads: number | undefined;
  /** Stored risk facts older than this many days are purged; 0 keeps them forever. */
  riskFactRetentionDays: number;
  tiers: TierTable;
  /** The chat model: OpenAI-compatible when `baseUrl` is set, else the local model. The key is never logged. */
  llm: {
    baseUrl: string | undefined;
    apiKey: string | undefined;
    model: string;
    timeoutMs: number;
    maxAnswerTokens: number | undefined;
  };
  chat: {
    /** Prompt budget in tokens: history is dropped, oldest first, to fit. */
    contextTokens: number;
    /** Sessions untouched for longer are deleted; 0 keeps them forever. */
    retentionDays: number;
    /** PostgreSQL connections for turns (each holds its session's row lock while the model answers). */
    turnConnections: number;
  };
  /** src/http/createHttpServer.ts and the SSE stream cap in router/trpc.ts. */
  http: {
    /** An idle keep-alive connection is closed after this. */
    keepAliveTimeoutMs: number;
    /** A request whose headers are not all in by then is answered 408 and closed (≤ requestTimeoutMs). */
    headersTimeoutMs: number;
    /** A request (headers and body) not fully received by then is answered 408 and closed. */
    requestTimeoutMs: number;
    /** Open connections per process; more are closed at once. 0 = no cap. */
    maxConnections: number;
    /** Open SSE subscriptions per user per process; the next is refused TOO_MANY_STREAMS. 0 = no cap. */
    maxStreamsPerUser: number;
    /** An open subscription's caller is checked again this often; a revoked one's stream ends. 0 = never. */
    reauthenticateStreamsMs: number;
  };
  logLevel: z.infer<typeof envSchema>['LOG_LEVEL'];
}

/** Thrown with every bad setting listed, so a misconfigured start says what to fix. */
export class ConfigError extends Error {
  override readonly name = 'ConfigError';
}

/** Parses the environment once; the result is passed down, never re-read from process.env. */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): WardenConfig {
  const parsed = envSchema.safeParse(env);
  if (!parsed.success) {
    const lines = parsed.error.issues.map((i) => `  ${i.path.join('.')}: ${i.message}`);
    throw new ConfigError(`Invalid configuration:\n${lines.join('\n')}`);
  }
  const e = parsed.data;
  // Node refuses to start a server whose headers timeout exceeds its request timeout; say so by name.
  if (e.WARDEN_HTTP_HEADERS_TIMEOUT_MS > e.WARDEN_HTTP_REQUEST_TIMEOUT_MS) {
    throw new ConfigError('Invalid configuration:\n  WARDEN_HTTP_HEADERS_TIMEOUT_MS: must not exceed WARDEN_HTTP_REQUEST_TIMEOUT_MS');
  }
  const tiers = structuredClone(DEFAULT_TIERS);
  for (const name of TIER_NAMES) {
    const override = e.WARDEN_TIERS?.[name];
    if (override) tiers[name] = tierLimitsSchema.parse({ ...tiers[name], ...override });
  }
  return {
    env: e.NODE_ENV,
    databaseUrl: e.DATABASE_URL,
    redisUrl: e.REDIS_URL,
    host: e.HOST,
    port: e.PORT,
    secret: e.WARDEN_SECRET,
    keyPrefix: e.WARDEN_KEY_PREFIX,
    dataDir: e.WARDEN_DATA_DIR,
    workers: e.WARDEN_WORKERS,
    stepMs: e.WARDEN_STEP_MS,
    checksFailRate: e.WARDEN_CHECKS_FAIL_RATE,
    leaseSeconds: e.WARDEN_LEASE_SECONDS,
    // A lease renewed three times per lifetime survives two missed beats.
    heartbeatSeconds: e.WARDEN_HEARTBEAT_SECONDS ?? e.WARDEN_LEASE_SECONDS / 3,
    queueCap: e.WARDEN_QUEUE_CAP,
    maxJobAgeHours: e.WARDEN_MAX_JOB_AGE_HOURS,
    midnightJitterSeconds: e.WARDEN_MIDNIGHT_JITTER_SECONDS,
    riskScanSeconds: e.WARDEN_RISK_SCAN_SECONDS,
    riskScanThreads: e.WARDEN_RISK_SCAN_THREADS,
    riskFactRetentionDays: e.WARDEN_RISK_FACT_RETENTION_DAYS,
    tiers,
    llm: {
      baseUrl: e.WARDEN_LLM_BASE_URL,
      apiKey: e.WARDEN_LLM_API_KEY,
      model: e.WARDEN_LLM_MODEL,
      timeoutMs: e.WARDEN_LLM_TIMEOUT_MS,
      maxAnswerTokens: e.WARDEN_LLM_MAX_ANSWER_TOKENS,
    },
    chat: {
      contextTokens: e.WARDEN_CHAT_CONTEXT_TOKENS,
      retentionDays: e.WARDEN_CHAT_RETENTION_DAYS,
      turnConnections: e.WARDEN_CHAT_TURN_CONNECTIONS,
    },
    http: {
      keepAliveTimeoutMs: e.WARDEN_HTTP_KEEP_ALIVE_MS,
      headersTimeoutMs: e.WARDEN_HTTP_HEADERS_TIMEOUT_MS,
      requestTimeoutMs: e.WARDEN_HTTP_REQUEST_TIMEOUT_MS,
      maxConnections: e.WARDEN_MAX_CONNECTIONS,
      maxStreamsPerUser: e.WARDEN_MAX_STREAMS_PER_USER,
      reauthenticateStreamsMs: e.WARDEN_STREAM_REAUTH_MS,
    },
    logLevel: e.LOG_LEVEL,
  };
}
