import { JOB_STATUSES, type JobStatus } from '../actors/jobTransitions.js';
import { appRouter, type AppRouter } from '../router/appRouter.js';
import { createContextFactory, type AppServices } from '../router/context.js';
import { resolveSecret } from './auth/resolveSecret.js';
import { createTokenVerifier } from './auth/tokenVerifier.js';
import { secretKey } from './auth/tokens.js';
import { createUserDirectory } from './auth/userDirectory.js';
import { systemClock, type Clock } from './clock.js';
import type { WardenConfig } from './config.js';
import { createCommitSql, createSql, type Sql } from './db/client.js';
import { migrate } from './db/migrate.js';
import { createProjectsRepository } from './db/projectsRepository.js';
import { createUsersRepository } from './db/usersRepository.js';
import { createHttpServer, type HttpRoute, type WardenHttpServer } from './http/createHttpServer.js';
import { createHealthzRoute, withTimeout } from './http/healthz.js';
import { createMetricsRoute } from './http/metricsRoute.js';
import { createRequestErrorLogger } from './http/requestErrorLog.js';
import { createTrpcHandler } from './http/trpcHandler.js';
import { createLogger, type Logger } from './log.js';
import { createMetrics } from './metrics.js';
import { waitUntilReady } from './redis/client.js';
import { createRedisStores } from './redis/createRedisStores.js';
import { openRedisConnections, type RedisConnections } from './redis/redisConnections.js';
import type { HotStores } from './redis/hotStores.js';
import { createMemoryStores } from './redis/memory/createMemoryStores.js';
import { createJobRuntime, type FinishedJob, type JobRuntime } from './jobs/createJobRuntime.js';
import type { StepHandlers } from './jobs/stepHandlers.js';
import { createAppInspector, type AppInspector, type AppInspectorOptions } from './inspector/appInspector.js';
import type { RiskPlanner } from './risk/planners.js';
import { createRiskRuntime } from './risk/riskRuntime.js';
import { createRegisterService } from './registers/registerService.js';
import { createChatRuntime } from './chat/createChat.js';

/**
 * Shutdown runs in phases, in this order; the steps of one phase run concurrently.
 * - `intake`: stop taking work — the HTTP server stops accepting and ends SSE streams; the job runtime
 *   stops claiming queued jobs.
 * - `drain`: running work settles — in-flight requests finish; running steps reach a transition or are
 *   handed back (their lease lets another process resume them).
 * - `connections`: pools close — hot stores (Redis), then PostgreSQL last, since drain steps write to it.
 */
export type ShutdownPhase = 'intake' | 'drain' | 'connections';

export interface AppOptions {
  clock?: Clock;
  log?: Logger;
  /** PostgreSQL schema (search_path) of every connection; tests own one each. */
  schema?: string;
  /** Pool size; default 10. */
  poolSize?: number;
  /** Apply pending migrations at start (default true; safe under concurrent starts). */
  migrate?: boolean;
  /** Use these hot stores instead of connecting (the caller closes them). */
  stores?: HotStores;
  /** Off: every tRPC request takes the stock adapter (for comparison; default on). */
  fastPath?: boolean;
  /** Extra plain HTTP routes (the inspector adds `/inspector/`). */
  routes?: HttpRoute[];
  /** How long close() lets in-flight requests finish before cutting connections (default 10 s). */
  shutdownGraceMs?: number;
  /** The host's step handlers; default: the demo handlers (WARDEN_STEP_MS, WARDEN_CHECKS_FAIL_RATE). */
  stepHandlers?: StepHandlers;
  /** Called once per job that reaches ready or failed, after its terminal event is published. */
  onJobFinished?: (job: FinishedJob) => void | Promise<void>;
  /** The actor inspector's process name, flush interval and ring sizes (defaults in createInspector.ts). */
  inspector?: AppInspectorOptions;
  /** Risk planners run besides the shipped build-failures planner (src/risk/planners.ts). */
  planners?: readonly RiskPlanner[];
}

/** The running container: what createApp built, and how to start and stop it. */
export interface WardenApp {
  readonly config: WardenConfig;
  readonly services: AppServices;
  readonly sql: Sql;
  readonly stores: HotStores;
  /** The process' shared Redis connections; null on the stand-in (or when the caller gave the stores). */
  readonly redis: RedisConnections | null;
  readonly router: AppRouter;
  readonly http: WardenHttpServer;
  readonly runtime: JobRuntime;
  /** This process's actor inspector: its collector (flush, track) and read service. */
  readonly inspection: AppInspector;
  /** Listens on the given (default: configured) address; port 0 picks a free one. */
  listen(port?: number, host?: string): Promise<{ host: string; port: number; url: string }>;
  /** Registers a shutdown step (the job runtime registers `intake` and `drain` steps). */
  onClose(phase: ShutdownPhase, step: () => Promise<void>): void;
  /** Graceful shutdown, phase by phase; idempotent. */
  close(): Promise<void>;
}

/**
 * Builds Warden from its configuration: PostgreSQL (migrated), the hot stores (Redis when REDIS_URL is
 * set, else the in-process stand-in), repositories, services, and the HTTP server (not yet listening).
 * The embedded PostgreSQL is main.ts's business: here DATABASE_URL must be set.
 */
export async function createApp(config: WardenConfig, options: AppOptions = {}): Promise<WardenApp> {
  if (!config.databaseUrl) throw new Error('createApp needs config.databaseUrl (main.ts starts an embedded PostgreSQL)');
  const clock = options.clock ?? systemClock;
  const log = options.log ?? createLogger({ level: config.logLevel });
  const sql = createSql(config.databaseUrl, {
    ...(options.schema === undefined ? {} : { schema: options.schema }),
    max: options.poolSize ?? 10,
  });
  const steps: Record<ShutdownPhase, (() => Promise<void>)[]> = { intake: [], drain: [], connections: [] };

  try {
    if (options.migrate !== false) {
      const { applied } = await migrate(sql);
      if (applied.length > 0) log.info({ applied }, 'migrations applied');
    }
    const secret = await resolveSecret(config);
    // The one decision about hot state: Redis when REDIS_URL is set (any number of processes share it),
    // else the in-process stand-in. One command and one subscriber connection serve every module.
    const redis = !options.stores && config.redisUrl ? openRedisConnections({ url: config.redisUrl, keyPrefix: config.keyPrefix, log }) : null;
    const closeRedis = async () => redis?.close();
    if (redis) await waitUntilReady(redis.commands).catch(async (err: unknown) => {
      await redis.close();
      throw err;
    });
    const onFeedError = (err: unknown, context: { channel: string }) => log.warn({ err, channel: context.channel }, 'job event feed error');
    const stores =
      options.stores ??
      (redis
        ? createRedisStores({
            redis: redis.commands,
            subscriber: redis.subscriber,
            keys: redis.keys,
            clock,
            onFeedError,
            onControlError: (err) => log.warn({ err }, 'control channel error'),
          })
        : createMemoryStores({ clock, onFeedError }));
    if (!options.stores) steps.connections.push(() => stores.close());

    const metrics = createMetrics({
      onSourceError: (gauge, err) => log.warn({ err, gauge }, 'metrics source failed'),
    });
    // Durable truth, shared by every process: a scrape anywhere reports the whole cluster.
    metrics.setJobsByStatusSource(() => countJobsByStatus(sql));
    metrics.setQueueLengthSource(() => stores.queue.length());

    const usersRepository = createUsersRepository(sql);
    const services: AppServices = {
      config,
      clock,
      log,
      metrics,
      tokens: createTokenVerifier({ key: secretKey(secret), clock }),
      users: createUserDirectory({ repository: usersRepository, clock }),
      usersRepository,
      projects: createProjectsRepository(sql),
      stores,
    };

    // The actor inspector sees every job actor this process opens; rings and the live list are shared
    // over Redis so an admin sees every process.
    const inspection = createAppInspector({ redis, sql, clock, log }, options.inspector);
    services.inspector = inspection.service;
    steps.connections.push(() => inspection.close());

    // Risk signals: the bus (over Redis when shared), the scan pool and monitor, dashboards.
    const risks = await createRiskRuntime({
      sql,
      clock,
      tiers: config.tiers,
      logger: log,
      tokens: stores.tokens,
      ...(redis ? { redis } : {}),
      scanIntervalMs: config.riskScanSeconds * 1000,
      ...(config.riskScanThreads === undefined ? {} : { scanThreads: config.riskScanThreads }),
      factRetentionDays: config.riskFactRetentionDays,
      ...(options.planners ? { planners: options.planners } : {}),
    });
    services.risks = risks;
    steps.connections.push(() => risks.close());

    // Risk registers (SPEC §7): profiles computed from their risks; large portfolios on worker threads.
    const registers = createRegisterService({ sql, clock, logger: log, bus: risks.bus });
    services.registers = registers;
    steps.connections.push(() => registers.close());

    // Chat (SPEC §8): its own small pool for turns, and the retention sweep.
    const chat = createChatRuntime({ config, sql, schema: options.schema, tokens: stores.tokens, clock, log });
    services.chat = chat.service;
    steps.connections.push(() => chat.close());

    const commitSql = createCommitSql(config.databaseUrl, options.schema === undefined ? {} : { schema: options.schema });
    steps.connections.push(() => commitSql.end({ timeout: 5 }));
    const runtime = createJobRuntime({
      sql,
      commitSql,
      stores,
      config,
      clock,
      metrics,
      ...(options.stepHandlers ? { stepHandlers: options.stepHandlers } : {}),
      // The failed-build streak needs no hook: the terminal transition's commit counts it (recordTransitions).
      ...(options.onJobFinished ? { onJobFinished: options.onJobFinished } : {}),
      inspect: inspection.inspector.inspect,
      processId: inspection.inspector.processId,
      onJobHosted: (job) => inspection.inspector.track(job),
      onRunOutcome: (jobId, outcome) => inspection.inspector.untrack(jobId, outcome),
      onError: (err, context) => log.error({ err, ...context }, 'job runtime error'),
      onRebuilt: (summary) => log.info(summary, 'hot state rebuilt from PostgreSQL'),
    });
    services.jobs = runtime.service;
    steps.intake.push(() => runtime.stopTaking());
    steps.drain.push(() => runtime.stop());
    steps.connections.push(closeRedis);

    const trpc = createTrpcHandler({
      router: appRouter,
      createContext: createContextFactory(services),
      fastPath: options.fastPath ?? true,
      onError: createRequestErrorLogger(log),
    });
    const http = createHttpServer({
      trpc,
      log,
      limits: config.http,
      routes: [
        {
          path: '/healthz',
          handle: createHealthzRoute(
            { postgres: withTimeout(() => sql`select 1`, 1_000), redis: () => stores.ping() },
            clock,
          ),
        },
        { path: '/metrics', handle: createMetricsRoute(metrics) },
        inspection.route,
        ...(options.routes ?? []),
      ],
    });
    steps.intake.unshift(() => http.close(options.shutdownGraceMs ?? 10_000));
    steps.connections.push(() => sql.end({ timeout: 5 }));
    // Every process runs the scheduler and takeover sweeps, even with WARDEN_WORKERS=0.
    await inspection.start();
    await runtime.start();

    let closing: Promise<void> | undefined;
    return {
      config,
      services,
      sql,
      stores,
      redis,
      router: appRouter,
      http,
      runtime,
      inspection,
      listen: (port = config.port, host = config.host) => http.listen(port, host),
      onClose(phase, step) {
        // PostgreSQL closes last: connection steps registered later run before it.
        if (phase === 'connections') steps.connections.splice(steps.connections.length - 1, 0, step);
        else steps[phase].push(step);
      },
      close() {
        closing ??= runShutdown(steps, log);
        return closing;
      },
    };
  } catch (err) {
    // A failed start closes what it had opened (Redis connections, worker threads) before PostgreSQL.
    for (const step of steps.connections) await step().catch(() => {});
    await sql.end({ timeout: 1 }).catch(() => {});
    throw err;
  }
}

async function countJobsByStatus(sql: Sql): Promise<Partial<Record<JobStatus, number>>> {
  const rows = await sql<{ status: string; n: number }[]>`select status, count(*)::int as n from jobs group by status`;
  const counts: Partial<Record<JobStatus, number>> = {};
  for (const row of rows) {
    const status = JOB_STATUSES.find((s) => s === row.status);
    if (status) counts[status] = row.n;
  }
  return counts;
}

/** Phases in order; a failing step is logged and does not stop the later ones (pools must still close). */
async function runShutdown(steps: Record<ShutdownPhase, (() => Promise<void>)[]>, log: Logger): Promise<void> {
  for (const phase of ['intake', 'drain', 'connections'] as const) {
    if (phase === 'connections') {
      // Sequential: hot stores first, PostgreSQL (registered last) at the very end.
      for (const step of steps.connections) await step().catch((err: unknown) => log.error({ err, phase }, 'shutdown step failed'));
      continue;
    }
    await Promise.all(steps[phase].map((step) => step().catch((err: unknown) => log.error({ err, phase }, 'shutdown step failed'))));
  }
}
