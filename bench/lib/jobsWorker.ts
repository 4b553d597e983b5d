/**
 * One worker process of the jobs bench (bench/scenarios/jobs.ts): a job runtime with the demo step
 * handlers at 0 ms, on the bench's schema and key prefix. Prints `ready` once connected, starts taking
 * jobs when it reads `go` on stdin, and stops gracefully on SIGTERM.
 *   env: DATABASE_URL, DB_SCHEMA, REDIS_URL, KEY_PREFIX, WORKERS; BENCH_ALLOC_PROFILE=<file> samples every
 *   allocation from `go` to SIGTERM, garbage included (what --heap-prof leaves out), into a .heapprofile.
 */
import { writeFileSync } from 'node:fs';
import { Session } from 'node:inspector/promises';
import { createInterface } from 'node:readline';
import { z } from 'zod';
import { systemClock } from '../../src/clock.js';
import { createCommitSql, createSql } from '../../src/db/client.js';
import { BENCH_RUNTIME_CONFIG } from './benchEnv.js';
import { createJobRuntime } from '../../src/jobs/createJobRuntime.js';
import { createRedis } from '../../src/redis/client.js';
import { createRedisStores } from '../../src/redis/createRedisStores.js';
import { createKeys } from '../../src/redis/keys.js';

const env = z
  .object({ DATABASE_URL: z.string(), DB_SCHEMA: z.string(), REDIS_URL: z.string(), KEY_PREFIX: z.string(), WORKERS: z.coerce.number().int().positive() })
  .parse(process.env);

const sql = createSql(env.DATABASE_URL, { schema: env.DB_SCHEMA, max: 8 });
const redis = createRedis(env.REDIS_URL);
const keys = createKeys(env.KEY_PREFIX);
const stores = createRedisStores({ redis, keys, clock: systemClock });
const commitSql = createCommitSql(env.DATABASE_URL, { schema: env.DB_SCHEMA });
const runtime = createJobRuntime({
  sql,
  commitSql,
  stores,
  config: { ...BENCH_RUNTIME_CONFIG, workers: env.WORKERS },
  onError: (error, context) => process.stderr.write(`[${context.during}] ${String(error)}\n`),
});
const allocationFile = process.env.BENCH_ALLOC_PROFILE;
const inspector = allocationFile ? new Session() : null;
async function startAllocationSampling(): Promise<void> {
  if (!inspector) return;
  inspector.connect();
  await inspector.post('HeapProfiler.startSampling', {
    samplingInterval: 16_384,
    includeObjectsCollectedByMajorGC: true,
    includeObjectsCollectedByMinorGC: true,
  });
}
async function stopAllocationSampling(): Promise<void> {
  if (!inspector || !allocationFile) return;
  const { profile } = await inspector.post('HeapProfiler.stopSampling');
  writeFileSync(`${allocationFile}.${process.pid}.heapprofile`, JSON.stringify(profile));
}

process.stdout.write('ready\n');
for await (const line of createInterface({ input: process.stdin })) {
  if (line.trim() === 'go') {
    await startAllocationSampling();
    await runtime.start();
    break;
  }
}
process.once('SIGTERM', () => {
  void (async () => {
    await runtime.stop();
    await stopAllocationSampling();
    await stores.close();
    await commitSql.end({ timeout: 5 });
    await sql.end({ timeout: 5 });
    await redis.quit();
    process.exit(0);
  })();
});
