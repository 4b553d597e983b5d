/**
 * SSE fan-out: 1,000 typed-client subscribers follow one job's events (jobs.events over SSE) while it
 * runs; delivery latency is the time from an event's timestamp (its acceptance, whole ms) to its arrival
 * at each subscriber. The subscribers run in child processes (bench/lib/fanoutSubscribers.ts), so the
 * server's event loop is its own; the machine's 2 cores are still shared, so the figure includes the
 * subscribers' parsing competing for CPU.
 * Profile the children with BENCH_CHILD_CPU_PROF=<dir> (node --cpu-prof in each).
 */
import { randomUUID } from 'node:crypto';
import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import * as hdr from 'hdr-histogram-js';
import { fileURLToPath } from 'node:url';
import { z } from 'zod';
import postgres from 'postgres';
import { createApp } from '../../src/app.js';
import { secretKey, signToken } from '../../src/auth/tokens.js';
import { createWardenClient } from '../../src/client.js';
import { systemClock } from '../../src/clock.js';
import { loadConfig } from '../../src/config.js';
import type { StepHandlers } from '../../src/jobs/stepHandlers.js';
import { createLogger } from '../../src/log.js';
import { createRedis } from '../../src/redis/client.js';
import { deleteByPrefix } from '../../src/redis/deleteByPrefix.js';
import { isMain, runStandalone, type Metric, type Scenario } from '../lib/scenario.js';

/**
 * The subscribers' parsing costs more CPU than the server's writes, but on 2 shared cores a second
 * subscriber process measured worse (more processes competing), so one.
 */
const SUBSCRIBER_PROCESSES = 1;
const connectedLine = z.object({ connected: z.number() });
const measuringLine = z.object({ measuring: z.literal(true) });
const summaryLine = z.object({ finished: z.number(), latenciesUs: z.array(z.number()) });

interface Subscribers {
  /** The next JSON line of the child (its protocol: bench/lib/fanoutSubscribers.ts). */
  next(ms: number, what: string): Promise<unknown>;
  send(line: string): void;
  /** Closes its stdin (it exits), killing it after 5 s if it does not. */
  stop(): Promise<void>;
}

function startSubscribers(options: { url: string; token: string; jobId: string; subscribers: number }): Subscribers {
  const profile = process.env.BENCH_CHILD_CPU_PROF;
  const child = spawn(
    process.execPath,
    [
      ...(profile ? ['--cpu-prof', `--cpu-prof-dir=${profile}`] : []),
      '--import',
      'tsx',
      fileURLToPath(new URL('../lib/fanoutSubscribers.ts', import.meta.url)),
    ],
    {
      env: {
        ...process.env,
        WARDEN_URL: options.url,
        WARDEN_TOKEN: options.token,
        JOB_ID: options.jobId,
        SUBSCRIBERS: String(options.subscribers),
      },
      stdio: ['pipe', 'pipe', 'inherit'],
    },
  );
  const lines = createInterface({ input: child.stdout });
  const exited = new Promise<never>((_, reject) =>
    child.once('exit', (code) => reject(new Error(`fanout subscribers exited early (code ${code})`))),
  );
  exited.catch(() => {});
  return {
    // Lines come one at a time, each after a step of ours, so a listener is always in place first.
    async next(ms, what) {
      const line = new Promise<string>((resolve) => lines.once('line', resolve));
      const timeout = new Promise<never>((_, reject) =>
        setTimeout(() => reject(new Error(`fanout: ${what} within ${ms} ms`)), ms).unref(),
      );
      return JSON.parse(await Promise.race([line, exited, timeout])) as unknown;
    },
    send(line) {
      child.stdin.write(`${line}\n`);
    },
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      const gone = new Promise((resolve) => child.once('exit', resolve));
      child.stdin.end();
      const timer = setTimeout(() => child.kill(), 5_000);
      await gone;
      clearTimeout(timer);
    },
  };
}

export const fanoutScenario: Scenario = {
  name: 'fanout',
  description: "SSE fan-out of one job's events to 1,000 subscribers: delivery latency",
  async run(ctx) {
    const subscribers = Math.max(100, Math.round(1000 * ctx.scale));
    const id = randomUUID().slice(0, 8);
    const schema = `bench_fanout_${id}`;
    const keyPrefix = `bench:fanout:${id}:`;
    const secret = 'bench-secret-0123456789abcdefghij';
    const admin = postgres(ctx.databaseUrl, { max: 1, onnotice: () => {} });
    await admin`create schema ${admin(schema)}`;
    // The job waits at scaffold until every subscriber is connected, then runs its steps back to back.
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    const pass = async () => ({ ok: true as const });
    const stepHandlers: StepHandlers = { scaffold: () => gate.then(pass), code: pass, deps: pass, checks: pass };
    const config = loadConfig({
      DATABASE_URL: ctx.databaseUrl,
      REDIS_URL: ctx.redisUrl,
      WARDEN_KEY_PREFIX: keyPrefix,
      WARDEN_SECRET: secret,
      WARDEN_WORKERS: '1',
      WARDEN_RISK_SCAN_SECONDS: '0',
      // 1,000 streams of one user on one process: past the default connection and per-user stream caps.
      WARDEN_MAX_CONNECTIONS: '0',
      WARDEN_MAX_STREAMS_PER_USER: '0',
      LOG_LEVEL: 'silent',
    });
    const app = await createApp(config, { schema, log: createLogger({ level: 'silent' }), stepHandlers });
    let children: Subscribers[] = [];
    try {
      const { url } = await app.listen(0, '127.0.0.1');
      await app.services.usersRepository.upsertUser({ id: 'fan', tier: 'cto_scale', now: systemClock.now() });
      const token = await signToken(secretKey(secret), { userId: 'fan', ttlSeconds: 3600, clock: systemClock });
      const owner = createWardenClient({ url, token });
      const { projectId } = await owner.projects.create.mutate({ name: 'fanout' });
      const { jobId } = await owner.jobs.submit.mutate({ projectId, goal: 'fan out' });

      ctx.progress(`connecting ${subscribers} subscribers (${SUBSCRIBER_PROCESSES} child process${SUBSCRIBER_PROCESSES === 1 ? '' : 'es'})`);
      const shares = Array.from({ length: SUBSCRIBER_PROCESSES }, (_, i) =>
        Math.floor(subscribers / SUBSCRIBER_PROCESSES) + (i < subscribers % SUBSCRIBER_PROCESSES ? 1 : 0),
      );
      children = shares.map((share) => startSubscribers({ url, token, jobId, subscribers: share }));
      const all = <T>(ms: number, what: string, schema: z.ZodType<T>) =>
        Promise.all(children.map(async (c) => schema.parse(await c.next(ms, what))));
      await all(60_000, 'subscribers connected', connectedLine);
      for (const c of children) c.send('go');
      await all(10_000, 'subscribers ready to measure', measuringLine);
      ctx.progress('running the job');
      release();
      const summaries = await all(60_000, 'every subscriber saw the end', summaryLine);
      const histogram = hdr.build({ lowestDiscernibleValue: 1, highestTrackableValue: 600_000_000, numberOfSignificantValueDigits: 3 });
      for (const summary of summaries) for (const us of summary.latenciesUs) histogram.recordValue(us);
      const ms = (q: number) => histogram.getValueAtPercentile(q) / 1000;
      const metrics: Metric[] = [
        { name: 'subscribers', value: subscribers, unit: 'SSE streams' },
        { name: 'deliveries measured', value: histogram.totalCount, unit: 'events' },
        { name: 'delivery p50', value: ms(50), unit: 'ms', better: 'lower' },
        { name: 'delivery p99', value: ms(99), unit: 'ms', better: 'lower' },
      ];
      return metrics;
    } finally {
      await Promise.all(children.map((c) => c.stop()));
      await app.close();
      const redis = createRedis(ctx.redisUrl);
      await deleteByPrefix(redis, keyPrefix);
      redis.disconnect();
      await admin`drop schema if exists ${admin(schema)} cascade`;
      await admin.end({ timeout: 5 });
    }
  },
};

if (isMain(import.meta.url)) await runStandalone(fanoutScenario);
