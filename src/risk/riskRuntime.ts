import type { Clock } from '../clock.js';
import type { Sql, TransactionSql } from '../db/client.js';
import { createDecisionsRepository, type DecisionsRepository } from '../db/decisionsRepository.js';
import { createRiskScanRepository } from '../db/riskScanRepository.js';
import { createRisksRepository, recordBuildOutcome, type BuildOutcome, type BuildOutcomeResult } from '../db/risksRepository.js';
import type { TierTable } from '../domain/tiers.js';
import type { RedisConnections } from '../redis/redisConnections.js';
import type { TokenStore } from '../redis/tokenStore.js';
import { createInlineScanEvaluator, createRiskScanPool, type ScanEvaluator } from '../workers/riskScan.pool.js';
import { createRedisUsageSource, createTokenStoreUsageSource } from './dailyUsageSource.js';
import { createEventBus, type EventBus } from './eventBus.js';
import { createRedisRiskTransport } from './redisRiskTransport.js';
import type { RiskLogger } from './riskLogger.js';
import { createRiskMonitor, type RiskMonitor, type RiskScanSummary } from './riskMonitor.js';
import { createRiskService, type RiskService } from './riskService.js';

/**
 * Everything of the risk module, built once per process and closed at shutdown: the event bus (over
 * Redis when a Redis URL is given, else in-process), the scan pool, the monitor, the per-project service.
 * With Redis it opens two connections of its own (commands; SUBSCRIBE) and closes them.
 */
export interface RiskRuntime {
  service: RiskService;
  monitor: RiskMonitor;
  bus: EventBus;
  decisions: DecisionsRepository;
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
}

export async function createRiskRuntime(options: RiskRuntimeOptions): Promise<RiskRuntime> {
  const { sql, clock, tiers, logger } = options;
  const scanRepository = createRiskScanRepository(sql);
  const decisions = createDecisionsRepository(sql);
  let bus: EventBus;
  if (options.redis) {
    const transport = createRedisRiskTransport({
      publisher: options.redis.commands,
      subscriber: options.redis.subscriber,
      keys: options.redis.keys,
      ownsSubscriber: false,
    });
    bus = await createEventBus({ transport, logger });
  } else {
    bus = await createEventBus({ logger });
  }
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
    recordBuildOutcome: (outcome, tx) => recordBuildOutcome(tx ?? sql, outcome),
    close() {
      closing ??= (async () => {
        await monitor.stop();
        await evaluator.close();
        await bus.close();
      })();
      return closing;
    },
  };
}
