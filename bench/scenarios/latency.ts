/**
 * Transition latency, accepted → published: from the moment a job's actor accepts an event (the
 * transition's `at`, read from a sub-millisecond clock) to the moment its event is published on Redis —
 * which includes the group commit to PostgreSQL in between. Percentiles from an HDR histogram (µs), with
 * 10, 100 and 1,000 jobs in flight (one runner per job in flight, 0 ms demo steps).
 */
import * as hdr from 'hdr-histogram-js';
import type { Clock } from '../../src/clock.js';
import { openBenchEnv, waitForTerminal, waitForUnfinished } from '../lib/benchEnv.js';
import { isMain, runStandalone, type BenchContext, type Metric, type Scenario } from '../lib/scenario.js';

/** Whole ms (the stores keep integer times) from the monotonic source, so `at` is within ±0.5 ms. */
const preciseClock: Clock = { now: () => Math.round(performance.timeOrigin + performance.now()) };
const preciseNow = () => performance.timeOrigin + performance.now();

async function measure(ctx: BenchContext, inFlight: number): Promise<hdr.Histogram> {
  const env = await openBenchEnv(ctx, `lat${inFlight}`, preciseClock);
  const histogram = hdr.build({ lowestDiscernibleValue: 1, highestTrackableValue: 60_000_000, numberOfSignificantValueDigits: 3 });
  try {
    // Recorded only after a warm-up, as the jobs scenario measures: the first rounds pay for V8
    // compiling the hot paths and each connection preparing its statements. Then 6,000 jobs (36,000
    // transitions, seconds at every level): in a window of a second or two, one full GC pause or stall of
    // the machine, which every transition in flight waits out, was itself the p99.
    const warmup = Math.max(1_000, inFlight * 2);
    const measured = Math.max(200, Math.round(Math.max(6_000, inFlight * 4) * Math.min(1, Math.max(ctx.scale, 0.1))));
    const jobs = warmup + measured;
    // cto_scale: 10 per user, 5 per project, so slots never hold a job back below `inFlight`; and at most
    // 150 jobs per user, within the daily quota (200), or the rest would be scheduled for tomorrow.
    const owners = await env.seedOwners(Math.max(Math.ceil(inFlight / 10) + 1, Math.ceil(jobs / 150)), 'cto_scale', 2);
    const submitter = env.runtime({ workers: 0 });
    ctx.progress(`${inFlight} in flight: submitting ${jobs} jobs`);
    for (let i = 0; i < jobs; i += 200) {
      await Promise.all(
        Array.from({ length: Math.min(200, jobs - i) }, (_, k) => {
          const owner = owners[(i + k) % owners.length];
          if (!owner) throw new Error('no owner');
          return submitter.service.submit(owner, { projectId: owner.projects[(i + k) % owner.projects.length] ?? '', goal: 'latency' });
        }),
      );
    }
    let recording = false;
    const runner = env.runtime({
      workers: inFlight,
      clock: preciseClock,
      onTransitionPublished: (_jobId, t) => {
        // Seq 1 is the submission, published by the submitter: not a runner's transition.
        if (recording && t.seq > 1) histogram.recordValue(Math.max(1, Math.round((preciseNow() - t.at) * 1000)));
      },
    });
    ctx.progress(`${inFlight} in flight: warming up`);
    await runner.start();
    await waitForUnfinished(env.sql, measured, 180_000);
    recording = true;
    ctx.progress(`${inFlight} in flight: measuring`);
    await waitForTerminal(env.sql, 180_000);
    return histogram;
  } finally {
    await env.close();
  }
}

export const latencyScenario: Scenario = {
  name: 'latency',
  description: 'transition latency accepted → published (PostgreSQL group commit, then Redis publish), HDR histogram',
  async run(ctx) {
    const metrics: Metric[] = [];
    // BENCH_LATENCY_LEVELS (e.g. "10,100") to explore one level at a time.
    const levels = (process.env.BENCH_LATENCY_LEVELS ?? '10,100,1000').split(',').map(Number);
    for (const inFlight of levels) {
      const h = await measure(ctx, inFlight);
      const ms = (q: number) => h.getValueAtPercentile(q) / 1000;
      metrics.push(
        { name: `p50 @ ${inFlight} in flight`, value: ms(50), unit: 'ms', better: 'lower' },
        {
          name: `p99 @ ${inFlight} in flight`,
          value: ms(99),
          unit: 'ms',
          better: 'lower',
          ...(inFlight === 100 ? { target: { op: '<=' as const, value: 10 } } : {}),
        },
        { name: `p99.9 @ ${inFlight} in flight`, value: ms(99.9), unit: 'ms', better: 'lower' },
      );
    }
    return metrics;
  },
};

if (isMain(import.meta.url)) await runStandalone(latencyScenario);
