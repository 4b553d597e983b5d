import { randomUUID } from 'node:crypto';
import postgres from 'postgres';
import type { Redis } from 'ioredis';
import { systemClock, type Clock } from '../../src/clock.js';
import { createCommitSql, createSql, type Sql } from '../../src/db/client.js';
import { migrate } from '../../src/db/migrate.js';
import { DEFAULT_TIERS, type TierName } from '../../src/domain/tiers.js';
import { createJobRuntime, type JobRuntimeOptions } from '../../src/jobs/createJobRuntime.js';
import { createRedis } from '../../src/redis/client.js';
import { createRedisStores } from '../../src/redis/createRedisStores.js';
import { deleteByPrefix } from '../../src/redis/deleteByPrefix.js';
import type { HotStores } from '../../src/redis/hotStores.js';
import { createKeys, type Keys } from '../../src/redis/keys.js';
import type { BenchContext } from './scenario.js';

/** Runtime settings for benches: no demo wait, no random failure, no queue cap in the way. */
export const BENCH_RUNTIME_CONFIG = {
  workers: 0,
  stepMs: 0,
  checksFailRate: 0,
  leaseSeconds: 60,
  heartbeatSeconds: 20,
  queueCap: 1_000_000,
  maxJobAgeHours: 72,
  midnightJitterSeconds: 300,
  tiers: DEFAULT_TIERS,
};

export interface BenchOwner {
  id: string;
  tier: TierName;
  projects: string[];
}

/** A fresh schema and key prefix on the real servers, with the hot stores; close() removes both. */
export interface BenchEnv {
  sql: Sql;
  redis: Redis;
  keys: Keys;
  stores: HotStores;
  schema: string;
  prefix: string;
  runtime(options: Partial<Omit<JobRuntimeOptions, 'sql' | 'stores'>> & { workers?: number }): ReturnType<typeof createJobRuntime>;
  seedOwners(count: number, tier: TierName, projectsPerUser: number): Promise<BenchOwner[]>;
  close(): Promise<void>;
}

export async function openBenchEnv(ctx: BenchContext, label: string, clock: Clock = systemClock): Promise<BenchEnv> {
  const schema = `bench_${label}_${randomUUID().slice(0, 8)}`;
  const prefix = `bench-${label}-${randomUUID().slice(0, 8)}:`;
  const admin = postgres(ctx.databaseUrl, { max: 1, onnotice: () => {} });
  await admin`create schema ${admin(schema)}`;
  const sql = createSql(ctx.databaseUrl, { schema, max: 10 });
  // As the server runs it (src/app.ts): the group commit on its own connections with generic plans.
  const commitSql = createCommitSql(ctx.databaseUrl, { schema });
  await migrate(sql);
  const redis = createRedis(ctx.redisUrl);
  const keys = createKeys(prefix);
  const stores = createRedisStores({ redis, keys, clock, subscriberUrl: ctx.redisUrl });
  // The hot state is current, as a running deployment's is: without an epoch, the first runtime to start
  // would rebuild it from PostgreSQL (requeue every submitted job) inside the measured window.
  await stores.epoch.write(`bench-${randomUUID()}`);
  const runtimes: ReturnType<typeof createJobRuntime>[] = [];
  return {
    sql,
    redis,
    keys,
    stores,
    schema,
    prefix,
    runtime({ workers = 0, config, ...rest }) {
      const runtime = createJobRuntime({ sql, commitSql, stores, clock, config: { ...BENCH_RUNTIME_CONFIG, ...config, workers }, ...rest });
      runtimes.push(runtime);
      return runtime;
    },
    async seedOwners(count, tier, projectsPerUser) {
      const now = new Date(clock.now());
      const users = Array.from({ length: count }, (_, u) => ({ id: `${label}-${u}`, tier, token_budget_override: null, is_admin: false, created_at: now, updated_at: now }));
      for (let i = 0; i < users.length; i += 1000) await sql`insert into users ${sql(users.slice(i, i + 1000))}`;
      const owners: BenchOwner[] = users.map((u) => ({ id: u.id, tier, projects: [] }));
      const projects = owners.flatMap((o) =>
        Array.from({ length: projectsPerUser }, (_, p) => {
          const id = randomUUID();
          o.projects.push(id);
          return { id, owner_id: o.id, name: `p${p}`, created_at: now, last_activity_at: now };
        }),
      );
      for (let i = 0; i < projects.length; i += 1000) await sql`insert into projects ${sql(projects.slice(i, i + 1000))}`;
      return owners;
    },
    async close() {
      await Promise.all(runtimes.map((r) => r.stop()));
      await stores.close();
      await commitSql.end({ timeout: 5 });
      await sql.end({ timeout: 5 });
      await deleteByPrefix(redis, prefix);
      redis.disconnect();
      await admin`drop schema if exists ${admin(schema)} cascade`;
      await admin.end({ timeout: 5 });
    },
  };
}

/**
 * Polls until at most `atMost` jobs in the schema are unfinished; benches may use timers, tests never do.
 * Each poll counts the unfinished jobs, 2–8 ms of PostgreSQL with thousands left, so it sleeps for half
 * the time the rest should take at the rate seen (20–500 ms): polled every 20 ms throughout, the count
 * took ≈ 5 % of the CPU the bench measures and was charged to PostgreSQL's CPU per job. Near the end it
 * polls every 20 ms, so the measured window closes as precisely as before.
 */
export async function waitForUnfinished(sql: Sql, atMost: number, timeoutMs: number): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  let previous: { unfinished: number; at: number } | null = null;
  for (;;) {
    const [row] = await sql<{ n: number }[]>`select count(*)::int as n from jobs where finished_at is null`;
    const unfinished = row?.n ?? 0;
    const now = performance.now();
    if (unfinished <= atMost) return;
    if (now > deadline) throw new Error(`${unfinished} jobs still unfinished after ${timeoutMs} ms (waiting for ${atMost})`);
    const perMs = previous && unfinished < previous.unfinished ? (previous.unfinished - unfinished) / (now - previous.at) : 0;
    const remainingMs = perMs > 0 ? (unfinished - atMost) / perMs : 0;
    previous = { unfinished, at: now };
    await new Promise((resolve) => setTimeout(resolve, Math.min(500, Math.max(20, remainingMs / 2))));
  }
}

/** Polls until every job in the schema is terminal (the scenario has submitted all of them). */
export async function waitForTerminal(sql: Sql, timeoutMs: number): Promise<void> {
  await waitForUnfinished(sql, 0, timeoutMs);
}
