import { randomUUID } from 'node:crypto';
import type { Redis } from 'ioredis';
import { afterAll } from 'vitest';
import { createRedis } from '../../src/redis/client.js';
import { deleteByPrefix } from '../../src/redis/deleteByPrefix.js';
import { createKeys, type Keys } from '../../src/redis/keys.js';
import { TEST_REDIS_URL } from '../setup/services.js';

export interface TestRedis {
  url: string;
  redis: Redis;
  prefix: string;
  keys: Keys;
  /** Deletes every key under this file's prefix. */
  flush(): Promise<void>;
}

/**
 * A Redis connection and a key prefix that belong to one test file, so files run in parallel on one
 * server. Keys are removed and the connection closed after the file.
 */
export function useTestRedis(label = 'test'): TestRedis {
  const prefix = `t:${label}:${randomUUID().slice(0, 8)}:`;
  const redis = createRedis(TEST_REDIS_URL);
  const flush = async () => {
    await deleteByPrefix(redis, prefix);
  };
  afterAll(async () => {
    await flush();
    redis.disconnect();
  });
  return { url: TEST_REDIS_URL, redis, prefix, keys: createKeys(prefix), flush };
}
