/**
 * SSE fan-out: 1,000 typed-client subscribers follow one job's events (jobs.events over SSE) while it
 * runs; delivery latency is the time from an event's timestamp (its acceptance, whole ms) to its arrival
 * at each subscriber. Server and subscribers share this process (and the machine's 2 cores), so the
 * figure includes the subscribers' own parsing.
 */
import { randomUUID } from 'node:crypto';
import * as hdr from 'hdr-histogram-js';
import postgres from 'postgres';
import { createApp } from '../../src/app.js';
import { secretKey, signToken } from '../../src/auth/tokens.js';
import { createWardenClient, type WardenClient } from '../../src/client.js';
import { systemClock } from '../../src/clock.js';
import { loadConfig } from '../../src/config.js';
import type { StepHandlers } from '../../src/jobs/stepHandlers.js';
import { createLogger } from '../../src/log.js';
import { createRedis } from '../../src/redis/client.js';
import { isMain, runStandalone, type Metric, type Scenario } from '../lib/scenario.js';

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
      LOG_LEVEL: 'silent',
    });
    const app = await createApp(config, { schema, log: createLogger({ level: 'silent' }), stepHandlers });
    const clients: WardenClient[] = [];
    const subscriptions: { unsubscribe(): void }[] = [];
    try {
      const { url } = await app.listen(0, '127.0.0.1');
      await app.services.usersRepository.upsertUser({ id: 'fan', tier: 'cto_scale', now: systemClock.now() });
      const token = await signToken(secretKey(secret), { userId: 'fan', ttlSeconds: 3600, clock: systemClock });
      const owner = createWardenClient({ url, token });
      const { projectId } = await owner.projects.create.mutate({ name: 'fanout' });
      const { jobId } = await owner.jobs.submit.mutate({ projectId, goal: 'fan out' });

      const histogram = hdr.build({ lowestDiscernibleValue: 1, highestTrackableValue: 600_000, numberOfSignificantValueDigits: 3 });
      let connected = 0;
      let finished = 0;
      let allConnected!: () => void;
      let allFinished!: () => void;
      const connectedAll = new Promise<void>((resolve) => (allConnected = resolve));
      const finishedAll = new Promise<void>((resolve) => (allFinished = resolve));
      let released = false;
      ctx.progress(`connecting ${subscribers} subscribers`);
      for (let i = 0; i < subscribers; i++) {
        const client = createWardenClient({ url, token });
        clients.push(client);
        let first = true;
        subscriptions.push(
          client.jobs.events.subscribe(
            { jobId },
            {
              onData: ({ data }) => {
                if (first) {
                  first = false;
                  if (++connected === subscribers) allConnected();
                } else if (released) {
                  histogram.recordValue(Math.max(1, Math.round((Date.now() - Date.parse(data.timestamp)) * 1000)));
                }
                if (data.status === 'ready' || data.status === 'failed') {
                  if (++finished === subscribers) allFinished();
                }
              },
            },
          ),
        );
      }
      const deadline = (ms: number, what: string) =>
        new Promise<never>((_, reject) => setTimeout(() => reject(new Error(`fanout: ${what} within ${ms} ms`)), ms).unref());
      await Promise.race([connectedAll, deadline(60_000, `only ${connected} subscribers connected`)]);
      ctx.progress('running the job');
      released = true;
      release();
      await Promise.race([finishedAll, deadline(60_000, `only ${finished} subscribers saw the end`)]);
      const ms = (q: number) => histogram.getValueAtPercentile(q) / 1000;
      const metrics: Metric[] = [
        { name: 'subscribers', value: subscribers, unit: 'SSE streams' },
        { name: 'deliveries measured', value: histogram.totalCount, unit: 'events' },
        { name: 'delivery p50', value: ms(50), unit: 'ms', better: 'lower' },
        { name: 'delivery p99', value: ms(99), unit: 'ms', better: 'lower' },
      ];
      return metrics;
    } finally {
      for (const s of subscriptions) s.unsubscribe();
      await app.close();
      const redis = createRedis(ctx.redisUrl);
      const keys = await redis.keys(`${keyPrefix}*`);
      if (keys.length > 0) await redis.del(...keys);
      redis.disconnect();
      await admin`drop schema if exists ${admin(schema)} cascade`;
      await admin.end({ timeout: 5 });
    }
  },
};

if (isMain(import.meta.url)) await runStandalone(fanoutScenario);
