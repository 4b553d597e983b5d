import type { Redis } from 'ioredis';

/**
 * Deletes every key under `prefix` with SCAN + UNLINK (never KEYS, which blocks Redis). For tests and
 * benches that own a prefix, and for tearing down a Warden instance's keys.
 */
export async function deleteByPrefix(redis: Redis, prefix: string, count = 1000): Promise<number> {
  let cursor = '0';
  let deleted = 0;
  do {
    const [next, found] = await redis.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', count);
    cursor = next;
    if (found.length > 0) deleted += await redis.unlink(...found);
  } while (cursor !== '0');
  return deleted;
}
