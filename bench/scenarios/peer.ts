/**
 * The peer baseline: BullMQ on the same Redis, in the same run. Trivial jobs, and jobs that report
 * progress 6 times (the closest BullMQ gets to Warden's 7 recorded transitions, though BullMQ writes
 * nothing durable beyond Redis). Auto-pipelining off and concurrency 100, as the issue sets.
 */
import { randomUUID } from 'node:crypto';
import { Queue, Worker, type Job } from 'bullmq';
import { Redis } from 'ioredis';
import { cpuMsPer, sampleCpu } from '../lib/processCpu.js';
import { isMain, runStandalone, type BenchContext, type Metric, type Scenario } from '../lib/scenario.js';

const CONCURRENCY = 100;

interface Batch {
  jobsPerSecond: number;
  /** CPU ms per job: BullMQ's worker (this process) and Redis. */
  cpu: ReturnType<typeof cpuMsPer>;
}

async function runBatch(ctx: BenchContext, jobs: number, progressUpdates: number): Promise<Batch> {
  const prefix = `bench-peer-${randomUUID().slice(0, 8)}`;
  const connection = () => new Redis(ctx.redisUrl, { maxRetriesPerRequest: null, enableAutoPipelining: false });
  // BullMQ never closes a connection it was given: both are ours to disconnect, or the bench never exits.
  const queueConnection = connection();
  const workerConnection = connection();
  const queue = new Queue('peer', { connection: queueConnection, prefix });
  for (let i = 0; i < jobs; i += 1000) {
    const n = Math.min(1000, jobs - i);
    await queue.addBulk(Array.from({ length: n }, (_, k) => ({ name: 'j', data: { i: i + k }, opts: { removeOnComplete: true } })));
  }
  let done = 0;
  let resolveAll!: () => void;
  let rejectAll!: (err: Error) => void;
  const finished = new Promise<void>((res, rej) => {
    resolveAll = res;
    rejectAll = rej;
  });
  const cpuBefore = sampleCpu([process.pid]);
  const started = performance.now();
  const worker = new Worker(
    'peer',
    async (job: Job) => {
      for (let p = 1; p <= progressUpdates; p++) await job.updateProgress(p);
    },
    { connection: workerConnection, prefix, concurrency: CONCURRENCY },
  );
  worker.on('completed', () => {
    done += 1;
    if (done % 1000 === 0) ctx.progress(`bullmq ${progressUpdates} progress: ${done}/${jobs}`);
    if (done === jobs) resolveAll();
  });
  const timeout = setTimeout(() => rejectAll(new Error(`bullmq: only ${done}/${jobs} jobs in 120 s`)), 120_000);
  try {
    await finished;
    const jobsPerSecond = jobs / ((performance.now() - started) / 1000);
    return { jobsPerSecond, cpu: cpuMsPer(cpuBefore, sampleCpu([process.pid]), jobs) };
  } finally {
    clearTimeout(timeout);
    await worker.close();
    await queue.obliterate({ force: true });
    await queue.close();
    queueConnection.disconnect();
    workerConnection.disconnect();
  }
}

export const scenario: Scenario = {
  name: 'peer',
  description: 'BullMQ 5 on the same Redis (concurrency 100, no auto-pipelining): jobs/s',
  async run(ctx) {
    const jobs = Math.max(500, Math.round(20_000 * ctx.scale));
    const trivial = await runBatch(ctx, jobs, 0);
    const withProgress = await runBatch(ctx, jobs, 6);
    const metrics: Metric[] = [
      { name: 'bullmq jobs/s (trivial)', value: trivial.jobsPerSecond, unit: 'jobs/s', better: 'higher' },
      { name: 'bullmq jobs/s (6 progress updates)', value: withProgress.jobsPerSecond, unit: 'jobs/s', better: 'higher' },
      { name: 'CPU/job, BullMQ worker (6 progress)', value: withProgress.cpu.node, unit: 'ms', better: 'lower' },
      { name: 'CPU/job, Redis (6 progress)', value: withProgress.cpu.redis, unit: 'ms', better: 'lower' },
    ];
    return metrics;
  },
};

if (isMain(import.meta.url)) await runStandalone(scenario);
