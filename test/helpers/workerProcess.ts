import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import type { TestDb } from './testDb.js';
import type { TestRedis } from './testRedis.js';

/** A job runtime in a process of its own (test/fixtures/runtimeProcess.ts), as a test drives it. */
export interface WorkerProcess {
  process: ChildProcess;
  /** The runtime's process id, as its claims name their holder. */
  processId: string;
  /** What it wrote to stderr (its runtime errors). */
  stderr: string[];
}

/** Starts a worker process on the test's schema and key prefix; resolves once it takes jobs. */
export async function startWorkerProcess(
  db: Pick<TestDb, 'url' | 'schema'>,
  redis: Pick<TestRedis, 'url' | 'prefix'>,
  options: { workers: number; leaseSeconds: number; heartbeatSeconds: number },
): Promise<WorkerProcess> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'test/fixtures/runtimeProcess.ts'], {
    env: {
      ...process.env,
      DATABASE_URL: db.url,
      DB_SCHEMA: db.schema,
      REDIS_URL: redis.url,
      KEY_PREFIX: redis.prefix,
      WORKERS: String(options.workers),
      LEASE_SECONDS: String(options.leaseSeconds),
      HEARTBEAT_SECONDS: String(options.heartbeatSeconds),
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const stderr: string[] = [];
  child.stderr?.on('data', (chunk: Buffer) => stderr.push(chunk.toString()));
  const lines = createInterface({ input: child.stdout as NodeJS.ReadableStream });
  for await (const line of lines) {
    const ready = /^ready (\S+)$/.exec(line);
    if (ready?.[1]) return { process: child, processId: ready[1], stderr };
  }
  throw new Error(`worker process exited before it was ready: ${stderr.join('')}`);
}
