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
 * The count walks a partial index that shrinks as jobs finish, so polling costs PostgreSQL little CPU
 * beside the work measured.
 */
export async function waitForUnfinished(sql: Sql, atMost: number, timeoutMs: number): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  for (;;) {
    const [row] = await sql<{ n: number }[]>`select count(*)::int as n from jobs where finished_at is null`;
    const unfinished = row?.n ?? 0;
    if (unfinished <= atMost) return;
    if (performance.now() > deadline) throw new Error(`${unfinished} jobs still unfinished after ${timeoutMs} ms (waiting for ${atMost})`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

/** Polls until every job in the schema is terminal (the scenario has submitted all of them). */
export async function waitForTerminal(sql: Sql, timeoutMs: number): Promise<void> {
  await waitForUnfinished(sql, 0, timeoutMs);
}
