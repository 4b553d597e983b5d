/**
 * `npm run soak -- --minutes N`: one Warden server (its own process, real Redis and PostgreSQL at
 * REDIS_URL / DATABASE_URL, its own schema and key prefix, both removed after) under steady load from
 * the typed client — submits at a fixed rate, gets, lists, usage reads, SSE follows of recent jobs —
 * for N minutes. The server samples its memory every few seconds (after a full GC); the report gives
 * RSS and heap growth per hour (least squares over the samples after warm-up) and latency percentiles
 * per call, prints a summary and writes JSON to bench/results/. Bounded: it exits by itself.
 */
import { fork } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import postgres from 'postgres';
import { createWardenClient, type WardenClient } from '../src/client.js';
import { createRedis } from '../src/redis/client.js';
import { deleteByPrefix } from '../src/redis/deleteByPrefix.js';
import { describeMachine } from './lib/machine.js';
import type { SoakSample } from './lib/soakServer.js';
import { bytesPerHour, quantile } from './lib/soakStats.js';

const { values } = parseArgs({
  options: {
    minutes: { type: 'string', default: '10' },
    users: { type: 'string', default: '20' },
    'submits-per-second': { type: 'string', default: '4' },
    readers: { type: 'string', default: '8' },
    // Heap snapshots of the server after warm-up and at the end, to diff in Chrome DevTools.
    'heap-snapshots': { type: 'boolean', default: false },
  },
});
const minutes = Number(values.minutes);
const users = Number(values.users);
const submitsPerSecond = Number(values['submits-per-second']);
const readers = Number(values.readers);
if (!(minutes > 0 && minutes <= 24 * 60) || !(users > 0) || !(submitsPerSecond > 0) || !(readers > 0)) {
  console.error('usage: npm run soak -- --minutes N (0 < N ≤ 1440) [--users 20] [--submits-per-second 4] [--readers 8]');
  process.exit(2);
}

const SAMPLE_MS = 5_000;
/** Samples before this are start-up (JIT, pools, caches filling) and left out of the slope. */
const warmUpMs = Math.min(60_000, (minutes * 60_000) / 4);
const redisUrl = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
const databaseUrl = process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
const schema = `soak_${randomUUID().slice(0, 8)}`;
const prefix = `soak-${randomUUID().slice(0, 8)}:`;

const latencies = new Map<string, number[]>();
const failures = new Map<string, number>();
async function timed<T>(name: string, call: () => Promise<T>): Promise<T | undefined> {
  const t0 = performance.now();
  try {
    const result = await call();
    let list = latencies.get(name);
    if (!list) latencies.set(name, (list = []));
    list.push(performance.now() - t0);
    return result;
  } catch {
    failures.set(name, (failures.get(name) ?? 0) + 1);
    return undefined;
  }
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const pick = <T>(list: readonly T[]): T => list[Math.floor(Math.random() * list.length)] as T;

interface Driver {
  client: WardenClient;
  projectId: string;
  jobs: string[];
}

/** Follows one job's events until it ends or 15 s pass: SSE streams opened and closed all along. */
function follow(driver: Driver, jobId: string): Promise<void> {
  const t0 = performance.now();
  return new Promise((resolve) => {
    let settled = false;
    const done = (name: string, ok: boolean) => {
      if (settled) return;
      settled = true;
      sub.unsubscribe();
      clearTimeout(timer);
      if (ok) {
        let list = latencies.get(name);
        if (!list) latencies.set(name, (list = []));
        list.push(performance.now() - t0);
      } else failures.set(name, (failures.get(name) ?? 0) + 1);
      resolve();
    };
    const sub = driver.client.jobs.events.subscribe(
      { jobId },
      { onComplete: () => done('jobs.events (to terminal)', true), onError: () => done('jobs.events (to terminal)', false) },
    );
    const timer = setTimeout(() => done('jobs.events (cut at 15 s)', true), 15_000);
  });
}

async function main(): Promise<void> {
  const machine = await describeMachine(redisUrl, databaseUrl);
  const admin = postgres(databaseUrl, { max: 1, onnotice: () => {} });
  await admin`create schema ${admin(schema)}`;
  const child = fork(new URL('./lib/soakServer.ts', import.meta.url), [], {
    execArgv: ['--import', 'tsx'],
    env: {
      ...process.env,
      DATABASE_URL: databaseUrl,
      REDIS_URL: redisUrl,
      SOAK_SCHEMA: schema,
      SOAK_KEY_PREFIX: prefix,
      SOAK_USERS: String(users),
      SOAK_SAMPLE_MS: String(SAMPLE_MS),
    },
  });
  const samples: SoakSample[] = [];
  const ready = new Promise<{ url: string; tokens: string[]; gc: boolean }>((resolve, reject) => {
    child.on('message', (message: { ready?: true; url: string; tokens: string[]; gc: boolean; sample?: SoakSample; snapshotWritten?: string }) => {
      if (message.sample) samples.push(message.sample);
      else if (message.snapshotWritten) console.log(`heap snapshot: ${message.snapshotWritten}`);
      else if (message.ready) resolve(message);
    });
    child.once('exit', (code) => reject(new Error(`soak server exited (code ${code})`)));
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));

  try {
    const server = await ready;
    console.log(`Soak: ${minutes} min against ${server.url} (server pid ${child.pid}, gc before samples: ${server.gc})`);
    const drivers: Driver[] = [];
    for (const token of server.tokens) {
      const client = createWardenClient({ url: server.url, token });
      const { projectId } = await client.projects.create.mutate({ name: 'soak' });
      drivers.push({ client, projectId, jobs: [] });
    }
    const startedAt = Date.now();
    const deadline = startedAt + minutes * 60_000;
    const running = () => Date.now() < deadline;

    const submitter = async () => {
      for (let n = 0; running(); n++) {
        const next = startedAt + (n * 1000) / submitsPerSecond;
        if (next > Date.now()) await sleep(next - Date.now());
        const driver = pick(drivers);
        const job = await timed('jobs.submit', () => driver.client.jobs.submit.mutate({ projectId: driver.projectId, goal: `soak job ${n}` }));
        if (job) {
          driver.jobs.push(job.jobId);
          // Only recent jobs are read again: the list of ids must not be the leak being measured.
          if (driver.jobs.length > 50) driver.jobs.shift();
        }
      }
    };
    const reader = async () => {
      while (running()) {
        const driver = pick(drivers);
        const r = Math.random();
        const jobId = driver.jobs.at(-1);
        if (r < 0.35 && jobId) await timed('jobs.get', () => driver.client.jobs.get.query({ jobId }));
        else if (r < 0.6) await timed('jobs.list', () => driver.client.jobs.list.query({ limit: 20 }));
        else if (r < 0.85) await timed('usage.get', () => driver.client.usage.get.query());
        else await timed('projects.list', () => driver.client.projects.list.query({ limit: 10 }));
        await sleep(20);
      }
    };
    const follower = async () => {
      while (running()) {
        const driver = pick(drivers);
        const jobId = driver.jobs.at(-1);
        if (jobId) await follow(driver, jobId);
        await sleep(500);
      }
    };
    const snapshot = (label: string) => {
      if (!values['heap-snapshots'] || !child.connected) return;
      const dir = new URL('./results/', import.meta.url);
      mkdirSync(dir, { recursive: true });
      child.send({ snapshot: fileURLToPath(new URL(`soak-${new Date(startedAt).toISOString().replace(/[:.]/g, '-')}-${label}.heapsnapshot`, dir)) });
    };
    const warmedUp = setTimeout(() => snapshot('warm'), warmUpMs);
    const progress = setInterval(() => {
      const last = samples.at(-1);
      const calls = [...latencies.values()].reduce((n, l) => n + l.length, 0);
      const left = Math.max(0, Math.round((deadline - Date.now()) / 1000));
      process.stderr.write(`[soak] ${left}s left, ${calls} calls, rss ${last ? (last.rss / 2 ** 20).toFixed(0) : '?'} MiB, heap ${last ? (last.heapUsed / 2 ** 20).toFixed(0) : '?'} MiB\n`);
    }, 30_000);
    await Promise.all([submitter(), ...Array.from({ length: readers }, reader), follower(), follower()]);
    clearInterval(progress);
    clearTimeout(warmedUp);
    snapshot('end');
    const seconds = (Date.now() - startedAt) / 1000;

    const fromMs = startedAt + warmUpMs;
    const mib = 2 ** 20;
    const after = samples.filter((s) => s.atMs >= fromMs);
    const calls = Object.fromEntries(
      [...latencies.entries()].sort().map(([name, list]) => [
        name,
        { count: list.length, failures: failures.get(name) ?? 0, p50Ms: quantile(list, 0.5), p99Ms: quantile(list, 0.99), maxMs: Math.max(...list) },
      ]),
    );
    const allRequests = [...latencies.entries()].filter(([name]) => !name.startsWith('jobs.events')).flatMap(([, l]) => l);
    const report = {
      date: new Date(startedAt).toISOString(),
      command: `npm run soak -- ${process.argv.slice(2).join(' ')}`.trim(),
      machine,
      settings: { minutes, users, submitsPerSecond, readers, followers: 2, sampleMs: SAMPLE_MS, warmUpMs, serverWorkers: 4, stepMs: 20 },
      seconds,
      requestsPerSecond: allRequests.length / seconds,
      failures: Object.fromEntries(failures),
      memory: {
        samples: samples.length,
        samplesAfterWarmUp: after.length,
        rssStartMiB: (after[0]?.rss ?? Number.NaN) / mib,
        rssEndMiB: (after.at(-1)?.rss ?? Number.NaN) / mib,
        heapStartMiB: (after[0]?.heapUsed ?? Number.NaN) / mib,
        heapEndMiB: (after.at(-1)?.heapUsed ?? Number.NaN) / mib,
        rssSlopeMiBPerHour: bytesPerHour(samples.map((s) => ({ atMs: s.atMs, bytes: s.rss })), fromMs) / mib,
        heapSlopeMiBPerHour: bytesPerHour(samples.map((s) => ({ atMs: s.atMs, bytes: s.heapUsed })), fromMs) / mib,
      },
      latency: { allRequestsP50Ms: quantile(allRequests, 0.5), allRequestsP99Ms: quantile(allRequests, 0.99), calls },
      rawSamples: samples,
    };
    printSummary(report);
    const stamp = new Date().toISOString().replace(/[:.]/g, '-');
    const outDir = new URL('./results/', import.meta.url);
    mkdirSync(outDir, { recursive: true });
    writeFileSync(new URL(`soak-${stamp}.json`, outDir), JSON.stringify(report, null, 2));
    console.log(`\nWrote bench/results/soak-${stamp}.json`);
  } finally {
    if (child.connected) child.send('stop');
    const killer = setTimeout(() => child.kill('SIGKILL'), 20_000);
    await exited;
    clearTimeout(killer);
    const redis = createRedis(redisUrl);
    await deleteByPrefix(redis, prefix);
    redis.disconnect();
    await admin`drop schema if exists ${admin(schema)} cascade`;
    await admin.end({ timeout: 5 });
  }
}

function printSummary(r: {
  seconds: number;
  requestsPerSecond: number;
  memory: Record<string, number>;
  latency: { allRequestsP50Ms: number; allRequestsP99Ms: number; calls: Record<string, { count: number; failures: number; p50Ms: number; p99Ms: number }> };
}): void {
  const f = (n: number, d = 1) => (Number.isFinite(n) ? n.toFixed(d) : String(n));
  const m = r.memory;
  console.log(`\nSoak summary (${f(r.seconds / 60)} min, ${f(r.requestsPerSecond)} requests/s)`);
  console.log(`  RSS   ${f(m.rssStartMiB ?? NaN)} → ${f(m.rssEndMiB ?? NaN)} MiB after warm-up; slope ${f(m.rssSlopeMiBPerHour ?? NaN)} MiB/hour`);
  console.log(`  heap  ${f(m.heapStartMiB ?? NaN)} → ${f(m.heapEndMiB ?? NaN)} MiB after warm-up; slope ${f(m.heapSlopeMiBPerHour ?? NaN)} MiB/hour`);
  console.log(`  latency, all requests: p50 ${f(r.latency.allRequestsP50Ms, 2)} ms, p99 ${f(r.latency.allRequestsP99Ms, 2)} ms`);
  for (const [name, c] of Object.entries(r.latency.calls)) {
    console.log(`  ${name.padEnd(28)} ${String(c.count).padStart(8)} calls  ${String(c.failures).padStart(5)} failed  p50 ${f(c.p50Ms, 2).padStart(8)} ms  p99 ${f(c.p99Ms, 2).padStart(8)} ms`);
  }
}

await main();
process.exit(0);
