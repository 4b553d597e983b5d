import { randomUUID } from 'node:crypto';
import { afterAll, describe, expect, it } from 'vitest';
import { createManualClock, utcDate } from '../../src/clock.js';
import { migrate } from '../../src/db/migrate.js';
import { createRiskScanRepository } from '../../src/db/riskScanRepository.js';
import { recordBuildOutcome } from '../../src/db/risksRepository.js';
import { DEFAULT_TIERS } from '../../src/domain/tiers.js';
import { createRedisUsageSource } from '../../src/risk/dailyUsageSource.js';
import { createEventBus, type EventBus } from '../../src/risk/eventBus.js';
import type { RiskEvent } from '../../src/risk/riskEvent.js';
import type { RiskLogger } from '../../src/risk/riskLogger.js';
import { createRiskMonitor, type RiskMonitor, type RiskMonitorOptions, type RiskScanSummary } from '../../src/risk/riskMonitor.js';
import { RISK_TYPE_OF } from '../../src/risk/scanFacts.js';
import { createInlineScanEvaluator, createRiskScanPool } from '../../src/workers/riskScan.pool.js';
import { DAY, projectIdOf, seedRiskScan } from '../fixtures/riskScanSeed.js';
import { useTestDb } from '../helpers/testDb.js';
import { useTestRedis } from '../helpers/testRedis.js';

const USERS = 1_000_000;
const PROJECTS = 100_000;
const NOW = Date.parse('2031-05-10T12:00:00Z');

const db = await useTestDb('risk_scan');
await migrate(db.sql);
const redis = useTestRedis('riskscan');
const clock = createManualClock(NOW);
const errors: string[] = [];
const logger: RiskLogger = { warn: (_o, m) => errors.push(`warn: ${m}`), error: (_o, m) => errors.push(`error: ${m}`) };
const expected = await seedRiskScan({ sql: db.sql, redis: redis.redis, keys: redis.keys, users: USERS, projects: PROJECTS, now: NOW });

const pool = createRiskScanPool({ threads: 2, logger });
await pool.warmUp();
const bus = await createEventBus({ logger });
const events: RiskEvent[] = [];
bus.subscribe({ scope: { kind: 'platform' }, select: () => true, name: 'test' }, (e) => void events.push(e));
afterAll(async () => {
  await pool.close();
  await bus.close();
});

const monitor = (
  options: { evaluator?: typeof pool; sql?: typeof db.sql; bus?: EventBus } & Partial<Pick<RiskMonitorOptions, 'intervalMs' | 'onScan'>> = {},
): RiskMonitor =>
  createRiskMonitor({
    ...(options.intervalMs === undefined ? {} : { intervalMs: options.intervalMs }),
    ...(options.onScan === undefined ? {} : { onScan: options.onScan }),
    repository: createRiskScanRepository(options.sql ?? db.sql),
    usage: createRedisUsageSource({ redis: redis.redis, keys: redis.keys }),
    evaluator: options.evaluator ?? pool,
    bus: options.bus ?? bus,
    tiers: DEFAULT_TIERS,
    clock,
    logger,
  });

/** What a batch of events says, in the seed's terms. */
function described(batch: RiskEvent[]) {
  const usage: string[] = [];
  const projects: string[] = [];
  for (const e of batch) {
    if (e.scope.kind === 'user') usage.push(e.scope.id);
    if (e.scope.kind === 'project') {
      const rule = Object.entries(RISK_TYPE_OF).find(([, type]) => type === e.fact.riskType)?.[0];
      projects.push(`${e.scope.id} ${rule}`);
    }
  }
  return { usage, projects };
}

const drain = () => events.splice(0, events.length);

describe(`scan of ${USERS.toLocaleString('en')} users and ${PROJECTS.toLocaleString('en')} projects`, () => {
  it('emits exactly the expected facts, once each, on the worker pool', async () => {
    const summary = await monitor().scan();
    const batch = drain();
    const severityOf = (userId: string) =>
      batch.find((e) => e.scope.kind === 'user' && e.scope.id === userId)?.fact.severity.toFixed(2);
    expect([severityOf('u1000'), severityOf('u1020'), severityOf('u30'), severityOf('u40')]).toEqual(['0.85', '0.80', '1.00', '0.80']);
    const got = described(batch);
    expect(got.usage.length).toBe(new Set(got.usage).size);
    expect(new Set(got.usage)).toEqual(expected.usage);
    expect(got.projects.length).toBe(new Set(got.projects).size);
    expect(new Set(got.projects)).toEqual(expected.projects);
    expect(summary).toMatchObject({
      projects: PROJECTS,
      failed: 0,
      cleared: expected.clears,
      threads: 2,
      emitted: { total: expected.usage.size + expected.projects.size, high_token_usage: expected.usage.size },
    });
    expect(summary.users).toBe(USERS / 10);
    expect(errors).toEqual([]);
  });

  it('facts carry the scan time, a valid id and the rule as risk type', async () => {
    // A fresh crossing: category 3 had 2 failures; one more makes 3.
    const project = projectIdOf(3);
    await recordBuildOutcome(db.sql, { jobId: randomUUID(), projectId: project, status: 'failed', finishedAt: NOW });
    await monitor().scan();
    const [event] = drain();
    expect(event?.scope).toEqual({ kind: 'project', id: project });
    expect(event?.fact.riskType).toBe('BUILD_FAILURES');
    expect(event?.fact.timestamp).toBe(new Date(NOW).toISOString());
    expect(event?.fact.riskId).toMatch(/^RSK_20310510_120000_[0-9a-f]{8}$/);
  });

  it('emits nothing on a second scan, nor after a restart (state in PostgreSQL), with or without the pool', async () => {
    const again = await monitor().scan();
    expect(again.emitted.total).toBe(0);
    expect(again.cleared).toBe(0);
    const restarted = await monitor({ evaluator: createInlineScanEvaluator() }).scan();
    expect(restarted.emitted.total).toBe(0);
    expect(drain()).toEqual([]);
  });

  it('emits a project rule again only after its condition cleared', async () => {
    const project = projectIdOf(2); // category 2: 3 failures, already emitted
    await recordBuildOutcome(db.sql, { jobId: randomUUID(), projectId: project, status: 'ready', finishedAt: NOW });
    expect((await monitor().scan()).emitted.total).toBe(0);
    for (let j = 0; j < 3; j++) {
      await recordBuildOutcome(db.sql, { jobId: randomUUID(), projectId: project, status: 'failed', finishedAt: NOW });
    }
    await monitor().scan();
    expect(described(drain()).projects).toEqual([`${project} build_failures`]);
    expect((await monitor().scan()).emitted.total).toBe(0);
  });

  it('emits usage once per user per UTC day, exactly once between two processes scanning together', async () => {
    clock.set(NOW + DAY);
    const tomorrow = utcDate(clock.now());
    try {
      const heavy = ['u1', 'u4', 'u7', 'u13'].map((id) => redis.keys.dailyTokens(id, tomorrow)); // bootstrappers
      await redis.redis.mset(...heavy.flatMap((key) => [key, '450000']));
      const other = useSecondProcess();
      const [a, b] = await Promise.all([monitor().scan(), monitor({ sql: other }).scan()]);
      expect(a.emitted.high_token_usage + b.emitted.high_token_usage).toBe(4);
      const got = described(drain());
      expect(got.usage.sort()).toEqual(['u1', 'u13', 'u4', 'u7']);
      // A day later the "just short" projects have crossed too: decisions of category 1, activity of 5 and 7.
      const newlyStale = new Set<string>();
      for (let i = 1; i <= PROJECTS; i++) {
        if (i % 500 === 1) newlyStale.add(`${projectIdOf(i)} stale_decision`);
        if (i % 500 === 5 || i % 500 === 7) newlyStale.add(`${projectIdOf(i)} stale_project`);
      }
      expect(got.projects.length).toBe(newlyStale.size);
      expect(new Set(got.projects)).toEqual(newlyStale);
      expect((await monitor().scan()).emitted.total).toBe(0);
    } finally {
      clock.set(NOW);
    }
  });

  it('scans periodically until stopped, and shares a running scan with an on-demand call', async () => {
    const summaries: RiskScanSummary[] = [];
    let secondScan!: () => void;
    const two = new Promise<void>((resolve) => (secondScan = resolve));
    const periodic = monitor({
      intervalMs: 1,
      onScan: (summary) => {
        summaries.push(summary);
        if (summaries.length === 2) secondScan();
      },
    });
    periodic.start();
    await two;
    await periodic.stop();
    const afterStop = summaries.length;
    const [a, b] = [periodic.scan(), periodic.scan()];
    expect(a).toBe(b);
    await a;
    // Only the on-demand scan ran after stop(): the timer is gone.
    expect(summaries.length).toBe(afterStop + 1);
    expect(summaries.every((s) => s.emitted.total === 0)).toBe(true);
  });
});

function useSecondProcess() {
  // Another pool on the same schema stands in for a second Warden process: separate connections, same rows.
  return db.connect(4);
}
