/**
 * Bench scenario `scan`: the risk monitor over 1,000,000 users and 100,000 projects in real Redis and
 * PostgreSQL (SPEC §12). Measures, with the Piscina pool and with evaluation on the main thread:
 * - the whole scan, end to end (steady state: nothing new to emit), and its read / evaluate parts;
 * - the event-loop delay (monitorEventLoopDelay, 1 ms resolution) while scans run, and idle for reference;
 * - the evaluation alone, repeated on the scan's real buffer, and on a full-size buffer (every user), on
 *   the pool, on a one-thread pool (message cost without threads competing for cores), and inline.
 * The first scan, which publishes every seeded crossing, is reported separately.
 *
 * Runs alone: `npx tsx bench/scenarios/scan.ts` (DATABASE_URL, REDIS_URL, BENCH_SCALE as in bench/lib), or in
 * `npm run bench -- scan`. It creates its own schema and key prefix and removes them afterwards.
 */
import { randomUUID } from 'node:crypto';
import { availableParallelism } from 'node:os';
import { monitorEventLoopDelay, performance } from 'node:perf_hooks';
import postgres from 'postgres';
import { createManualClock, utcDate } from '../../src/clock.js';
import { createSql } from '../../src/db/client.js';
import { migrate } from '../../src/db/migrate.js';
import { createRiskScanRepository } from '../../src/db/riskScanRepository.js';
import { DEFAULT_TIERS } from '../../src/domain/tiers.js';
import { createRedis } from '../../src/redis/client.js';
import { createKeys } from '../../src/redis/keys.js';
import { deleteByPrefix } from '../../src/redis/deleteByPrefix.js';
import { createRedisUsageSource } from '../../src/risk/dailyUsageSource.js';
import { evaluateScan } from '../../src/risk/evaluateScan.js';
import { createEventBus } from '../../src/risk/eventBus.js';
import { silentRiskLogger } from '../../src/risk/riskLogger.js';
import { createRiskMonitor, type RiskScanSummary } from '../../src/risk/riskMonitor.js';
import { fillScanViews, readScanInputs } from '../../src/risk/scanInputs.js';
import { createInlineScanEvaluator, createRiskScanPool, type ScanEvaluator } from '../../src/workers/riskScan.pool.js';
import { ScanBuffer, type ScanViews } from '../../src/workers/riskScanBuffers.js';
import { seedRiskScan } from '../../test/fixtures/riskScanSeed.js';
import { isMain, runStandalone, type BenchContext, type Metric, type Scenario, msMetric } from '../lib/scenario.js';

/** Measured numbers by name; turned into the harness's metrics (units, targets) by `toMetrics`. */
type Numbers = Record<string, number>;

const NOW = Date.parse('2031-05-10T12:00:00Z');
const REPEATS = 5;
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? Number.NaN;
const round = (x: number) => Math.round(x * 100) / 100;

async function measure(ctx: BenchContext): Promise<Numbers> {
  const { databaseUrl, redisUrl } = ctx;
  const users = Math.max(1000, Math.round(1_000_000 * ctx.scale));
  const projects = Math.max(500, Math.round(100_000 * ctx.scale));
  const threads = Math.min(4, availableParallelism());
  const repeats = REPEATS;
  const log = (line: string) => ctx.progress(line);
  const schema = `bench_scan_${randomUUID().slice(0, 8)}`;
  const prefix = `bench:scan:${randomUUID().slice(0, 8)}:`;
  const admin = postgres(databaseUrl, { max: 1, onnotice: () => {} });
  await admin`create schema ${admin(schema)}`;
  const sql = createSql(databaseUrl, { schema, max: 10 });
  const redis = createRedis(redisUrl);
  const keys = createKeys(prefix);
  const pool = createRiskScanPool({ threads, logger: silentRiskLogger });
  const inline = createInlineScanEvaluator();
  // One worker: the message cost alone, without threads competing for cores.
  const single = createRiskScanPool({ threads: 1, logger: silentRiskLogger });
  const result: Numbers = { users, projects, threads };
  try {
    await migrate(sql);
    let t = performance.now();
    await seedRiskScan({ sql, redis, keys, users, projects, now: NOW });
    result.seedMs = round(performance.now() - t);
    log(`seeded ${users} users and ${projects} projects in ${result.seedMs} ms`);
    await pool.warmUp();
    await single.warmUp();

    const clock = createManualClock(NOW);
    const bus = await createEventBus({ logger: silentRiskLogger });
    const repository = createRiskScanRepository(sql);
    const usage = createRedisUsageSource({ redis, keys });
    const monitorOn = (evaluator: ScanEvaluator) =>
      createRiskMonitor({ repository, usage, evaluator, bus, tiers: DEFAULT_TIERS, clock, logger: silentRiskLogger });

    // The noise floor: the same measurement with the loop idle (other processes share the cores).
    const idle = monitorEventLoopDelay({ resolution: 1 });
    idle.enable();
    await new Promise((resolve) => setTimeout(resolve, 1000));
    idle.disable();
    result.idleLagP99Ms = round(idle.percentile(99) / 1e6);

    const firstLag = monitorEventLoopDelay({ resolution: 1 });
    firstLag.enable();
    const first = await monitorOn(pool).scan();
    firstLag.disable();
    result.firstScanLagP99Ms = round(firstLag.percentile(99) / 1e6);
    result.firstScanMs = round(first.durations.totalMs);
    result.firstScanEmitted = first.emitted.total;
    result.usersWithUsage = first.users;
    result.usersEvaluated = first.usersEvaluated;
    log(`first scan: ${first.emitted.total} facts emitted in ${result.firstScanMs} ms`);

    // Steady state, each mode: whole scans with the event-loop delay recorded while they run.
    for (const [mode, evaluator] of [['pool', pool], ['inline', inline]] as const) {
      const monitor = monitorOn(evaluator);
      await monitor.scan(); // warm (JIT, buffer)
      const summaries: RiskScanSummary[] = [];
      const lag = monitorEventLoopDelay({ resolution: 1 });
      lag.enable();
      for (let i = 0; i < repeats; i++) summaries.push(await monitor.scan());
      lag.disable();
      result[`${mode}ScanMs`] = round(median(summaries.map((s) => s.durations.totalMs)));
      result[`${mode}ReadMs`] = round(median(summaries.map((s) => s.durations.readMs)));
      result[`${mode}EvaluateMs`] = round(median(summaries.map((s) => s.durations.evaluateMs)));
      result[`${mode}LagP99Ms`] = round(lag.percentile(99) / 1e6);
      result[`${mode}LagMaxMs`] = round(lag.max / 1e6);
      log(`${mode}: scan ${result[`${mode}ScanMs`]} ms, lag p99 ${result[`${mode}LagP99Ms`]} ms`);
    }

    // The evaluation alone, on the scan's own inputs, then on a buffer holding every user.
    const inputs = await readScanInputs({ repository, usage, tiers: DEFAULT_TIERS, date: utcDate(NOW) });
    const real = new ScanBuffer().ensure({ users: inputs.users.ids.length, projects: inputs.projects.length });
    fillScanViews(inputs, real.views);
    const full = new ScanBuffer().ensure({ users, projects });
    fillSynthetic(full.views, users, projects);
    for (const [label, buf, nUsers, nProjects] of [
      ['eval', real, inputs.users.ids.length, inputs.projects.length],
      ['evalAllUsers', full, users, projects],
    ] as const) {
      // Warm both (each worker thread JITs the rules on its own), then alternate so load drift hits both alike.
      const times: Record<'Pool' | 'Pool1' | 'Inline', number[]> = { Pool: [], Pool1: [], Inline: [] };
      for (let i = 0; i < 60; i++) {
        for (const [mode, evaluator] of [['Pool', pool], ['Pool1', single], ['Inline', inline]] as const) {
          t = performance.now();
          await evaluateScan({ evaluator, ...buf, users: nUsers, projects: nProjects, now: NOW });
          if (i >= 10) times[mode].push(performance.now() - t);
        }
      }
      result[`${label}PoolMs`] = round(median(times.Pool));
      result[`${label}Pool1Ms`] = round(median(times.Pool1));
      result[`${label}InlineMs`] = round(median(times.Inline));
      result[`${label}Speedup`] = round(result[`${label}InlineMs`]! / result[`${label}PoolMs`]!);
    }
    await bus.close();
    return result;
  } finally {
    await pool.close();
    await single.close();
    await sql.end({ timeout: 5 });
    await admin`drop schema if exists ${admin(schema)} cascade`;
    await admin.end({ timeout: 5 });
    await deleteByPrefix(redis, prefix);
    redis.disconnect();
  }
}

/** Every user with usage (a fifth over the threshold), projects of every kind: the worst case for evaluation. */
function fillSynthetic(views: ScanViews, users: number, projects: number) {
  for (let i = 0; i < users; i++) {
    views.users.budget[i] = i % 3 === 2 ? -1 : 500_000;
    views.users.used[i] = (i * 7919) % 600_000;
    views.users.emitted[i] = 0;
  }
  for (let i = 0; i < projects; i++) {
    views.projects.decisionAt[i] = i % 2 === 0 ? Number.NaN : NOW - (i % 20) * 86_400_000;
    views.projects.activityAt[i] = NOW - (i % 30) * 86_400_000;
    views.projects.failures[i] = i % 6;
    views.projects.emitted[i] = 0;
  }
}


function toMetrics(n: Numbers): Metric[] {
  return [
    { name: 'users', value: n.users ?? Number.NaN, unit: 'users' },
    { name: 'projects', value: n.projects ?? Number.NaN, unit: 'projects' },
    { name: 'users with token usage today', value: n.usersWithUsage ?? Number.NaN, unit: 'users' },
    { name: 'users whose budget was read and evaluated', value: n.usersEvaluated ?? Number.NaN, unit: 'users' },
    msMetric('whole scan, pool (steady state)', n.poolScanMs, { op: '<=', value: 1500, label: 'scan target' }),
    msMetric('  read part, pool', n.poolReadMs),
    msMetric('  evaluate part, pool', n.poolEvaluateMs),
    msMetric('whole scan, no pool (steady state)', n.inlineScanMs),
    msMetric('first scan (emits every seeded crossing)', n.firstScanMs),
    { name: 'facts emitted by the first scan', value: n.firstScanEmitted ?? Number.NaN, unit: 'facts' },
    msMetric('event-loop lag p99 during the first scan', n.firstScanLagP99Ms),
    msMetric('event-loop lag p99 during scans, pool', n.poolLagP99Ms, { op: '<=', value: 20, label: 'scan target' }),
    msMetric('event-loop lag max during scans, pool', n.poolLagMaxMs),
    msMetric('event-loop lag p99 during scans, no pool', n.inlineLagP99Ms),
    msMetric('event-loop lag p99, idle (noise floor)', n.idleLagP99Ms),
    msMetric('evaluation alone, pool', n.evalPoolMs),
    msMetric('evaluation alone, 1-thread pool', n.evalPool1Ms),
    msMetric('evaluation alone, no pool', n.evalInlineMs),
    { name: 'evaluation speedup, pool vs one thread', value: n.evalSpeedup ?? Number.NaN, unit: '×', better: 'higher', target: { op: '>=', value: 1.5, label: 'scan target' } },
    msMetric('evaluation alone, every user, pool', n.evalAllUsersPoolMs),
    msMetric('evaluation alone, every user, no pool', n.evalAllUsersInlineMs),
    { name: 'evaluation speedup, every user', value: n.evalAllUsersSpeedup ?? Number.NaN, unit: '×', better: 'higher' },
    msMetric('seed (not part of the scan)', n.seedMs),
  ];
}

export const scanScenario: Scenario = {
  name: 'scan',
  description: 'Risk monitor over 1,000,000 users and 100,000 projects: whole scan, evaluation with and without the Piscina pool, event-loop lag',
  run: async (ctx) => toMetrics(await measure(ctx)),
};

if (isMain(import.meta.url)) await runStandalone(scanScenario);
