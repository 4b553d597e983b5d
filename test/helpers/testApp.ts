import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll } from 'vitest';
import { createApp, type AppOptions, type WardenApp } from '../../src/app.js';
import { secretKey, signToken } from '../../src/auth/tokens.js';
import { createWardenClient, type WardenClient } from '../../src/client.js';
import { systemClock, type Clock } from '../../src/clock.js';
import { loadConfig, type WardenConfig } from '../../src/config.js';
import type { TierName } from '../../src/domain/tiers.js';
import { useTestDb, type TestDb } from './testDb.js';
import { useTestRedis, type TestRedis } from './testRedis.js';

/**
 * The environment of a Warden server a test starts as its own process, on the test's schema and key
 * prefix: a free port on loopback, short demo steps whose checks always pass (a job's events are known
 * exactly), no periodic risk scan.
 */
export function spawnedServerEnv(db: Pick<TestDb, 'url' | 'schema'>, redis: Pick<TestRedis, 'url' | 'prefix'>): NodeJS.ProcessEnv {
  return {
    DATABASE_URL: `${db.url}?search_path=${db.schema}`,
    REDIS_URL: redis.url,
    WARDEN_KEY_PREFIX: redis.prefix,
    WARDEN_SECRET: TEST_SECRET,
    HOST: '127.0.0.1',
    PORT: '0',
    LOG_LEVEL: 'warn',
    WARDEN_STEP_MS: '5',
    WARDEN_CHECKS_FAIL_RATE: '0',
    WARDEN_RISK_SCAN_SECONDS: '0',
  };
}

/** The signing secret of every test app. */
export const TEST_SECRET = 'test-secret-please-ignore-0123456789';

export interface TestApp {
  app: WardenApp;
  /** Base URL, e.g. http://127.0.0.1:43121 */
  url: string;
  config: WardenConfig;
  db: TestDb;
  redis: TestRedis;
  /** Stores the user (tier, admin flag) and returns a valid token for them. */
  tokenFor(userId: string, options?: { tier?: TierName; admin?: boolean }): Promise<string>;
  /** The typed client with that token. */
  clientFor(token?: string): WardenClient;
}

export interface TestAppOptions extends Omit<AppOptions, 'schema' | 'clock'> {
  clock?: Clock;
  /** Extra environment, e.g. WARDEN_QUEUE_CAP. */
  env?: Record<string, string>;
}

/**
 * Warden on a free port against the real Redis and PostgreSQL, with this file's own key prefix and
 * schema; closed after the file (before the schema is dropped: vitest runs afterAll hooks in reverse).
 */
export async function startTestApp(label: string, options: TestAppOptions = {}): Promise<TestApp> {
  const db = await useTestDb(label);
  const redis = useTestRedis(label);
  const clock = options.clock ?? systemClock;
  const dataDir = mkdtempSync(join(tmpdir(), 'warden-test-'));
  afterAll(() => rmSync(dataDir, { recursive: true, force: true }));
  const config = loadConfig({
    DATABASE_URL: db.url,
    REDIS_URL: redis.url,
    WARDEN_KEY_PREFIX: redis.prefix,
    WARDEN_SECRET: TEST_SECRET,
    WARDEN_DATA_DIR: dataDir,
    LOG_LEVEL: 'silent',
    ...options.env,
  });
  const { env: _env, ...appOptions } = options;
  const app = await createApp(config, { ...appOptions, clock, schema: db.schema });
  afterAll(() => app.close());
  const { url } = await app.listen(0, '127.0.0.1');
  const key = secretKey(TEST_SECRET);
  return {
    app,
    url,
    config,
    db,
    redis,
    async tokenFor(userId, { tier = 'partner', admin = false } = {}) {
      const row = await app.services.usersRepository.upsertUser({ id: userId, tier, isAdmin: admin, now: clock.now() });
      app.services.users.invalidate(userId);
      return signToken(key, { userId, admin, tokenVersion: row.tokenVersion, ttlSeconds: 3600, clock });
    },
    clientFor: (token) => createWardenClient({ url, ...(token === undefined ? {} : { token }) }),
  };
}
