import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { Redis } from 'ioredis';
import postgres from 'postgres';

export const TEST_REDIS_URL = process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';
export const TEST_DATABASE_URL = process.env.TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';

async function redisAnswers(): Promise<boolean> {
  const r = new Redis(TEST_REDIS_URL, { lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null });
  r.on('error', () => {});
  try {
    await r.connect();
    return (await r.ping()) === 'PONG';
  } catch {
    return false;
  } finally {
    r.disconnect();
  }
}

async function postgresAnswers(): Promise<boolean> {
  const sql = postgres(TEST_DATABASE_URL, { max: 1, connect_timeout: 3, onnotice: () => {} });
  try {
    await sql`select 1`;
    return true;
  } catch {
    return false;
  } finally {
    await sql.end({ timeout: 1 });
  }
}

function tryRun(cmd: string, args: string[]): void {
  try {
    execFileSync(cmd, args, { stdio: 'ignore', timeout: 30_000 });
  } catch {
    // The caller checks again and explains what to do.
  }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function waitFor(check: () => Promise<boolean>, tries = 20): Promise<boolean> {
  for (let i = 0; i < tries; i++) {
    if (await check()) return true;
    await sleep(250);
  }
  return false;
}

/**
 * Integration tests need real Redis and PostgreSQL. Start the installed servers when they are stopped;
 * otherwise stop with a message that says what to do.
 */
export async function ensureServices(): Promise<void> {
  if (!(await redisAnswers()) && existsSync('/usr/bin/redis-server')) {
    tryRun('redis-server', ['--daemonize', 'yes', '--bind', '127.0.0.1', '--port', '6379', '--save', '', '--appendonly', 'no']);
  }
  if (!(await postgresAnswers()) && existsSync('/etc/postgresql')) {
    for (const version of readdirSync('/etc/postgresql')) {
      tryRun('pg_ctlcluster', ['--skip-systemctl-redirect', version, 'main', 'start']);
    }
  }
  const problems: string[] = [];
  if (!(await waitFor(redisAnswers))) {
    problems.push(`Redis does not answer at ${TEST_REDIS_URL}: install redis-server (apt-get install redis-server) and start it, or set TEST_REDIS_URL.`);
  }
  if (!(await waitFor(postgresAnswers))) {
    problems.push(`PostgreSQL does not answer at ${TEST_DATABASE_URL}: install postgresql (apt-get install postgresql), start it with trust auth for 127.0.0.1 and a database "test", or set TEST_DATABASE_URL.`);
  }
  if (problems.length > 0) throw new Error(`Integration tests need real services.\n${problems.join('\n')}`);
}

/**
 * Drops what test files left behind (a helper called inside a hook cannot register its own cleanup, and
 * a killed run cleans nothing): every `t_*` schema and `t:*` key, which only tests create. Only under
 * CI=true: on a developer's machine another test run may be using them at the same time.
 */
async function removeTestLeftovers(): Promise<void> {
  const sql = postgres(TEST_DATABASE_URL, { max: 1, onnotice: () => {} });
  try {
    const schemas = await sql<{ name: string }[]>`select nspname as name from pg_namespace where nspname like 't\_%'`;
    for (const { name } of schemas) await sql`drop schema if exists ${sql(name)} cascade`;
  } finally {
    await sql.end({ timeout: 5 });
  }
  const redis = new Redis(TEST_REDIS_URL, { maxRetriesPerRequest: 1 });
  try {
    let cursor = '0';
    do {
      const [next, found] = await redis.scan(cursor, 'MATCH', 't:*', 'COUNT', 1000);
      cursor = next;
      if (found.length > 0) await redis.unlink(...found);
    } while (cursor !== '0');
  } finally {
    redis.disconnect();
  }
}

export default async function globalSetup(): Promise<() => Promise<void>> {
  await ensureServices();
  return process.env.CI ? removeTestLeftovers : async () => {};
}
