import { performance } from 'node:perf_hooks';
import { utcDate, type Clock } from '../clock.js';
import type { ProjectFlagSwap, RiskScanRepository } from '../db/riskScanRepository.js';
import { PROJECT_RISK_RULES, PROJECT_RULE_BITS, usagePercent, type ProjectRiskRule } from '../domain/riskRules.js';
import type { TierTable } from '../domain/tiers.js';
import type { ScanEvaluator } from '../workers/riskScan.pool.js';
import { ScanBuffer } from '../workers/riskScanBuffers.js';
import type { DailyUsageSource } from './dailyUsageSource.js';
import { evaluateScan } from './evaluateScan.js';
import type { EventBus } from './eventBus.js';
import type { RiskEvent } from './riskEvent.js';
import type { RiskLogger } from './riskLogger.js';
import { fillScanViews, readScanInputs } from './scanInputs.js';
import { projectRiskFact, usageRiskFact } from './scanFacts.js';

/**
 * The risk monitor (SPEC §5 bulk scans): periodically and on demand, reads every user's usage and
 * every project's signals in bulk, evaluates them in chunks on the scan evaluator (a Piscina pool over a
 * SharedArrayBuffer), and publishes each newly crossed risk once as RISK_DETECTED.
 *
 * "Once" is kept in PostgreSQL, so it survives restarts and holds across processes:
 * - usage: `users.usage_risk_emitted_on` — one fact per user per UTC day;
 * - projects: `projects.risk_flags_emitted` — one fact per rule until the condition clears (a scan that
 *   finds it cleared resets the bit; a ready job or a decision resets it at once).
 * Both are written compare-and-set before publishing, so of two processes scanning together exactly one
 * publishes each crossing. A publish that fails is undone, and the next scan tries again.
 */

export interface RiskScanSummary {
  /** The instant the scan judged (ISO). */
  at: string;
  /** Users with token usage today. */
  users: number;
  /** Of those, the users whose budget was read and who were evaluated (see scanInputs.ts). */
  usersEvaluated: number;
  projects: number;
  emitted: Record<'total' | 'high_token_usage' | ProjectRiskRule, number>;
  /** Project conditions found cleared (their mark reset, nothing published). */
  cleared: number;
  /** Facts whose publish failed; retried by the next scan. */
  failed: number;
  threads: number;
  durations: { readMs: number; evaluateMs: number; emitMs: number; totalMs: number };
}

export interface RiskMonitor {
  /** Scans now; a call while a scan runs shares that scan. */
  scan(): Promise<RiskScanSummary>;
  /** Starts the periodic scans (first one after one interval). */
  start(): void;
  /** Stops the periodic scans and waits for a running one. */
  stop(): Promise<void>;
}

export interface RiskMonitorOptions {
  repository: RiskScanRepository;
  usage: DailyUsageSource;
  evaluator: ScanEvaluator;
  bus: EventBus;
  tiers: TierTable;
  clock: Clock;
  logger: RiskLogger;
  /** Between the end of one periodic scan and the start of the next (default 60 s). */
  intervalMs?: number;
  /** Called after each successful scan, periodic or on demand (metrics, logs). */
  onScan?: (summary: RiskScanSummary) => void;
  /** Fewest entries (users + projects) worth a task of their own (default 65,536; see evaluateScan.ts). */
  minPart?: number;
}

/** Rows per compare-and-set statement, and facts published at once. */
const WRITE_BATCH = 10_000;
const PUBLISH_BATCH = 64;

export function createRiskMonitor(options: RiskMonitorOptions): RiskMonitor {
  const { repository, evaluator, bus, clock, logger } = options;
  const intervalMs = options.intervalMs ?? 60_000;
  const buffer = new ScanBuffer();
  let inFlight: Promise<RiskScanSummary> | null = null;
  let timer: NodeJS.Timeout | null = null;
  let running = false;

  const runScan = async (): Promise<RiskScanSummary> => {
    const t0 = performance.now();
    const now = clock.now();
    const date = utcDate(now);
    const inputs = await readScanInputs({ repository, usage: options.usage, tiers: options.tiers, date });
    const nUsers = inputs.users.ids.length;
    const nProjects = inputs.projects.length;
    const { buffer: shared, capacity, views } = buffer.ensure({ users: nUsers, projects: nProjects });
    fillScanViews(inputs, views);
    const t1 = performance.now();

    const { userHits, projectChanges } = await evaluateScan({
      evaluator,
      buffer: shared,
      capacity,
      views,
      users: nUsers,
      projects: nProjects,
      now,
      ...(options.minPart === undefined ? {} : { minPart: options.minPart }),
    });
    const t2 = performance.now();

    const hitIds: string[] = [];
    const percentOf = new Map<string, number>();
    for (const i of userHits) {
      const id = inputs.users.ids[i]!;
      hitIds.push(id);
      percentOf.set(id, usagePercent(views.users.used[i]!, views.users.budget[i]!));
    }
    const swaps: ProjectFlagSwap[] = [];
    for (const i of projectChanges) {
      swaps.push({ projectId: inputs.projects[i]![0], from: views.projects.emitted[i]!, to: views.projects.current[i]! });
    }

    const emitted: RiskScanSummary['emitted'] = {
      total: 0,
      high_token_usage: 0,
      stale_decision: 0,
      build_failures: 0,
      stale_project: 0,
    };
    let failed = 0;
    let cleared = 0;

    // Usage: claim, then publish what this process claimed.
    const claimed: string[] = [];
    for (let i = 0; i < hitIds.length; i += WRITE_BATCH) {
      claimed.push(...(await repository.claimUsageRisks(hitIds.slice(i, i + WRITE_BATCH), date)));
    }
    const usageFailures = (
      await publishAll(claimed.length, (i) => ({
        type: 'RISK_DETECTED',
        scope: { kind: 'user', id: claimed[i]! },
        fact: usageRiskFact(percentOf.get(claimed[i]!) ?? 0, now),
      }))
    ).map((i) => claimed[i]!);
    await repository.releaseUsageRisks(usageFailures, date);
    emitted.high_token_usage = claimed.length - usageFailures.length;
    failed += usageFailures.length;

    // Projects: swap the emitted bits, then publish the bits newly set.
    const applied: ProjectFlagSwap[] = [];
    for (let i = 0; i < swaps.length; i += WRITE_BATCH) {
      applied.push(...(await repository.swapProjectFlags(swaps.slice(i, i + WRITE_BATCH))));
    }
    const raised: { projectId: string; rule: ProjectRiskRule }[] = [];
    for (const swap of applied) {
      cleared += popCount(swap.from & ~swap.to);
      const bits = swap.to & ~swap.from;
      for (const rule of PROJECT_RISK_RULES) {
        if ((bits & PROJECT_RULE_BITS[rule]) !== 0) raised.push({ projectId: swap.projectId, rule });
      }
    }
    const projectFailures = new Set(
      await publishAll(raised.length, (i) => ({
        type: 'RISK_DETECTED',
        scope: { kind: 'project', id: raised[i]!.projectId },
        fact: projectRiskFact(raised[i]!.rule, now),
      })),
    );
    const clears = new Map<string, number>();
    raised.forEach(({ projectId, rule }, i) => {
      if (projectFailures.has(i)) clears.set(projectId, (clears.get(projectId) ?? 0) | PROJECT_RULE_BITS[rule]);
      else emitted[rule] += 1;
    });
    await repository.clearProjectFlags([...clears].map(([projectId, bits]) => ({ projectId, bits })));
    failed += projectFailures.size;
    emitted.total = emitted.high_token_usage + emitted.stale_decision + emitted.build_failures + emitted.stale_project;
    const t3 = performance.now();

    return {
      at: new Date(now).toISOString(),
      users: inputs.usersWithUsage,
      usersEvaluated: nUsers,
      projects: nProjects,
      emitted,
      cleared,
      failed,
      threads: evaluator.threads,
      durations: { readMs: t1 - t0, evaluateMs: t2 - t1, emitMs: t3 - t2, totalMs: t3 - t0 },
    };
  };

  /**
   * Publishes `count` events, made one batch at a time and with a turn of the event loop between batches:
   * a scan that finds thousands of crossings (the first one, a day rollover) must not hold the loop while
   * it builds and validates them all. Returns the indices whose publish failed (each failure logged).
   */
  const publishAll = async (count: number, eventAt: (i: number) => RiskEvent): Promise<number[]> => {
    const failures: number[] = [];
    for (let i = 0; i < count; i += PUBLISH_BATCH) {
      if (i > 0) await new Promise((resolve) => setImmediate(resolve));
      const batch = Array.from({ length: Math.min(PUBLISH_BATCH, count - i) }, (_, j) => eventAt(i + j));
      const results = await Promise.allSettled(batch.map((event) => bus.publish(event)));
      results.forEach((result, j) => {
        if (result.status === 'fulfilled') return;
        failures.push(i + j);
        const event = batch[j]!;
        const err: unknown = result.reason;
        logger.error({ err, scope: event.scope, riskType: event.fact.riskType }, 'risk fact not published; retried next scan');
      });
    }
    return failures;
  };

  const scan = (): Promise<RiskScanSummary> => {
    if (!inFlight) {
      inFlight = runScan()
        .then((summary) => {
          try {
            options.onScan?.(summary);
          } catch (err) {
            logger.warn({ err }, 'risk scan listener failed');
          }
          return summary;
        })
        .finally(() => {
          inFlight = null;
        });
    }
    return inFlight;
  };

  const schedule = () => {
    timer = setTimeout(() => {
      timer = null;
      scan()
        .catch((err: unknown) => logger.error({ err }, 'risk scan failed'))
        .finally(() => {
          if (running) schedule();
        });
    }, intervalMs);
    // The monitor alone does not keep the process alive.
    timer.unref();
  };

  return {
    scan,
    start() {
      if (running) return;
      running = true;
      schedule();
    },
    async stop() {
      running = false;
      if (timer) clearTimeout(timer);
      timer = null;
      await inFlight?.catch(() => {});
    },
  };
}

function popCount(bits: number): number {
  let n = 0;
  for (let b = bits; b !== 0; b &= b - 1) n++;
  return n;
}
