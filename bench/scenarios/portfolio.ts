/**
 * Bench scenario `portfolio`: registers.portfolio over 10,000 registers × 12 risks of one owner in real
 * PostgreSQL. Measures the whole call (read + count + details of the top 20), with the
 * counting on the Piscina pool (what the server does above 5,000 risks) and on the main thread, and the
 * event-loop delay (monitorEventLoopDelay, 1 ms resolution) while calls run, with idle for reference.
 *
 * Runs alone: `npx tsx bench/scenarios/portfolio.ts` (DATABASE_URL, BENCH_SCALE as in bench/lib), or in
 * `npm run bench -- portfolio`. It creates its own schema and drops it afterwards.
 */
import { randomUUID } from 'node:crypto';
import { monitorEventLoopDelay, performance } from 'node:perf_hooks';
import postgres from 'postgres';
import { createManualClock } from '../../src/clock.js';
import { createSql } from '../../src/db/client.js';
import { migrate } from '../../src/db/migrate.js';
import { createRegisterService, type RegisterService } from '../../src/registers/registerService.js';
import { silentRiskLogger } from '../../src/risk/riskLogger.js';
import { seedRegisterPortfolio } from '../../test/fixtures/registerPortfolioSeed.js';
import { isMain, runStandalone, type BenchContext, type Metric, type Scenario, msMetric } from '../lib/scenario.js';

type Numbers = Record<string, number>;

const NOW = Date.parse('2031-05-10T12:00:00Z');
const RUNS = 15;
const PER_REGISTER = 12;
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? Number.NaN;
const round = (x: number) => Math.round(x * 100) / 100;

async function measure(ctx: BenchContext): Promise<Numbers> {
  const registers = Math.max(500, Math.round(10_000 * ctx.scale));
  const schema = `bench_portfolio_${randomUUID().slice(0, 8)}`;
  const admin = postgres(ctx.databaseUrl, { max: 1, onnotice: () => {} });
  await admin`create schema ${admin(schema)}`;
  const sql = createSql(ctx.databaseUrl, { schema, max: 10 });
  const clock = createManualClock(NOW);
  const services: RegisterService[] = [];
  const result: Numbers = { registers, risks: registers * PER_REGISTER };
  try {
    await migrate(sql);
    let t = performance.now();
    await seedRegisterPortfolio(sql, { ownerId: 'bench', registers, risksPerRegister: PER_REGISTER, now: NOW });
    await sql`analyze`;
    result.seedMs = round(performance.now() - t);
    ctx.progress(`seeded ${registers} registers × ${PER_REGISTER} risks in ${result.seedMs} ms`);

    const idle = monitorEventLoopDelay({ resolution: 1 });
    idle.enable();
    await new Promise((resolve) => setTimeout(resolve, 1000));
    idle.disable();
    result.idleLagP99Ms = round(idle.percentile(99) / 1e6);

    for (const [mode, threshold] of [['pool', undefined], ['thread', Number.POSITIVE_INFINITY]] as const) {
      const service = createRegisterService({
        sql,
        clock,
        logger: silentRiskLogger,
        ...(threshold === undefined ? {} : { portfolioPoolThreshold: threshold }),
      });
      services.push(service);
      t = performance.now();
      const first = await service.portfolio('bench');
      result[`${mode}FirstMs`] = round(performance.now() - t);
      if (first.computedOn !== mode) throw new Error(`expected the portfolio on the ${mode}, got ${first.computedOn}`);
      const times: number[] = [];
      const lag = monitorEventLoopDelay({ resolution: 1 });
      lag.enable();
      for (let i = 0; i < RUNS; i++) {
        t = performance.now();
        await service.portfolio('bench');
        times.push(performance.now() - t);
      }
      lag.disable();
      result[`${mode}Ms`] = round(median(times));
      result[`${mode}MaxMs`] = round(Math.max(...times));
      result[`${mode}LagP99Ms`] = round(lag.percentile(99) / 1e6);
      result[`${mode}LagMaxMs`] = round(lag.max / 1e6);
      ctx.progress(`${mode}: ${result[`${mode}Ms`]} ms median, lag p99 ${result[`${mode}LagP99Ms`]} ms`);
    }
    return result;
  } finally {
    for (const service of services) await service.close();
    await sql.end({ timeout: 5 });
    await admin`drop schema if exists ${admin(schema)} cascade`;
    await admin.end({ timeout: 5 });
  }
}


function toMetrics(n: Numbers): Metric[] {
  return [
    { name: 'registers', value: n.registers ?? Number.NaN, unit: 'registers' },
    { name: 'risks', value: n.risks ?? Number.NaN, unit: 'risks' },
    msMetric('portfolio, pool (median)', n.poolMs, { op: '<=', value: 1000, label: 'portfolio target' }),
    msMetric('portfolio, pool (slowest)', n.poolMaxMs),
    msMetric('portfolio, pool, first call (threads start)', n.poolFirstMs),
    msMetric('portfolio, main thread (median)', n.threadMs),
    msMetric('event-loop lag p99 during portfolio, pool', n.poolLagP99Ms, { op: '<=', value: 20, label: 'portfolio target' }),
    msMetric('event-loop lag max during portfolio, pool', n.poolLagMaxMs),
    msMetric('event-loop lag p99 during portfolio, main thread', n.threadLagP99Ms),
    msMetric('event-loop lag p99, idle (noise floor)', n.idleLagP99Ms),
    msMetric('seed (not part of the measurement)', n.seedMs),
  ];
}

export const portfolioScenario: Scenario = {
  name: 'portfolio',
  description: 'registers.portfolio over 10,000 registers × 12 risks: time, with the count on the pool and on the main thread, event-loop lag',
  run: async (ctx) => toMetrics(await measure(ctx)),
};

if (isMain(import.meta.url)) await runStandalone(portfolioScenario);
