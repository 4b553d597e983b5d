/**
 * Job throughput to a terminal status (SPEC §12): jobs submitted up front, then worker processes
 * run them with the demo step handlers at 0 ms, so what is measured is the runtime itself — claims and
 * slots in Redis, one actor per job, every transition group-committed to PostgreSQL and then published.
 * Each job makes 6 transitions after its submission (queued → starting → scaffold → code → deps →
 * checks → ready). Measured with 1 and with 2 worker processes on the same Redis and PostgreSQL.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { createInterface } from 'node:readline';
import { openBenchEnv, waitForTerminal, waitForUnfinished, type BenchEnv } from '../lib/benchEnv.js';
import { cpuMsPer, sampleCpu } from '../lib/processCpu.js';
import { quantile } from '../lib/soakStats.js';
import { isMain, runStandalone, type BenchContext, type Metric, type Scenario } from '../lib/scenario.js';

/**
 * Runners per worker process (BENCH_JOB_WORKERS to explore; throughput grows with it, see BENCHMARKS.md).
 * 100, as the peer's BullMQ concurrency: more runners make bigger group commits, fewer statements per job.
 */
const WORKERS_PER_PROCESS = Number(process.env.BENCH_JOB_WORKERS ?? 100);
/**
 * cto_scale users (10 concurrent each, 5 per project) with 4 projects each, every project used: 1,000 user
 * and 2,000 project slots, so slots never hold back 2 processes × 100 runners; the jobs per user stay
 * within the daily admission quota (more would be scheduled for tomorrow and never finish in the run).
 */
const USERS = 100;
const PROJECTS_PER_USER = 4;
const TRANSITIONS_PER_JOB = 6;
/**
 * Jobs run before the measured window opens, so each worker process has compiled its hot paths (V8's JIT)
 * first: without it, each process's start-up was a third of a 3,000-job run, and a second process
 * looked like it added nothing.
 */
const WARMUP_JOBS = 2_000;
/**
 * BENCH_JOBS_REPEATS=3 runs each configuration three times, alternating 1 and 2 processes, and reports
 * each figure's median: on a shared VM one run moves by ±20 %, more than most single changes.
 */
const REPEATS = Math.max(1, Math.floor(Number(process.env.BENCH_JOBS_REPEATS ?? '1')) || 1);

interface Run {
  jobsPerSecond: number;
  transitionsPerSecond: number;
  /** CPU ms per job over the run, by process kind (node = the worker processes). */
  cpu: ReturnType<typeof cpuMsPer>;
  /** PostgreSQL transactions committed per job (group commits plus everything else the runtime reads). */
  commitsPerJob: number;
}

/** Transactions committed in the bench's database so far (PostgreSQL's statistics, flushed within ~1 s). */
async function commitsSoFar(sql: BenchEnv['sql']): Promise<number> {
  await sql`select pg_stat_force_next_flush()`;
  const [row] = await sql<{ n: number }[]>`select xact_commit::float8 as n from pg_stat_database where datname = current_database()`;
  return row?.n ?? 0;
}

async function runOnce(ctx: BenchContext, processes: number, measured: number): Promise<Run> {
  const env = await openBenchEnv(ctx, 'jobs');
  const jobs = WARMUP_JOBS + measured;
  const children: ChildProcess[] = [];
  try {
    const owners = await env.seedOwners(USERS, 'cto_scale', PROJECTS_PER_USER);
    // A runtime without workers: submits exactly as the API does.
    const submitter = env.runtime({ workers: 0 });
    ctx.progress(`${processes} process(es): submitting ${jobs} jobs`);
    for (let i = 0; i < jobs; i += 100) {
      await Promise.all(
        Array.from({ length: Math.min(100, jobs - i) }, (_, k) => {
          const owner = owners[(i + k) % owners.length];
          if (!owner) throw new Error('no owner');
          // Not (i + k) % PROJECTS_PER_USER: USERS is a multiple of it, so each user would use one project only.
          const project = owner.projects[Math.floor((i + k) / USERS) % PROJECTS_PER_USER] ?? '';
          return submitter.service.submit(owner, { projectId: project, goal: `bench ${i + k}` });
        }),
      );
    }
    for (let p = 0; p < processes; p++) children.push(await startWorker(ctx, env.schema, env.prefix));
    ctx.progress(`${processes} process(es): running`);
    const workerPids = children.flatMap((child) => child.pid ?? []);
    const commitsBefore = await commitsSoFar(env.sql);
    for (const child of children) child.stdin?.write('go\n');
    await waitForUnfinished(env.sql, measured, 120_000);
    const cpuBefore = sampleCpu(workerPids);
    const started = performance.now();
    await waitForTerminal(env.sql, 120_000);
    const seconds = (performance.now() - started) / 1000;
    const cpu = cpuMsPer(cpuBefore, sampleCpu(workerPids), measured);
    // Other backends flush their counts when idle, at most once a second: wait for the last ones.
    await new Promise((resolve) => setTimeout(resolve, 1_100));
    const commitsPerJob = ((await commitsSoFar(env.sql)) - commitsBefore) / jobs;
    return { jobsPerSecond: measured / seconds, transitionsPerSecond: (measured * TRANSITIONS_PER_JOB) / seconds, cpu, commitsPerJob };
  } finally {
    for (const child of children) child.kill('SIGTERM');
    await Promise.all(children.filter((child) => child.exitCode === null).map((child) => once(child, 'exit')));
    await env.close();
  }
}

async function startWorker(ctx: BenchContext, schema: string, prefix: string): Promise<ChildProcess> {
  // BENCH_WORKER_NODE_ARGS (e.g. "--cpu-prof --cpu-prof-dir=/tmp/prof") profiles the worker processes.
  const nodeArgs = (process.env.BENCH_WORKER_NODE_ARGS ?? '').split(' ').filter((arg) => arg !== '');
  const child = spawn(process.execPath, [...nodeArgs, '--import', 'tsx', new URL('../lib/jobsWorker.ts', import.meta.url).pathname], {
    env: { ...process.env, DATABASE_URL: ctx.databaseUrl, DB_SCHEMA: schema, REDIS_URL: ctx.redisUrl, KEY_PREFIX: prefix, WORKERS: String(WORKERS_PER_PROCESS) },
    stdio: ['pipe', 'pipe', 'inherit'],
  });
  for await (const line of createInterface({ input: child.stdout as NodeJS.ReadableStream })) {
    if (line === 'ready') return child;
  }
  throw new Error('bench worker exited before it was ready');
}

/** Each figure's median over the runs (each on its own, so the result need not be one of the runs). */
function medianRun(runs: readonly Run[]): Run {
  const median = (pick: (run: Run) => number) => quantile(runs.map(pick), 0.5);
  return {
    jobsPerSecond: median((r) => r.jobsPerSecond),
    transitionsPerSecond: median((r) => r.transitionsPerSecond),
    cpu: {
      node: median((r) => r.cpu.node),
      postgres: median((r) => r.cpu.postgres),
      redis: median((r) => r.cpu.redis),
      total: median((r) => r.cpu.total),
    },
    commitsPerJob: median((r) => r.commitsPerJob),
  };
}

/** CPU per job by process kind; the total is the issue's "Warden CPU per job" (target ≤ 0.4 ms). */
function cpuMetrics(run: Run, label: string): Metric[] {
  return [
    { name: `CPU/job, Warden node (${label})`, value: run.cpu.node, unit: 'ms', better: 'lower' },
    { name: `CPU/job, PostgreSQL (${label})`, value: run.cpu.postgres, unit: 'ms', better: 'lower' },
    { name: `CPU/job, Redis (${label})`, value: run.cpu.redis, unit: 'ms', better: 'lower' },
    { name: `CPU/job, total (${label})`, value: run.cpu.total, unit: 'ms', better: 'lower', target: { op: '<=', value: 0.4 } },
    { name: `PostgreSQL commits/job (${label})`, value: run.commitsPerJob, unit: 'commits', better: 'lower' },
  ];
}

export const scenario: Scenario = {
  name: 'jobs',
  description: `Job runtime: jobs/s, transitions/s and CPU per job to terminal after a warm-up (demo handlers at 0 ms, ${WORKERS_PER_PROCESS} runners per process, real Redis + PostgreSQL${REPEATS > 1 ? `; medians of ${REPEATS} runs` : ''})`,
  async run(ctx) {
    // 9,000 measured after WARMUP_JOBS; with the warm-up, 110 jobs per user stay within the daily quota.
    const jobs = Math.max(200, Math.round(9_000 * ctx.scale));
    const ones: Run[] = [];
    const twos: Run[] = [];
    for (let r = 0; r < REPEATS; r++) {
      ones.push(await runOnce(ctx, 1, jobs));
      twos.push(await runOnce(ctx, 2, jobs));
    }
    const one = medianRun(ones);
    const two = medianRun(twos);
    const metrics: Metric[] = [
      { name: 'jobs/s to terminal (1 process)', value: one.jobsPerSecond, unit: 'jobs/s', better: 'higher' },
      { name: 'transitions/s (1 process)', value: one.transitionsPerSecond, unit: 'transitions/s', better: 'higher' },
      ...cpuMetrics(one, '1 process'),
      { name: 'jobs/s to terminal (2 processes)', value: two.jobsPerSecond, unit: 'jobs/s', better: 'higher' },
      { name: 'transitions/s (2 processes)', value: two.transitionsPerSecond, unit: 'transitions/s', better: 'higher' },
      ...cpuMetrics(two, '2 processes'),
    ];
    return metrics;
  },
};

if (isMain(import.meta.url)) await runStandalone(scenario);
