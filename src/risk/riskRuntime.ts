import type { Clock } from '../clock.js';
import type { Sql, TransactionSql } from '../db/client.js';
import { createDecisionsRepository, type DecisionsRepository } from '../db/decisionsRepository.js';
import { createRiskFactsRepository, type RiskFactsRepository } from '../db/riskFactsRepository.js';
import { createRiskScanRepository } from '../db/riskScanRepository.js';
import { createRisksRepository, recordBuildOutcome, type BuildOutcome, type BuildOutcomeResult } from '../db/risksRepository.js';
import type { TierTable } from '../domain/tiers.js';
import { createPeriodic } from '../jobs/periodic.js';
import type { RedisConnections } from '../redis/redisConnections.js';
import type { TokenStore } from '../redis/tokenStore.js';
import { createInlineScanEvaluator, createRiskScanPool, type ScanEvaluator } from '../workers/riskScan.pool.js';
import { createRedisUsageSource, createTokenStoreUsageSource } from './dailyUsageSource.js';
import { createEventBus, type EventBus } from './eventBus.js';
import { createRedisRiskTransport } from './redisRiskTransport.js';
import type { RiskLogger } from './riskLogger.js';
import { createRiskMonitor, type RiskMonitor, type RiskScanSummary } from './riskMonitor.js';
import { buildFailuresPlanner, startPlanners, type RiskPlanner } from './planners.js';
import { createRecordingBus } from './recordingBus.js';
import { createRiskService, type RiskService } from './riskService.js';

const DAY_MS = 86_400_000;
/** How often old facts are purged: retention is counted in days, so an hour late is of no consequence. */
export const RISK_FACT_RETENTION_INTERVAL_MS = 3_600_000;

/**
 * Everything of the risk module, built once per process and closed at shutdown: the event bus (over
 * Redis when a Redis URL is given, else in-process), the scan pool, the monitor, the per-project service,
 * the durable fact log and its retention sweep, and the planners.
 * With Redis it uses the process's shared connections (commands; SUBSCRIBE) and leaves them open.
 *
 * `bus` records every fact published through it in PostgreSQL before publishing it (recordingBus.ts):
 * the monitor, the registers and the planners all publish through it.
 */
export interface RiskRuntime {
  service: RiskService;
  monitor: RiskMonitor;
  bus: EventBus;
  decisions: DecisionsRepository;
  /** The durable fact log: what risks.events resumes from and risks.history pages through. */
  facts: RiskFactsRepository;
  /** Deletes the facts past retention now; returns how many (0 when retention is off). */
  purgeFacts(): Promise<number>;
  /** Call when a job reaches `ready` or `failed` (after its transition is stored; `sql` may be that transaction). */
  recordBuildOutcome(outcome: BuildOutcome, sql?: Sql | TransactionSql): Promise<BuildOutcomeResult>;
  /** Stops the monitor (waiting for a running scan), closes the pool, the bus and the connections. Idempotent. */
  close(): Promise<void>;
}

export interface RiskRuntimeOptions {
  sql: Sql;
  clock: Clock;
  tiers: TierTable;
  logger: RiskLogger;
  /** The hot stores' TokenStore: the dashboard's usage read, and the scan's when there is no Redis. */
  tokens: TokenStore;
  /** With Redis (the process' shared connections): the bus spans processes and the scan reads usage straight from Redis. */
  redis?: Pick<RedisConnections, 'commands' | 'subscriber' | 'keys'>;
  /** Periodic scans; 0 or absent: on demand only. */
  scanIntervalMs?: number;
  /** Scan worker threads; 0 evaluates on the main thread (default: cores, at most 4). */
  scanThreads?: number;
  onScan?: (summary: RiskScanSummary) => void;
  /** Facts older than this many days are purged hourly; 0 or absent keeps them forever. */
  factRetentionDays?: number;
  /** Planners run besides the shipped buildFailuresPlanner (see planners.ts). */
  planners?: readonly RiskPlanner[];
}

export async function createRiskRuntime(options: RiskRuntimeOptions): Promise<RiskRuntime> {
  const { sql, clock, tiers, logger } = options;
  const scanRepository = createRiskScanRepository(sql);
  const decisions = createDecisionsRepository(sql);
  const facts = createRiskFactsRepository(sql);
  let inner: EventBus;
  if (options.redis) {
    const transport = createRedisRiskTransport({
      publisher: options.redis.commands,
      subscriber: options.redis.subscriber,
      keys: options.redis.keys,
      ownsSubscriber: false,
    });
    inner = await createEventBus({ transport, logger });
  } else {
    inner = await createEventBus({ logger });
  }
  const bus = createRecordingBus(inner, facts);
  const stopPlanners = startPlanners({
    bus,
    planners: [buildFailuresPlanner, ...(options.planners ?? [])],
    context: { clock, logger, openDecision: (input) => decisions.openPlannedDecision({ ...input, at: clock.now() }) },
  });
  const retentionDays = options.factRetentionDays ?? 0;
  const purgeFacts = async () => (retentionDays > 0 ? facts.purgeBefore(clock.now() - retentionDays * DAY_MS) : 0);
  const retention = createPeriodic(
    async () => {
      await purgeFacts();
    },
    RISK_FACT_RETENTION_INTERVAL_MS,
    (err) => logger.warn({ err }, 'risk fact retention sweep failed'),
  );
  if (retentionDays > 0) retention.start();
  const usage = options.redis
    ? createRedisUsageSource({ redis: options.redis.commands, keys: options.redis.keys })
    : createTokenStoreUsageSource({ tokens: options.tokens, userIdPages: () => scanRepository.userIdPages() });
  const evaluator: ScanEvaluator =
    options.scanThreads === 0
      ? createInlineScanEvaluator()
      : createRiskScanPool({ logger, ...(options.scanThreads === undefined ? {} : { threads: options.scanThreads }) });
  await evaluator.warmUp();
  const monitor = createRiskMonitor({
    repository: scanRepository,
    usage,
    evaluator,
    bus,
    tiers,
    clock,
    logger,
    ...(options.scanIntervalMs ? { intervalMs: options.scanIntervalMs } : {}),
    ...(options.onScan ? { onScan: options.onScan } : {}),
  });
  if (options.scanIntervalMs) monitor.start();
  const service = createRiskService({
    risks: createRisksRepository(sql),
    decisions,
    usage: options.tokens,
    tiers,
    clock,
    logger,
  });

  let closing: Promise<void> | null = null;
  return {
    service,
    monitor,
    bus,
    decisions,
    facts,
    purgeFacts,
    recordBuildOutcome: (outcome, tx) => recordBuildOutcome(tx ?? sql, outcome),
    close() {
      closing ??= (async () => {
        await monitor.stop();
        await retention.stop();
        stopPlanners();
        await evaluator.close();
        await bus.close();
      })();
      return closing;
    },
  };
}
