/**
 * The machine's floor, measured in the same run as the other scenarios: how long a bare round trip to
 * Redis and to PostgreSQL takes (p50, p99, the worst of 2,000 sequential calls, nothing else running), and
 * how much less work a core does while the other cores are busy (one CPU-bound child process alone, then
 * one per core at once, each timing its own CPU). No Warden code runs: these are what the `latency` and
 * `jobs` scenarios cannot go below on this machine.
 */
import { execFile } from 'node:child_process';
import os from 'node:os';
import { promisify } from 'node:util';
import { Redis } from 'ioredis';
import postgres from 'postgres';
import { quantile } from '../lib/soakStats.js';
import { isMain, msMetric, runStandalone, type BenchContext, type Metric, type Scenario } from '../lib/scenario.js';

const ROUND_TRIPS = 2_000;

/** A loop of small allocations, like a runtime's work, that prints the CPU ms it took. */
const CPU_LOOP = `
  const start = process.cpuUsage();
  const kept = [];
  for (let i = 0; i < 30_000_000; i++) {
    kept.push({ i, s: 'v' + (i & 1023) });
    if (kept.length > 1000) kept.length = 0;
  }
  const used = process.cpuUsage(start);
  process.stdout.write(String((used.user + used.system) / 1000));
`;

async function roundTrips(call: () => Promise<unknown>): Promise<{ p50: number; p99: number; max: number }> {
  for (let i = 0; i < 100; i++) await call();
  const times: number[] = [];
  for (let i = 0; i < ROUND_TRIPS; i++) {
    const started = performance.now();
    await call();
    times.push(performance.now() - started);
  }
  return { p50: quantile(times, 0.5), p99: quantile(times, 0.99), max: quantile(times, 1) };
}

/** CPU ms each of `count` loops took, run at once. */
async function cpuLoops(count: number): Promise<number[]> {
  const run = promisify(execFile);
  const outputs = await Promise.all(Array.from({ length: count }, () => run(process.execPath, ['-e', CPU_LOOP])));
  return outputs.map(({ stdout }) => Number(stdout));
}

export const scenario: Scenario = {
  name: 'floor',
  description: "The machine's floor: bare Redis and PostgreSQL round trips, and how much slower a core works while the others are busy",
  async run(ctx: BenchContext) {
    const redis = new Redis(ctx.redisUrl, { maxRetriesPerRequest: 1 });
    const sql = postgres(ctx.databaseUrl, { max: 1, onnotice: () => {} });
    try {
      ctx.progress('Redis PING round trips');
      const ping = await roundTrips(() => redis.ping());
      ctx.progress('PostgreSQL select 1 round trips');
      const select = await roundTrips(() => sql`select 1`);
      ctx.progress('a CPU-bound loop alone');
      const [alone = Number.NaN] = await cpuLoops(1);
      const cores = os.cpus().length;
      ctx.progress(`${cores} CPU-bound loops at once`);
      const together = await cpuLoops(cores);
      const meanTogether = together.reduce((sum, ms) => sum + ms, 0) / together.length;
      const metrics: Metric[] = [
        msMetric('Redis PING round trip p50', ping.p50),
        msMetric('Redis PING round trip p99', ping.p99),
        msMetric('Redis PING round trip, worst', ping.max),
        msMetric('PostgreSQL select 1 round trip p50', select.p50),
        msMetric('PostgreSQL select 1 round trip p99', select.p99),
        msMetric('PostgreSQL select 1 round trip, worst', select.max),
        msMetric('CPU of a CPU-bound loop, alone', alone),
        msMetric(`CPU of the same loop, ${cores} at once (mean)`, meanTogether),
        { name: 'CPU per unit of work, all cores busy ÷ alone', value: meanTogether / alone, unit: '×', better: 'lower' },
      ];
      return metrics;
    } finally {
      redis.disconnect();
      await sql.end({ timeout: 5 });
    }
  },
};

if (isMain(import.meta.url)) await runStandalone(scenario);
